/**
 * Pre-scans of plan tasks as the console sees them (the Task step): `tasks.scan` starts a scan of
 * a task's source data on the first reachable host of the source address's tunnel (every host
 * mounts the same NAS) and answers at once with the running record; the record is pushed again
 * with `scans.changed` when the scan ends, with the agent's ScanSummary (counts, histogram, depth,
 * huge directories, warnings) and an estimate of the migration's duration, or with the
 * HostFailure that stopped it. Only the last scan per task is kept. Pure: schemas only.
 */
import { z } from 'zod';
import { ScanSummary } from '../../agent/protocol/scan.ts';
import { HostFailure } from './host-ops.ts';
import { PlanName } from './plan.ts';

export {
  DEEP_NESTING_LEVELS,
  HUGE_DIR_ENTRIES,
  LATENCY_FILES_PER_DIR,
  LATENCY_MIN_DIRS,
  ScanSummary,
  ScanWarning,
  ScanWarningCode,
  SizeBucket,
} from '../../agent/protocol/scan.ts';
export * from './scan-estimate.ts';

/** A console scan stops after this long unless the call asks otherwise; the result is then partial. */
export const DEFAULT_SCAN_MAX_SECONDS = 600;
export const MAX_SCAN_MAX_SECONDS = 24 * 3600;

export const ScanEstimate = z.object({
  /** Instances that carry the task: min(source agents, destination agents). */
  instances: z.number().int().positive(),
  sourceInstances: z.number().int().nonnegative(),
  destinationInstances: z.number().int().nonnegative(),
  instanceGbps: z.number().positive(),
  instanceEntriesPerSec: z.number().positive(),
  bytesSeconds: z.number().nonnegative(),
  entriesSeconds: z.number().nonnegative(),
  seconds: z.number().nonnegative(),
  bound: z.enum(['bytes', 'entries']),
  /** From a partial scan: a lower bound. */
  lowerBound: z.boolean(),
});
export type ScanEstimate = z.infer<typeof ScanEstimate>;

export const ScanState = z.enum(['running', 'done', 'failed']);
export type ScanState = z.infer<typeof ScanState>;

/** The last scan of one task (persisted in `<data-dir>/scans.json`). */
export const ScanRecord = z.object({
  task: z.string(),
  /** The source data address and its directory, as they were when the scan started. */
  source: z.string(),
  directory: z.string(),
  state: ScanState,
  /** The host the scan ran on (once one was reached). */
  host: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  summary: ScanSummary.nullable(),
  estimate: ScanEstimate.nullable(),
  /** Why it failed: the host failure (the same codes as the Hosts step). */
  failure: HostFailure.nullable(),
});
export type ScanRecord = z.infer<typeof ScanRecord>;

export const scanCalls = {
  /**
   * Starts a scan of the task's source (refused with `conflict` while one runs for it). `instanceGbps`
   * is the Plan step's speed of one instance (default DEFAULT_INSTANCE_GBPS), for the estimate.
   */
  'tasks.scan': {
    req: z
      .object({
        task: PlanName,
        instanceGbps: z.number().positive().max(1000).optional(),
        maxSeconds: z.number().int().min(1).max(MAX_SCAN_MAX_SECONDS).optional(),
      })
      .strict(),
    res: ScanRecord,
  },
  /** The last scan of every task that has one. */
  'tasks.scans': { req: z.object({}).strict(), res: z.array(ScanRecord) },
} as const;

export const scanEvents = {
  /** Every task's last scan (a full snapshot), whenever one starts or ends. */
  'scans.changed': z.array(ScanRecord),
} as const;
