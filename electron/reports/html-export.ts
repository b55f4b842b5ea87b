/**
 * The HTML export of a report: one self-contained file, readable offline and printable (the web
 * console's PDF path). The summary is plain markup rendered here (verdict first); the problem entries
 * are embedded as JSON in a <script type="application/json"> block and shown by the inline viewer
 * (html-viewer.ts). A strict Content-Security-Policy meta tag allows only that stylesheet and script by
 * hash: nothing can be fetched, framed or submitted.
 * Contract: every text from the report is escaped (markup in text, JSON in the data block with '<',
 * '>', '&' and U+2028/9 escaped), so no file name can end the block or inject markup. Streams the rows,
 * so memory stays bounded by the page being written. Writes only through the given writer.
 */
import { createHash } from 'node:crypto';
import { ProblemCategory, type ReportHeader, type ReportSummary } from '../../agent/protocol/report.ts';
import type { ReportMeta } from '../contract/console.ts';
import type { AtomicFileWriter } from './atomic-writer.ts';
import { eachStoredRecord } from './stored-report.ts';
import { VIEWER_CSS, VIEWER_SCRIPT } from './html-viewer.ts';

/** Beyond this many rows the page would be too heavy for a browser; the rest is in the CSV/JSON exports. */
export const HTML_MAX_ROWS = 1_000_000;

const CATEGORIES = ProblemCategory.options;
const CATEGORY_CODE = new Map<string, number>(CATEGORIES.map((c, i) => [c, i]));

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
export const HTML_CSP = `default-src 'none'; script-src ${sha256(VIEWER_SCRIPT)}; style-src ${sha256(VIEWER_CSS)}; base-uri 'none'; form-action 'none'`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element: nothing in it can close the element or open a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function writeHtmlExport(out: AtomicFileWriter, reportFile: string, meta: ReportMeta, header: ReportHeader): Promise<void> {
  await out.write(pageHead(meta, header));
  await out.write(`<script type="application/json" id="ferry-report-data">{"categories":${jsonForScript(CATEGORIES)},"rows":[`);
  let rows = 0;
  await eachStoredRecord(reportFile, (r) => {
    if (rows >= HTML_MAX_ROWS) return;
    const row = [r.path.display, CATEGORY_CODE.get(r.category) ?? 0, r.kind, r.code, r.reason, r.path.rawBase64 ?? null];
    rows++;
    return out.write(`${rows > 1 ? ',' : ''}${jsonForScript(row)}`);
  });
  await out.write(']}</script>\n');
  const omitted = meta.problems - rows;
  if (omitted > 0) {
    await out.write(`<p class="note" data-testid="rows-omitted">${fmt(omitted)} more problem entries are not in this page; the CSV and JSON exports have all ${fmt(meta.problems)}.</p>\n`);
  }
  await out.write(`<footer>Written by Ferry from report ${escapeHtml(meta.id)} (task ${escapeHtml(header.taskId)}). Self-contained: this file loads nothing from anywhere.</footer>\n<script>${VIEWER_SCRIPT}</script>\n</body>\n</html>\n`);
}

function pageHead(meta: ReportMeta, header: ReportHeader): string {
  return `${summaryPageStart(meta, header, { csp: HTML_CSP, css: VIEWER_CSS, viewport: true })}<h2>Problem entries</h2>
<div class="controls">
  <label>Category <select id="filter-category" data-testid="filter-category"></select></label>
  <input id="filter-search" data-testid="filter-search" type="search" placeholder="Search in paths" aria-label="Search in paths" autocomplete="off">
  <span id="shown-count" class="shown" data-testid="shown-count" aria-live="polite"></span>
</div>
<div class="grid-head" role="row"><div role="columnheader">Category</div><div role="columnheader">Kind</div><div role="columnheader">Path</div><div role="columnheader">Code</div><div role="columnheader">Reason</div></div>
<div id="viewport" class="viewport" data-testid="rows-viewport" tabindex="0" role="table" aria-label="Problem entries" aria-rowcount="${meta.problems + 1}"><div id="spacer" class="spacer"></div><div id="layer" class="layer" role="rowgroup"></div></div>
<p id="empty" class="empty" hidden>No problem entries match.</p>
<noscript><p class="note">The list of problem entries needs JavaScript; the summary above is complete without it.</p></noscript>
<div class="print-only"><p id="print-note" class="note"></p>
<table class="print-table"><thead><tr><th>Category</th><th>Kind</th><th>Path</th><th>Code</th><th>Reason</th></tr></thead><tbody id="print-rows"></tbody></table></div>
`;
}

/**
 * How a report page begins, for the HTML export and the print page alike: the head with the
 * page's own Content-Security-Policy and stylesheet (and a viewport for screens), the title, and
 * the summary: verdict, facts, counts and the reasons of skipped and failed entries. The page
 * goes on with its problem entries.
 */
export function summaryPageStart(meta: ReportMeta, header: ReportHeader, page: { csp: string; css: string; viewport: boolean }): string {
  const verdict = header.passed ? 'PASSED' : 'FAILED';
  const viewport = page.viewport ? '<meta name="viewport" content="width=device-width, initial-scale=1">\n' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp}">
