/**
 * Display rules of verification reports: list order, verdicts, durations and rates, which
 * summary counts to show and how loud each one is, category chips, and a safe text form of
 * a problem path. Pure: no Vue, no DOM, no calls. Paths are only ever turned into text here;
 * they are rendered as text by the views (never as HTML).
 */
import { ProblemCategory, type AppInfo, type ReportExportFormat, type ReportHeader, type ReportMeta, type ReportPath, type ReportSummary } from '../../../electron/contract/console.ts';

export const PROBLEM_CATEGORIES: readonly ProblemCategory[] = ProblemCategory.options;

/** The export buttons a shell offers: PDF only in the desktop app (the web console prints from the browser). */
export function exportFormats(shell: AppInfo['shell']): ReportExportFormat[] {
  return shell === 'electron' ? ['html', 'csv', 'json', 'pdf'] : ['html', 'csv', 'json'];
}

/** Newest first by finish time; reports finished at the same instant by task name. */
export function sortReportsNewestFirst(reports: readonly ReportMeta[]): ReportMeta[] {
  const time = (r: ReportMeta) => {
    const t = Date.parse(r.finishedAt);
    return Number.isNaN(t) ? -Infinity : t;
  };
  return [...reports].sort((a, b) => time(b) - time(a) || a.taskName.localeCompare(b.taskName) || a.id.localeCompare(b.id));
}

/** Seconds from start to finish, or null when either time is unreadable or the order is impossible. */
export function durationSeconds(startedAt: string, finishedAt: string): number | null {
  const start = Date.parse(startedAt);
  const end = Date.parse(finishedAt);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return null;
  return (end - start) / 1000;
}

/** Average bytes per second over the task, or null when it cannot be told (no time elapsed). */
export function averageRate(bytes: number, seconds: number | null): number | null {
  if (seconds === null || seconds <= 0 || !Number.isFinite(bytes) || bytes < 0) return null;
  return bytes / seconds;
}

/** Short durations in seconds ("42 s"), longer ones as the i18n formatter does. */
export type DurationShape = { kind: 'seconds'; seconds: number } | { kind: 'long'; seconds: number } | { kind: 'unknown' };

export function durationShape(seconds: number | null): DurationShape {
  if (seconds === null) return { kind: 'unknown' };
  return seconds < 60 ? { kind: 'seconds', seconds: Math.round(seconds * 10) / 10 } : { kind: 'long', seconds };
}

export type Tone = 'ok' | 'warn' | 'danger' | 'neutral';

export type CountKey =
  | 'entries'
  | 'files'
  | 'dirs'
  | 'symlinks'
  | 'hardLinks'
  | 'copied'
  | 'bytesCopied'
  | 'skippedUnchanged'
  | 'skippedByPolicy'
  | 'verified'
  | 'different'
  | 'missing'
  | 'extra'
  | 'deleted'
  | 'changedDuringMigration'
  | 'skipped'
  | 'failed'
  | 'wouldCopy'
  | 'wouldDelete';

export interface SummaryCount {
  key: CountKey;
  value: number;
  /** Bytes are formatted as sizes, the rest as counts. */
  unit: 'count' | 'bytes';
  tone: Tone;
  /** For skipped and failed: how many per reason code, most first. */
  byReason?: Array<{ code: string; count: number }>;
}

/** Counts that make the verdict fail when above zero (as the engine's passedOf decides). */
const FAILING: ReadonlySet<CountKey> = new Set(['failed', 'different', 'missing', 'changedDuringMigration']);
/** Counts worth a look without failing the verdict. */
const NOTABLE: ReadonlySet<CountKey> = new Set(['skipped', 'extra', 'deleted', 'skippedByPolicy']);

function toneOf(key: CountKey, value: number): Tone {
  if (value === 0) return 'neutral';
  if (FAILING.has(key)) return 'danger';
  if (NOTABLE.has(key)) return 'warn';
  if (key === 'verified' || key === 'copied') return 'ok';
  return 'neutral';
}

