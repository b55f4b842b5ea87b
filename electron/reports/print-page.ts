/**
 * The print-ready page of a report: what the desktop app prints to PDF (Electron's printToPDF in
 * electron/main.ts). Static HTML, no script: the verdict, facts, counts, reasons and a plain table
 * of the first PRINT_PAGE_MAX_ROWS problem entries (with a note when there are more; the CSV and
 * JSON exports carry every one). Its Content-Security-Policy allows only its own stylesheet by
 * hash, so the page can fetch, run or submit nothing. English, like the other exports.
 * Contract: every text from the report is escaped; the page is written through the given writer,
 * streaming the rows, so memory stays bounded by PRINT_PAGE_MAX_ROWS rows at most.
 */
import { createHash } from 'node:crypto';
import type { ProblemCategory, ReportHeader } from '../../agent/protocol/report.ts';
import type { ReportMeta } from '../contract/console.ts';
import type { AtomicFileWriter } from './atomic-writer.ts';
import { escapeHtml, summaryPageStart } from './html-export.ts';
import { eachStoredRecord } from './stored-report.ts';

/** Rows a printed report lists (about 150 A4 pages); the same cut as the HTML export's print table. */
export const PRINT_PAGE_MAX_ROWS = 5000;

export const PRINT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; color: #1b1f24; background: #fff; font: 11px/1.4 system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; }
h1 { margin: 0 0 8px; font-size: 13px; color: #5b6570; }
h2 { margin: 16px 0 6px; font-size: 13px; }
.verdict { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; padding: 10px 14px; border: 2px solid; border-radius: 8px; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.verdict.pass { color: #13703a; background: #e3f5e9; }
.verdict.fail { color: #b3261e; background: #fde8e6; }
.verdict-word { font-size: 26px; font-weight: 800; letter-spacing: .04em; }
.verdict-text { font-size: 13px; font-weight: 500; }
.task-error { color: #b3261e; font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0; }
.facts dt { color: #5b6570; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.counts { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin: 0; padding: 0; list-style: none; }
.count { border: 1px solid #d8dde3; border-radius: 6px; padding: 6px 8px; break-inside: avoid; }
.count .n { display: block; font-size: 15px; font-weight: 700; }
.count .label { color: #5b6570; }
.count .sub { display: block; color: #5b6570; font-size: 10px; }
.count.bad .n { color: #b3261e; }
.count.note .n { color: #8a5a00; }
table { border-collapse: collapse; }
td, th { padding: 2px 6px 2px 0; border-bottom: 1px solid #d8dde3; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.problems { width: 100%; table-layout: fixed; }
.problems thead { display: table-header-group; }
.problems tr { break-inside: avoid; }
.problems th:nth-child(1) { width: 14%; } .problems th:nth-child(2) { width: 8%; } .problems th:nth-child(3) { width: 46%; } .problems th:nth-child(4) { width: 10%; }
.path { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 10px; }
.note, footer { color: #5b6570; }
footer { margin-top: 12px; }
@page { size: A4; margin: 14mm; }
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
export const PRINT_CSP = `default-src 'none'; style-src ${sha256(PRINT_CSS)}; base-uri 'none'; form-action 'none'`;

const CATEGORY_LABEL: Record<ProblemCategory, string> = {
  skipped: 'Skipped',
  failed: 'Failed',
  changed: 'Changed while read',
  different: 'Different',
  missing: 'Missing',
  extra: 'Extra at destination',
  deleted: 'Deleted (mirror)',
  'would-copy': 'Would copy',
  'would-delete': 'Would delete',
};

export async function writePrintPage(out: AtomicFileWriter, reportFile: string, meta: ReportMeta, header: ReportHeader): Promise<void> {
  await out.write(pageHead(meta, header));
  let rows = 0;
  await eachStoredRecord(reportFile, (r) => {
    if (rows >= PRINT_PAGE_MAX_ROWS) return;
    rows++;
    const category = CATEGORY_LABEL[r.category];
    return out.write(`<tr><td>${escapeHtml(category)}</td><td>${escapeHtml(r.kind)}</td><td class="path">${escapeHtml(r.path.display)}</td><td>${escapeHtml(r.code)}</td><td>${escapeHtml(r.reason)}</td></tr>\n`);
  });
  const more = meta.problems - rows;
  await out.write('</tbody></table>\n');
  if (rows === 0) await out.write('<p class="note" data-testid="print-none">No problem entries.</p>\n');
  const cut = more > 0 ? ` Listed the first ${fmt(rows)} of ${fmt(meta.problems)} problem entries; the CSV and JSON exports have every one.` : '';
  await out.write(`<footer data-testid="print-footer">Printed by Ferry from report ${escapeHtml(meta.id)} (task ${escapeHtml(header.taskId)}).${cut}</footer>\n</body>\n</html>\n`);
}

function pageHead(meta: ReportMeta, header: ReportHeader): string {
  return `${summaryPageStart(meta, header, { csp: PRINT_CSP, css: PRINT_CSS, viewport: false })}<h2>Problem entries (${fmt(meta.problems)})</h2>
<table class="problems" data-testid="print-problems"><thead><tr><th>Category</th><th>Kind</th><th>Path</th><th>Code</th><th>Reason</th></tr></thead><tbody>
`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