<meta name="referrer" content="no-referrer">
${viewport}<title>${escapeHtml(`Ferry report: ${verdict}: ${meta.taskName} (${header.source} to ${header.destination})`)}</title>
<style>${page.css}</style>
</head>
<body>
<h1>Ferry verification report</h1>
${verdictBlock(header)}
${factsBlock(meta, header)}
<h2>Counts</h2>
${countsBlock(header.summary, header.dryRun)}
${reasonsBlock('Skipped, by reason', 'skipped-reasons', header.summary.skipped.byReason)}
${reasonsBlock('Failed, by reason', 'failed-reasons', header.summary.failed.byReason)}
`;
}

function verdictBlock(h: ReportHeader): string {
  const text = h.passed
    ? h.verify === 'none'
      ? 'Nothing failed, but this task ran without verification.'
      : 'Every copied entry was verified; nothing failed, differs, is missing or changed.'
    : 'Some entries failed, differ, are missing or changed during the migration: see the counts and the problem entries.';
  const dry = h.dryRun ? ' <span class="verdict-text">(dry run: nothing was written)</span>' : '';
  const error = h.error ? `<p class="task-error" data-testid="task-error">The task itself failed: ${escapeHtml(h.error.message)} (${escapeHtml(h.error.code)})</p>` : '';
  return `<section class="verdict ${h.passed ? 'pass' : 'fail'}" data-testid="verdict" data-passed="${h.passed}"><span class="verdict-word">${h.passed ? 'PASSED' : 'FAILED'}</span><span class="verdict-text">${escapeHtml(text)}</span>${dry}</section>\n${error}`;
}

function factsBlock(meta: ReportMeta, h: ReportHeader): string {
  const facts: [string, string, string][] = [
    ['Source', h.source, 'source'],
    ['Destination', h.destination, 'destination'],
    ['Task', `${meta.taskName} (${h.taskId})`, 'task'],
    ['Mode', `${h.mode}, verification ${h.verify}${h.dryRun ? ', dry run' : ''}`, 'mode'],
    ['Started', h.startedAt, 'started'],
    ['Finished', h.finishedAt, 'finished'],
    ['Duration', duration(h.startedAt, h.finishedAt), 'duration'],
  ];
  return `<dl class="facts">${facts.map(([k, v, id]) => `<dt>${k}</dt><dd data-testid="fact-${id}">${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

function countsBlock(s: ReportSummary, dryRun: boolean): string {
  const items: { id: string; label: string; n: number; sub?: string; tone?: 'bad' | 'note' }[] = [
    { id: 'entries', label: 'Entries', n: s.entries, sub: `${fmt(s.files)} files, ${fmt(s.dirs)} folders, ${fmt(s.symlinks)} symlinks, ${fmt(s.hardLinks)} hard links` },
    { id: 'copied', label: 'Copied', n: s.copied, sub: bytesText(s.bytesCopied) },
    { id: 'skipped-unchanged', label: 'Skipped, unchanged', n: s.skippedUnchanged },
    { id: 'skipped-policy', label: 'Kept by overwrite policy', n: s.skippedByPolicy },
    { id: 'verified', label: 'Verified', n: s.verified },
    { id: 'different', label: 'Different', n: s.different, tone: 'bad' },
    { id: 'missing', label: 'Missing', n: s.missing, tone: 'bad' },
    { id: 'extra', label: 'Extra at destination', n: s.extra, tone: 'note' },
    { id: 'deleted', label: 'Deleted (mirror)', n: s.deleted, tone: 'note' },
    { id: 'changed', label: 'Changed during migration', n: s.changedDuringMigration, tone: 'bad' },
    { id: 'skipped', label: 'Skipped (special files)', n: s.skipped.total, sub: reasonsText(s.skipped.byReason), tone: 'note' },
    { id: 'failed', label: 'Failed', n: s.failed.total, sub: reasonsText(s.failed.byReason), tone: 'bad' },
  ];
  if (dryRun || s.wouldCopy || s.wouldDelete) {
    items.push({ id: 'would-copy', label: 'Would copy', n: s.wouldCopy }, { id: 'would-delete', label: 'Would delete', n: s.wouldDelete });
  }
  const li = items.map((i) => {
    const cls = i.n > 0 && i.tone ? ` ${i.tone}` : '';
    const sub = i.sub ? `<span class="sub">${escapeHtml(i.sub)}</span>` : '';
    return `<li class="count${cls}" data-testid="count-${i.id}"><span class="n">${fmt(i.n)}</span><span class="label">${escapeHtml(i.label)}</span>${sub}</li>`;
  });
  return `<ul class="counts">${li.join('')}</ul>`;
}

function reasonsBlock(title: string, id: string, byReason: Record<string, number>): string {
  const entries = Object.entries(byReason).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '';
  const rows = entries.map(([code, n]) => `<tr><td>${escapeHtml(code)}</td><td>${fmt(n)}</td></tr>`).join('');
  return `<h2>${escapeHtml(title)}</h2><table class="reasons" data-testid="${id}"><thead><tr><th>Reason</th><th>Entries</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function reasonsText(byReason: Record<string, number>): string {
  return Object.entries(byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code}: ${fmt(n)}`)
    .join(', ');
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function bytesText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${fmt(bytes)} bytes` : `${v.toFixed(1)} ${units[u]} (${fmt(bytes)} bytes)`;
}

function duration(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min ${s % 60} s` : m > 0 ? `${m} min ${s % 60} s` : `${(ms / 1000).toFixed(1)} s`;
}
