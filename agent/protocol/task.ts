/**
 * A migration task's definition (what to copy, how) and its observable state (progress, phase,
 * outcome). Shared by the coordinator, the control API and the app. Pure: schemas only.
 */
import { z } from 'zod';

export const CopyMode = z.enum(['full', 'incremental']);
export const OverwritePolicy = z.enum(['always', 'never', 'if-newer', 'if-different']);
export const VerifyMode = z.enum(['none', 'transferred', 'full']);

/** A time-of-day window in minutes after local midnight; from > to wraps past midnight. */
export const TimeWindow = z.object({ from: z.number().int().min(0).max(1440), to: z.number().int().min(0).max(1440) });
export type TimeWindow = z.infer<typeof TimeWindow>;

/** Bytes per second, applied only inside the windows (always, when there are none). */
export const BandwidthLimit = z.object({ bytesPerSec: z.number().positive(), windows: z.array(TimeWindow) });
export type BandwidthLimit = z.infer<typeof BandwidthLimit>;

/** A file larger than this is split into ranges of this size (bytes) unless the task sets its own. */
export const DEFAULT_RANGE_SIZE = 128 * 1024 * 1024;

export const TaskSpec = z.object({
  taskId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-" only'),
  /** Roots as the default workers see them; each worker can be given its own mount path at join. */
  sourceRoot: z.string().min(1),
  destinationRoot: z.string().min(1),
  mode: CopyMode.default('full'),
  /** Incremental: compare SHA-256 instead of size + mtime. */
  checksum: z.boolean().default(false),
  overwrite: OverwritePolicy.default('always'),
  /** Globs over relative paths (bytes); a pattern without '/' matches any path component. */
  include: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  /** Only files with mtime >= / < these (ns since the epoch, decimal strings). */
  newerThanNs: z.string().regex(/^-?\d+$/).nullable().default(null),
  olderThanNs: z.string().regex(/^-?\d+$/).nullable().default(null),
  /** Delete destination entries that are not in the source (never the excluded ones). */
  mirror: z.boolean().default(false),
  bwlimit: BandwidthLimit.nullable().default(null),
  verify: VerifyMode.default('transferred'),
  dryRun: z.boolean().default(false),
  /**
   * Files larger than this (bytes) that are not sparse are copied as ranges of this size, in
   * parallel, spread across the task's source and destination agents.
   */
  rangeSize: z.number().int().min(1024 * 1024).max(2 ** 40).default(DEFAULT_RANGE_SIZE),
  /** Parallel jobs per source worker. */
  concurrency: z.number().int().min(1).max(256).default(4),
  /** Copy numeric uid/gid (effective only when the destination agent runs as root). */
  preserveOwner: z.boolean().default(true),
  /** fsync each file before its rename (turn off only for benchmarks of the disk-less path). */
  fsync: z.boolean().default(true),
});
export type TaskSpec = z.infer<typeof TaskSpec>;
export type TaskSpecInput = z.input<typeof TaskSpec>;

export const TaskPhase = z.enum(['copy', 'links', 'mirror', 'dirs', 'verify', 'report', 'done']);
export type TaskPhase = z.infer<typeof TaskPhase>;
export const TaskState = z.enum(['running', 'paused', 'waiting', 'done', 'failed', 'cancelled']);
export type TaskState = z.infer<typeof TaskState>;

export const TaskProgress = z.object({
  dirsListed: z.number(),
  dirsPending: z.number(),
  entriesFound: z.number(),
  filesDone: z.number(),
  filesTotal: z.number(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  /** Files actually sent in this task (resumes do not reset it). */
  filesCopied: z.number(),
  bytesCopied: z.number(),
  problems: z.number(),
});
export type TaskProgress = z.infer<typeof TaskProgress>;

export const TaskStatus = z.object({
  taskId: z.string(),
  state: TaskState,
  phase: TaskPhase,
  /** Why the task waits, failed or was cancelled. */
  message: z.string().nullable(),
  errorCode: z.string().nullable(),
  workers: z.array(
    z.object({
      agentId: z.string(),
      role: z.enum(['source', 'destination']),
      inflight: z.number(),
      /** File bytes this worker sent (source) or wrote (destination) since its coordinator started; absent from older agents. */
      bytesDone: z.number().optional(),
    }),
  ),
  progress: TaskProgress,
  /** Workers that moved bytes and are no longer connected (e.g. told to stop at the end), with their totals; absent from older agents. */
  departedWorkers: z.array(z.object({ agentId: z.string(), role: z.enum(['source', 'destination']), bytesDone: z.number() })).optional(),
  /** Set when the report is written (state done). */
  passed: z.boolean().nullable(),
  startedAt: z.string(),
  /** Resumes of this task (coordinator restarts). */
  resumes: z.number(),
});
export type TaskStatus = z.infer<typeof TaskStatus>;
