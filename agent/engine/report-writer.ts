/**
 * Writes a task's verification report (protocol/report.ts) from the journal, streaming: the summary
 * comes from SQL aggregates, then the problem records are read row by row and written in 256 KiB
 * chunks, so memory stays flat with millions of entries. Written to a temp file and renamed.
 * Never modifies the journal.
 */
import fs from 'node:fs';
import { REPORT_FORMAT, REPORT_VERSION } from '../protocol/report.ts';
import type { ProblemCategory, ProblemRecord, ReportHeader, ReportPath, ReportSummary } from '../protocol/report.ts';
import type { TaskSpec } from '../protocol/task.ts';
import { relToDisplay } from '../fs/relpath.ts';
import { D, E, V, X } from './journal.ts';
import type { Journal } from './journal.ts';
import type { SqlValue } from './sqlite.ts';
import { blob, num, str } from './sqlite.ts';

/** Path bytes for a report: plain text when valid printable UTF-8, else display form plus base64. */
export function reportPath(rel: Buffer): ReportPath {
  const display = relToDisplay(rel);
  const plain = Buffer.from(display, 'utf8').equals(rel);
  return plain ? { display: display || '.' } : { display, rawBase64: rel.toString('base64') };
}

export function computeSummary(j: Journal): ReportSummary {
  const s: ReportSummary = {
    entries: 0,
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardLinks: 0,
    copied: 0,
    bytesCopied: 0,
    skippedUnchanged: 0,
    skippedByPolicy: 0,
    verified: 0,
    different: 0,
    missing: 0,
    extra: 0,
    deleted: 0,
    changedDuringMigration: 0,
    skipped: { total: 0, byReason: {} },
    failed: { total: 0, byReason: {} },
    wouldCopy: 0,
    wouldDelete: 0,
  };
  // One scan of the entries (a journal may hold millions), grouped by everything the summary counts by.
  const byGroup = j.q('SELECT kind, state, code, v_state, count(*) AS n, sum(copied) AS c, coalesce(sum(copied * size), 0) AS cb FROM entries GROUP BY kind, state, code, v_state').all();
  for (const r of byGroup) {
    const n = num(r.n);
    const state = num(r.state);
    s.copied += num(r.c);
    s.bytesCopied += num(r.cb);
    if (state === E.FILTERED) continue;
    s.entries += n;
    if (r.kind === 'file') s.files += n;
    if (r.kind === 'symlink') s.symlinks += n;
    if (state === E.LINK || state === E.LINKED) s.hardLinks += n;
    if (state === E.UNCHANGED) s.skippedUnchanged += n;
    if (state === E.KEPT) s.skippedByPolicy += n;
    if (state === E.CHANGED) s.changedDuringMigration += n;
    if (state === E.WOULD_COPY) s.wouldCopy += n;
    if (state === E.VERIFIED) s.verified += n;
    if (state === E.SKIPPED || state === E.FAILED) {
      const bucket = state === E.SKIPPED ? s.skipped : s.failed;
      const code = str(r.code) ?? 'unknown';
      bucket.total += n;
      bucket.byReason[code] = (bucket.byReason[code] ?? 0) + n;
    }
    countVerification(s, r.v_state, n);
  }
  s.dirs = num(j.q('SELECT count(*) AS n FROM dirs').get()?.n);
  s.entries += s.dirs;
  for (const r of j.q('SELECT code, count(*) AS n FROM dirs WHERE state = ? GROUP BY code').all(D.FAILED)) {
    const code = str(r.code) ?? 'unknown';
    s.failed.total += num(r.n);
    s.failed.byReason[code] = (s.failed.byReason[code] ?? 0) + num(r.n);
  }
  for (const r of j.q('SELECT v_state, count(*) AS n FROM dirs WHERE v_state IN (?, ?) GROUP BY v_state').all(V.DIFFERENT, V.MISSING)) countVerification(s, r.v_state, num(r.n));
  for (const r of j.q('SELECT state, count(*) AS n FROM extras GROUP BY state').all()) {
    const st = num(r.state);
    if (st === X.DELETED) s.deleted += num(r.n);
    else if (st === X.WOULD_DELETE) s.wouldDelete += num(r.n);
    else s.extra += num(r.n);
    if (st === X.FAILED) {
      s.failed.total += num(r.n);
      s.failed.byReason['delete-failed'] = (s.failed.byReason['delete-failed'] ?? 0) + num(r.n);
    }
  }
  return s;
}

