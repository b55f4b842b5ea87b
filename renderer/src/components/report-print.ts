/**
 * Draws a PrintDocument (domain/reports-print.ts) into a tab the console opened (about:blank,
 * same origin) and opens its print dialog. Every text goes in as a text node; nothing is parsed
 * as HTML. The stylesheet is inline text (the console's CSP allows inline styles, no scripts).
 */
import type { PrintDocument } from '../domain/reports-print.ts';

const PRINT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; color: #1b1f24; background: #fff; font: 12px/1.4 system-ui, 'Noto Sans', 'Noto Sans CJK SC', sans-serif; }
h1 { margin: 0 0 10px; font-size: 16px; }
h2 { margin: 20px 0 8px; font-size: 14px; }
.verdict { padding: 12px 16px; border: 2px solid; border-radius: 8px; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.verdict.passed { color: #13703a; background: #e3f5e9; }
.verdict.failed { color: #b3261e; background: #fde8e6; }
.verdict strong { display: block; font-size: 28px; }
.task-error { color: #b3261e; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 0; }
dt { color: #5b6570; }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { padding: 2px 4px; border-bottom: 1px solid #d8dde3; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead { display: table-header-group; }
th:nth-child(1) { width: 14%; } th:nth-child(2) { width: 44%; } th:nth-child(3) { width: 10%; }
td:nth-child(2), td:nth-child(3) { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 11px; }
.scope, footer { color: #5b6570; }
footer { margin-top: 16px; }
@page { margin: 14mm; }
`;

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function pairs(doc: Document, items: Array<[string, string]>, test: string): HTMLDListElement {
  const dl = el(doc, 'dl', undefined, { 'data-test': test });
  for (const [k, v] of items) dl.append(el(doc, 'dt', k), el(doc, 'dd', v));
  return dl;
}

export function drawPrintDocument(tab: Window, model: PrintDocument): void {
  const doc = tab.document;
  doc.documentElement.lang = model.lang;
  doc.title = model.title;
  doc.head.replaceChildren(el(doc, 'meta', undefined, { charset: 'utf-8' }), el(doc, 'title', model.title), el(doc, 'style', PRINT_CSS));
  const verdict = el(doc, 'section', undefined, { class: `verdict ${model.verdict}`, 'data-test': 'print-verdict', 'data-verdict': model.verdict });
  verdict.append(el(doc, 'strong', model.verdictWord), el(doc, 'span', model.verdictNote));
  const table = el(doc, 'table', undefined, { 'data-test': 'print-problems' });
  const head = el(doc, 'tr');
  for (const c of model.columns) head.append(el(doc, 'th', c, { scope: 'col' }));
  table.append(el(doc, 'thead'));
  table.tHead?.append(head);
  const body = el(doc, 'tbody');
  for (const row of model.rows) {
    const tr = el(doc, 'tr', undefined, { 'data-test': 'print-row' });
    for (const cell of row) tr.append(el(doc, 'td', cell));
    body.append(tr);
  }
  table.append(body);
  doc.body.replaceChildren(
    el(doc, 'h1', model.title),
    verdict,
    ...(model.taskError ? [el(doc, 'p', model.taskError, { class: 'task-error' })] : []),
    pairs(doc, model.facts, 'print-facts'),
    pairs(doc, model.counts, 'print-counts'),
    el(doc, 'h2', model.problemsTitle),
    el(doc, 'p', model.scope, { class: 'scope', 'data-test': 'print-scope' }),
    table,
    el(doc, 'footer', model.footer),
  );
}

/** Opens a blank tab now, while the click still counts as the user's; null when the browser refused. */
export function openBlankTab(): Window | null {
  return window.open('', '_blank');
}

export function printTab(tab: Window): void {
  tab.focus();
  tab.print();
}
