/**
 * Runs of plan tasks as the console sees them: starting a task on its hosts, the list of runs
 * with their state, one run's live snapshot (progress, rates, ETA, per-agent throughput, link
 * states, current messages), pause / resume / cancel, and the report a finished run stored.
 * Rates and the ETA are computed by the controller; the console renders snapshots as they come.
 * A start that needs the operator first (an unknown host key, a password or passphrase) answers
 * `{ok:false, failure}` with the HostFailure the Hosts screen already acts on. Tasks that repeat
 * (`repeatEveryHours`) have a schedule (`runs.schedule`, call and event): when their next
 * incremental run is due and what the last due time did. Pure: schemas only.
 */
import { z } from 'zod';
import { TaskPhase, TaskProgress } from '../../agent/protocol/task.ts';
import { HostFailure, HostSecret } from './host-ops.ts';
import { PlanName } from './plan.ts';

export { TaskPhase, TaskProgress } from '../../agent/protocol/task.ts';

/**
 * starting: connecting, deploying and creating the task; running / paused / waiting: as the
 * coordinator says; detached: Ferry is not watching (it could not reach a host, or it was closed
 * mid-run and could not reattach yet): the task may still run on the hosts, start it again to
 * reattach; done / failed / cancelled: final.
 */
export const RunState = z.enum(['starting', 'running', 'paused', 'waiting', 'detached', 'done', 'failed', 'cancelled']);
export type RunState = z.infer<typeof RunState>;
export const FINAL_RUN_STATES: readonly RunState[] = ['done', 'failed', 'cancelled'];

/** Who started a run: the operator (runs.start), or the task's repeat schedule (an incremental run). */
export const RunTrigger = z.enum(['manual', 'schedule']);
export type RunTrigger = z.infer<typeof RunTrigger>;

