/**
 * What a printed report says, as plain strings: title, verdict, facts, counts and the problem
 * rows of the current filter (up to PRINT_MAX_ROWS; the exports carry the rest). The console
 * prints its own document, built from the contract's data, because the HTML export's viewer
 * cannot run inside the console's origin (its CSP, inherited by any tab the console opens,
 * blocks the viewer's script; the export route itself is sandboxed). Pure; no DOM.
 */
import type { ProblemRecord } from '../../../electron/contract/console.ts';
import type { Messages } from '../i18n/index.ts';
import { durationSeconds, pathText, summaryCounts, verdictOf } from './reports.ts';
import type { ReportDetail } from '../stores/reports.ts';

export const PRINT_MAX_ROWS = 20_000;

export interface Formatters {
  num(n: number): string;
  bytes(n: number): string;
  dateTime(iso: string, withSeconds?: boolean): string;
  duration(seconds: number): string;
}

export interface PrintDocument {
  lang: string;
  title: string;
  verdict: 'passed' | 'failed';
  verdictWord: string;
  verdictNote: string;
  taskError: string | null;
  facts: Array<[string, string]>;
  counts: Array<[string, string]>;
  problemsTitle: string;
  /** Which rows are listed (filter, search, a cut at PRINT_MAX_ROWS). */
  scope: string;
  columns: [string, string, string, string];
  rows: Array<[string, string, string, string]>;
  footer: string;
}

export function printDocument(
  detail: ReportDetail,
  query: { category: ProblemRecord['category'] | null; search: string },
  rows: readonly ProblemRecord[],
  total: number,
  m: Messages['reports'],
  f: Formatters,
  lang: string,
  printedAt: Date,
): PrintDocument {
  const h = detail.header;
  const verdict = verdictOf(h);
  const seconds = durationSeconds(h.startedAt, h.finishedAt);
  const filter = [query.category ? m.categories[query.category] : m.allCategories, query.search ? `“${query.search}”` : ''].filter(Boolean).join(', ');
  return {
    lang,
    title: m.printTitle(detail.meta.taskName),
    verdict,
    verdictWord: m.verdictBig[verdict],
    verdictNote: verdict === 'passed' ? m.passedNote : m.failedNote,
    taskError: h.error ? `${m.taskError} ${h.error.code} — ${h.error.message}` : null,
    facts: [
      [m.facts.source, h.source],
      [m.facts.destination, h.destination],
      [m.facts.task, `${detail.meta.taskName} (${h.taskId})`],
      [m.facts.started, f.dateTime(h.startedAt, true)],
      [m.facts.finished, f.dateTime(h.finishedAt, true)],
      [m.facts.duration, seconds === null ? '—' : seconds < 60 ? m.seconds(f.num(Math.round(seconds))) : f.duration(seconds)],
      [m.facts.how, [m.mode(h.mode), m.verifies[h.verify], h.dryRun ? m.dryRun : ''].filter(Boolean).join(', ')],
    ],
    counts: summaryCounts(h.summary, h.dryRun).map((c) => {
      const value = c.unit === 'bytes' ? f.bytes(c.value) : f.num(c.value);
      const reasons = c.byReason && c.byReason.length > 0 ? ` (${c.byReason.map((r) => `${r.code}: ${f.num(r.count)}`).join(', ')})` : '';
      return [m.counts[c.key], `${value}${reasons}`];
    }),
    problemsTitle: m.problemsTitle,
    scope: m.printScope(filter, total, f.num(rows.length), f.num(total), rows.length < total),
    columns: [m.problemColumns.category, m.problemColumns.path, m.detail.code, m.problemColumns.reason],
    rows: rows.map((r) => [m.categories[r.category], pathText(r.path).text, r.code, r.reason]),
    footer: m.printFooter(detail.meta.id, f.dateTime(printedAt.toISOString(), true)),
  };
}