export function reasonsByCount(byReason: Record<string, number>): Array<{ code: string; count: number }> {
  return Object.entries(byReason)
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/**
 * The summary's counts in reading order: what was found, what was done, then what needs a
 * look. Dry-run counts only for dry runs; every other count is always shown (a zero is news).
 */
export function summaryCounts(summary: ReportSummary, dryRun: boolean): SummaryCount[] {
  const plain: Array<[CountKey, number]> = [
    ['entries', summary.entries],
    ['files', summary.files],
    ['dirs', summary.dirs],
    ['symlinks', summary.symlinks],
    ['hardLinks', summary.hardLinks],
    ['copied', summary.copied],
    ['bytesCopied', summary.bytesCopied],
    ['verified', summary.verified],
    ['skippedUnchanged', summary.skippedUnchanged],
    ['skippedByPolicy', summary.skippedByPolicy],
    ['different', summary.different],
    ['missing', summary.missing],
    ['changedDuringMigration', summary.changedDuringMigration],
    ['extra', summary.extra],
    ['deleted', summary.deleted],
  ];
  const out: SummaryCount[] = plain.map(([key, value]) => ({ key, value, unit: key === 'bytesCopied' ? 'bytes' : 'count', tone: toneOf(key, value) }));
  out.push({ key: 'skipped', value: summary.skipped.total, unit: 'count', tone: toneOf('skipped', summary.skipped.total), byReason: reasonsByCount(summary.skipped.byReason) });
  out.push({ key: 'failed', value: summary.failed.total, unit: 'count', tone: toneOf('failed', summary.failed.total), byReason: reasonsByCount(summary.failed.byReason) });
  if (dryRun) {
    out.push({ key: 'wouldCopy', value: summary.wouldCopy, unit: 'count', tone: 'neutral' });
    out.push({ key: 'wouldDelete', value: summary.wouldDelete, unit: 'count', tone: summary.wouldDelete > 0 ? 'warn' : 'neutral' });
  }
  return out;
}

/** The verdict as the report states it; a task error always means failed. */
export function verdictOf(header: Pick<ReportHeader, 'passed' | 'error'>): 'passed' | 'failed' {
  return header.passed && header.error === null ? 'passed' : 'failed';
}

/** How loud a category's chip is: failing categories red, by-design ones amber, dry-run ones plain. */
export function categoryTone(category: ProblemCategory): Tone {
  switch (category) {
    case 'failed':
    case 'changed':
    case 'different':
    case 'missing':
      return 'danger';
    case 'skipped':
    case 'extra':
    case 'deleted':
      return 'warn';
    default:
      return 'neutral';
  }
}

export function badgeClass(tone: Tone): string {
  return tone === 'neutral' ? '' : `badge-${tone}`;
}

/**
 * Characters that reorder or hide text (bidirectional overrides and isolates, zero-width and
 * other invisible format characters): a name containing them could show as another name.
 */
// eslint-disable-next-line no-misleading-character-class -- the class lists invisible characters on purpose
const INVISIBLE = /[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/gu;

export interface PathText {
  /** What to show: the report's display form, with invisible characters written as \u{…}. */
  text: string;
  /** The name's bytes are not UTF-8 (or contain control characters): `text` has \xNN escapes. */
  escapedBytes: boolean;
  /** The name has invisible or reordering characters, shown escaped. */
  invisible: boolean;
  /** The raw bytes in hex ("c4 e3 ba c3"), when the report carries them. */
  rawHex: string | null;
}

export function pathText(path: ReportPath): PathText {
  let invisible = false;
  const text = path.display.replace(INVISIBLE, (ch) => {
    invisible = true;
    return `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
  });
  return { text, escapedBytes: path.rawBase64 !== undefined, invisible, rawHex: path.rawBase64 === undefined ? null : base64ToHex(path.rawBase64) };
}

/** "xOO6ww==" -> "c4 e3 ba c3"; null for text that is not base64. */
export function base64ToHex(base64: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return null;
  const bytes = atob(base64);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += `${i > 0 ? ' ' : ''}${bytes.charCodeAt(i).toString(16).padStart(2, '0')}`;
  return out;
}

export interface CategoryCounts {
  all: number;
  byCategory: Record<ProblemCategory, number>;
}

/** The filter chips: "All" first, then the categories that have entries (or are selected). */
export function filterChoices(counts: CategoryCounts | null, selected: ProblemCategory | null): Array<{ category: ProblemCategory | null; count: number | null }> {
  const chips: Array<{ category: ProblemCategory | null; count: number | null }> = [{ category: null, count: counts?.all ?? null }];
  for (const category of PROBLEM_CATEGORIES) {
    const count = counts?.byCategory[category] ?? null;
    if ((count !== null && count > 0) || category === selected) chips.push({ category, count });
  }
  return chips;
}

/** A search term as Ferry should receive it: trimmed, and at most the contract's 4096 characters. */
export function normalizeSearch(text: string): string {
  return text.trim().slice(0, 4096);
}
