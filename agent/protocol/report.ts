/**
 * The verification report a coordinator writes when a task ends: one JSON document, streamed to disk
 * (the summary first, then one problem record per line inside "problems"), so it stays cheap with
 * millions of entries. The console renders it; a reader with little memory can parse it line by line:
 * line 1 is `{"format":"ferry-report","version":1,` ... up to `"problems":[`, then one record per
 * line (each followed by ',' except the last), then `]}`.
 * Pure schemas, no IO.
 */
import { z } from 'zod';

export const REPORT_FORMAT = 'ferry-report';
export const REPORT_VERSION = 1;

/** What happened to a problem entry. Stable; the console translates them. */
export const ProblemCategory = z.enum([
  'skipped', // not copied by design: FIFOs, sockets, devices (reason says which)
  'failed', // could not be read, written or linked (reason says why)
  'changed', // kept changing while it was read
  'different', // verification found source and destination differ
  'missing', // verification found it missing at the destination
  'extra', // at the destination but not in the source (not deleted)
  'deleted', // removed from the destination by mirror mode
  'would-copy', // dry run
  'would-delete', // dry run
]);
export type ProblemCategory = z.infer<typeof ProblemCategory>;

export const ReportPath = z.object({
  /** The path as text: itself when it is valid UTF-8, else an escaped display form (\xNN). */
  display: z.string(),
  /** Base64 of the raw bytes; present only when the path is not valid UTF-8 (or has control characters). */
  rawBase64: z.string().optional(),
});
export type ReportPath = z.infer<typeof ReportPath>;

export const ProblemRecord = z.object({
  path: ReportPath,
  kind: z.string(),
  category: ProblemCategory,
  /** Stable machine code (e.g. 'EACCES', 'fifo', 'hash-mismatch', 'path-too-long'). */
  code: z.string(),
  reason: z.string(),
});
export type ProblemRecord = z.infer<typeof ProblemRecord>;

const Count = z.number().int().nonnegative();

export const ReportSummary = z.object({
  entries: Count,
  files: Count,
  dirs: Count,
  symlinks: Count,
  hardLinks: Count,
  /** Entries written to the destination during this task, and their bytes. */
  copied: Count,
  bytesCopied: Count,
  /** Incremental: already identical at the destination. */
  skippedUnchanged: Count,
  /** Kept at the destination by the overwrite policy. */
  skippedByPolicy: Count,
  verified: Count,
  different: Count,
  missing: Count,
  extra: Count,
  deleted: Count,
  changedDuringMigration: Count,
  skipped: z.object({ total: Count, byReason: z.record(z.string(), Count) }),
  failed: z.object({ total: Count, byReason: z.record(z.string(), Count) }),
  /** Dry run only. */
  wouldCopy: Count,
  wouldDelete: Count,
});
export type ReportSummary = z.infer<typeof ReportSummary>;

export const ReportHeader = z.object({
  format: z.literal(REPORT_FORMAT),
  version: z.literal(REPORT_VERSION),
  taskId: z.string(),
  source: z.string(),
  destination: z.string(),
  mode: z.string(),
  verify: z.enum(['none', 'transferred', 'full']),
  dryRun: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** True when nothing failed, differs, is missing or changed (skipped special files do not count). */
  passed: z.boolean(),
  /** Set when the task itself failed (e.g. mount lost). */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  summary: ReportSummary,
});
export type ReportHeader = z.infer<typeof ReportHeader>;

export const Report = ReportHeader.extend({ problems: z.array(ProblemRecord) });
export type Report = z.infer<typeof Report>;