/** One run of a plan task, as the run list shows it (persisted in `<data-dir>/runs.json`). */
export const Run = z.object({
  id: z.string(),
  taskName: z.string(),
  /** Absent in runs stored before schedules existed: those were all 'manual'. */
  trigger: RunTrigger.optional(),
  /** The coordinator's task id (derived from the plan task), once known. */
  taskId: z.string().nullable(),
  state: RunState,
  phase: TaskPhase.nullable(),
  /** Why the run waits, failed, was cancelled or is detached (English). */
  message: z.string().nullable(),
  errorCode: z.string().nullable(),
  /** What the operator must answer before the run can be (re)attached. */
  failure: HostFailure.nullable(),
  coordinator: z.string().nullable(),
  sources: z.array(z.string()),
  destinations: z.array(z.string()),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  /** Last progress seen (the live one comes with runs.progress). */
  progress: TaskProgress.nullable(),
  /** The verification verdict: set when the run is done. */
  passed: z.boolean().nullable(),
  /** The stored report of a finished run (Reports step). */
  reportId: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

export const RunLinkState = z.enum(['idle', 'connecting', 'ready', 'lost', 'reconnecting', 'failed', 'closed']);
export type RunLinkState = z.infer<typeof RunLinkState>;

export const RunLink = z.object({
  host: z.string(),
  role: z.enum(['source', 'destination']),
  coordinator: z.boolean(),
  state: RunLinkState,
  reconnects: z.number().int().nonnegative(),
});
export type RunLink = z.infer<typeof RunLink>;

export const RunAgent = z.object({
  /** "role:agentId", stable for a run: the key of the agent's throughput samples. */
  key: z.string(),
  agentId: z.string(),
  /** The plan host this agent runs on, when Ferry knows it. */
  host: z.string().nullable(),
  role: z.enum(['source', 'destination']),
  inflight: z.number().int().nonnegative(),
  /** File bytes it moved since its coordinator started (null: an agent that does not count them). */
  bytesDone: z.number().nonnegative().nullable(),
  bytesPerSec: z.number().nonnegative().nullable(),
});
export type RunAgent = z.infer<typeof RunAgent>;

/** Throughput at one moment: the task's, and each agent's by key. */
export const RunSample = z.object({
  /** Milliseconds since the run's first sample. */
  t: z.number().nonnegative(),
  bytesPerSec: z.number().nonnegative(),
  agents: z.record(z.string(), z.number().nonnegative()),
});
export type RunSample = z.infer<typeof RunSample>;

export const RunNote = z.object({
  at: z.string(),
  level: z.enum(['info', 'warning', 'error']),
  host: z.string().nullable(),
  message: z.string(),
});
export type RunNote = z.infer<typeof RunNote>;

/** One run's live state: `runs.progress` (at most RUN_PROGRESS_MIN_INTERVAL_MS apart per run) and runs.get. */
export const RunSnapshot = z.object({
  run: Run,
  /** Bytes and files per second over the last RUN_RATE_WINDOW_MS. */
  bytesPerSec: z.number().nonnegative(),
  filesPerSec: z.number().nonnegative(),
  /** Seconds until the copy ends at the current rate; null when unknown (no rate, still listing). */
  etaSeconds: z.number().nonnegative().nullable(),
  /** Seconds since the run was started (or reattached) in this Ferry. */
  elapsedSeconds: z.number().nonnegative(),
  agents: z.array(RunAgent),
  /** Throughput history of this watch, oldest first (downsampled as it grows). */
  samples: z.array(RunSample),
  links: z.array(RunLink),
  /** The latest messages (link drops, reconnects, failures), newest last. */
  notes: z.array(RunNote),
  updatedAt: z.string(),
});
export type RunSnapshot = z.infer<typeof RunSnapshot>;

export const RUN_PROGRESS_MIN_INTERVAL_MS = 500;

/**
 * What the schedule did at its last due time: started a run, skipped it because a run of the task
 * was still active (never two at once), or could not start it (a host needs the operator, the plan
 * has a problem): `message` says why, in English.
 */
export const ScheduleAttempt = z.object({
  at: z.string(),
  outcome: z.enum(['started', 'skipped-active', 'not-started']),
  runId: z.string().nullable(),
  message: z.string().nullable(),
});
export type ScheduleAttempt = z.infer<typeof ScheduleAttempt>;

/**
 * The repeat schedule of one task with `repeatEveryHours`: the next incremental run comes
 * `everyHours` after the task's last run ended (any outcome: a failed run does not stop it) or after
 * the last attempt, whichever is later. waiting-first-run: no run of it has ended yet (start it once
 * from the Run step); scheduled: `nextRunAt` is set; active: a run of it is going on now (a slot that
 * falls due meanwhile is skipped; the next one follows that run's end).
 */
export const TaskSchedule = z.object({
  task: z.string(),
  everyHours: z.number().positive(),
  state: z.enum(['waiting-first-run', 'scheduled', 'active']),
  /** When the next run is due (ISO); null while waiting for the first run to end. */
  nextRunAt: z.string().nullable(),
  /** Scheduled runs copy in incremental mode, whatever the task's own mode. */
  mode: z.literal('incremental'),
  lastAttempt: ScheduleAttempt.nullable(),
  /** Present while Ferry cannot check the schedules (it retries every minute): why, in English. */
  problem: z.string().optional(),
});
export type TaskSchedule = z.infer<typeof TaskSchedule>;
export const RUN_RATE_WINDOW_MS = 5000;

const RunIdRequest = z.object({ id: z.string().min(1) }).strict();
const RunStarted = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), run: Run }), z.object({ ok: z.literal(false), failure: HostFailure })]);
export type RunStarted = z.infer<typeof RunStarted>;

export const taskRunCalls = {
  'runs.list': { req: z.object({}).strict(), res: z.array(Run) },
  /**
   * Starts the plan task on its hosts, or reattaches to its unfinished run. Answers once every
   * host was reached (the deploy and the task go on in the background): a host that needs a
   * key check or a secret comes back as `{ok:false, failure}`; `secret` answers a prompt for `hostId`.
   */
  'runs.start': {
    req: z.object({ task: PlanName, secret: z.object({ hostId: z.string().min(1), secret: HostSecret }).strict().optional() }).strict(),
    res: RunStarted,
  },
  'runs.get': { req: RunIdRequest, res: RunSnapshot },
  'runs.pause': { req: RunIdRequest, res: Run },
  'runs.resume': { req: RunIdRequest, res: Run },
  'runs.cancel': { req: RunIdRequest, res: Run },
  /** The repeat schedule of every task that has one (tasks without repeatEveryHours are absent). */
  'runs.schedule': { req: z.object({}).strict(), res: z.array(TaskSchedule) },
} as const;

export const taskRunEvents = {
  /** Every run (a full snapshot), on any change of state. */
  'runs.changed': z.array(Run),
  /** One run's live snapshot, coalesced. */
  'runs.progress': RunSnapshot,
  /** Every task's repeat schedule (a full snapshot), whenever a next run time or an attempt changes. */
  'runs.schedule': z.array(TaskSchedule),
} as const;