/** n entries or directories whose full verification found them different or missing. */
function countVerification(s: ReportSummary, vState: SqlValue | undefined, n: number): void {
  if (vState === V.DIFFERENT) s.different += n;
  else if (vState === V.MISSING) s.missing += n;
}

export function passedOf(s: ReportSummary, error: { code: string } | null): boolean {
  return error === null && s.failed.total === 0 && s.different === 0 && s.missing === 0 && s.changedDuringMigration === 0;
}

const CATEGORY_OF_STATE: Partial<Record<number, ProblemCategory>> = {
  [E.SKIPPED]: 'skipped',
  [E.FAILED]: 'failed',
  [E.CHANGED]: 'changed',
  [E.WOULD_COPY]: 'would-copy',
};

/** Writes the report to `file` (atomically) and returns its header. */
export function writeReport(
  j: Journal,
  spec: TaskSpec,
  file: string,
  meta: { startedAt: string; error: { code: string; message: string } | null },
): ReportHeader {
  const summary = computeSummary(j);
  const header: ReportHeader = {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    taskId: spec.taskId,
    source: spec.sourceRoot,
    destination: spec.destinationRoot,
    mode: spec.mode,
    verify: spec.verify,
    dryRun: spec.dryRun,
    startedAt: meta.startedAt,
    finishedAt: new Date().toISOString(),
    passed: passedOf(summary, meta.error),
    error: meta.error,
    summary,
  };
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    const out = new ChunkedWriter(fd);
    const head = JSON.stringify(header);
    out.write(`${head.slice(0, -1)},"problems":[\n`);
    let first = true;
    const emit = (rec: ProblemRecord) => {
      out.write(`${first ? '' : ',\n'}${JSON.stringify(rec)}`);
      first = false;
    };
    for (const r of j.q('SELECT rel, kind, state, code, reason, v_state, v_reason FROM entries WHERE state IN (?, ?, ?, ?) OR v_state IN (?, ?) ORDER BY id').iterate(
      E.SKIPPED,
      E.FAILED,
      E.CHANGED,
      E.WOULD_COPY,
      V.DIFFERENT,
      V.MISSING,
    )) {
      const rel = blob(r.rel);
      const vs = num(r.v_state);
      if (vs === V.DIFFERENT || vs === V.MISSING) {
        emit({ path: reportPath(rel), kind: str(r.kind) ?? '', category: vs === V.DIFFERENT ? 'different' : 'missing', code: vs === V.DIFFERENT ? 'different' : 'missing', reason: str(r.v_reason) ?? '' });
      }
      const category = CATEGORY_OF_STATE[num(r.state)];
      if (category) emit({ path: reportPath(rel), kind: str(r.kind) ?? '', category, code: str(r.code) ?? category, reason: str(r.reason) ?? '' });
    }
    for (const r of j.q('SELECT rel, state, code, reason, v_state, v_reason FROM dirs WHERE state = ? OR v_state IN (?, ?) ORDER BY id').iterate(D.FAILED, V.DIFFERENT, V.MISSING)) {
      const rel = blob(r.rel);
      if (num(r.state) === D.FAILED) emit({ path: reportPath(rel), kind: 'dir', category: 'failed', code: str(r.code) ?? 'io', reason: str(r.reason) ?? '' });
      const vs = num(r.v_state);
      if (vs === V.DIFFERENT || vs === V.MISSING) emit({ path: reportPath(rel), kind: 'dir', category: vs === V.DIFFERENT ? 'different' : 'missing', code: vs === V.DIFFERENT ? 'different' : 'missing', reason: str(r.v_reason) ?? '' });
    }
    for (const r of j.q('SELECT rel, kind, state, reason FROM extras ORDER BY rel').iterate()) {
      const st = num(r.state);
      const category: ProblemCategory = st === X.DELETED ? 'deleted' : st === X.WOULD_DELETE ? 'would-delete' : st === X.FAILED ? 'failed' : 'extra';
      emit({ path: reportPath(blob(r.rel)), kind: str(r.kind) ?? '', category, code: st === X.FAILED ? 'delete-failed' : category, reason: str(r.reason) ?? '' });
    }
    out.write('\n]}\n');
    out.flush();
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return header;
}

class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 256 * 1024) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    fs.writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}
