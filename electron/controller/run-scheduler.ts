/**
 * The repeat schedule of plan tasks (`repeatEveryHours`): it starts each task's next run, in
 * incremental mode, through the task-runs service, and publishes every task's next run time
 * (`runs.schedule`). The schedule is derived, not stored: a task's next run is due `everyHours`
 * after the later of its last ended run (any outcome, whoever started it) and the schedule's last
 * attempt, so it follows a restart, an edit of the interval, a rename or removal of the task with
 * nothing to migrate. Only the last attempt per task is persisted (`<data-dir>/schedule.json`),
 * because a skipped or refused attempt leaves no run behind.
 *
 * Rules: never two runs of a task at once (a slot due while a run of the task is active is
 * skipped, and recorded); a failed run or a refused start does not stop the schedule; slots missed
 * while Ferry was closed run once at start-up, not once each; no schedule before the task's first
 * run ended (the operator starts it, in the task's own mode); a check that fails (plan or runs
 * unreadable, a full disk) is published as the schedules' `problem` and retried a minute later,
 * never leaving the schedule without a timer. Time comes from the injected clock,
 * so tests advance it; the runs it starts are real runs. Never prompts: a host that needs the
 * operator makes the attempt 'not-started' with the reason.
 */
import path from 'node:path';
import { z } from 'zod';
import type { PlanTask } from '../contract/plan.ts';
import { FINAL_RUN_STATES, ScheduleAttempt, type Run, type RunStarted, type TaskSchedule } from '../contract/task-runs.ts';
import { JsonStore } from './store/json-store.ts';

/** The scheduler's sense of time: `now()` in epoch ms and one-shot timers. */
export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The timer is re-armed at least this often and each time compares the due time with now(): timers
 * do not count time a machine spends asleep, so a laptop that slept past a slot starts it within a
 * minute of waking, not a whole sleep later (and no wait exceeds what Node's timers can hold).
 */
export const WAKE_CHECK_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface RunSchedulerOptions {
  dataDir: string;
  clock?: SchedulerClock;
  /** The plan's task definitions, as they are now. */
  tasks: () => Promise<PlanTask[]>;
  /** Every stored run. */
  runs: () => Promise<Run[]>;
  /**
   * True while Ferry starts or watches a run of the task, even one already marked final (a cancel
   * is 'cancelled' at once; its watch ends a moment later): such a task counts as active.
   */
  busy?: (task: string) => boolean;
  /** Starts a scheduled (incremental) run of the task; throws a ControllerError when it cannot. */
  start: (task: string) => Promise<RunStarted>;
  onSchedule: (schedules: TaskSchedule[]) => void;
}

const ScheduleFile = z.object({ version: z.literal(1), lastAttempts: z.record(z.string(), ScheduleAttempt) });
type ScheduleFile = z.infer<typeof ScheduleFile>;

type RepeatingTask = PlanTask & { repeatEveryHours: number };

function isActive(run: Run): boolean {
  return !FINAL_RUN_STATES.includes(run.state);
}

/**
 * A task's schedule from its runs and its last attempt; `dueMs` is when to start it (null: nothing
 * to start yet). `busy`: Ferry is starting or watching a run of it.
 */
export function scheduleOf(task: RepeatingTask, runs: readonly Run[], lastAttempt: ScheduleAttempt | null, busy = false): TaskSchedule & { dueMs: number | null } {
  const own = runs.filter((r) => r.taskName === task.name);
  const active = busy || own.some(isActive);
  const ends = own.flatMap((r) => (r.endedAt !== null && !isActive(r) ? [Date.parse(r.endedAt)] : []));
  const base = { task: task.name, everyHours: task.repeatEveryHours, mode: 'incremental' as const, lastAttempt };
  if (ends.length === 0) return { ...base, state: active ? 'active' : 'waiting-first-run', nextRunAt: null, dueMs: null };
  const attemptMs = lastAttempt ? Date.parse(lastAttempt.at) : Number.NEGATIVE_INFINITY;
  const dueMs = Math.max(Math.max(...ends), attemptMs) + task.repeatEveryHours * HOUR_MS;
  return { ...base, state: active ? 'active' : 'scheduled', nextRunAt: new Date(dueMs).toISOString(), dueMs };
}

export class RunScheduler {
  private readonly clock: SchedulerClock;
  private readonly store: JsonStore<typeof ScheduleFile>;
  private timer: unknown = null;
  private timerDueMs: number | null = null;
  /** Refreshes and attempts run one after another, so two never start the same task. */
  private queue: Promise<void> = Promise.resolve();
  private published = '';
  /** The schedules as last computed without a failure. */
  private computed: TaskSchedule[] = [];
  /** Why the last check failed (null: it did not); shown on every schedule until one succeeds. */
  private problem: string | null = null;
  private closed = false;
  private started = false;

  constructor(private readonly opts: RunSchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.store = new JsonStore(path.join(opts.dataDir, 'schedule.json'), ScheduleFile, () => ({ version: 1 as const, lastAttempts: {} }));
  }

  /** Loads the schedule and arms it; a slot missed while Ferry was closed starts now (once). */
  async start(): Promise<void> {
    await this.store.load();
    this.started = true;
    await this.refresh();
  }

  /**
   * The schedule of every task with repeatEveryHours, as last computed; while the check fails each
   * carries the `problem`, and with no schedule to carry it the failure is thrown.
   */
  async list(): Promise<TaskSchedule[]> {
    if (this.started && !this.closed) await this.refresh();
    if (this.problem !== null && this.computed.length === 0) throw new Error(this.problem);
    return this.current();
  }

  /** Re-derives the schedule (after a change of the plan or of the runs) and re-arms the timer. */
  refresh(): Promise<void> {
    return this.enqueue(async () => {
      await this.compute(false);
    });
  }

  /** Stops the timer; runs it started go on (the task-runs service owns them). */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.queue;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Computes every schedule; with `attemptDue`, first starts (or skips) what is due now. Never
   * rejects: a failure (the plan or the runs unreadable, schedule.json not writable) is published
   * as the schedules' `problem` and retried within WAKE_CHECK_MS, so the schedule never stops
   * silently; the timer is re-armed whatever happened.
   */
  private async compute(attemptDue: boolean): Promise<void> {
    if (this.closed || !this.started) return;
    let nextDueMs: number | null = null;
    try {
      nextDueMs = await this.computeOrThrow(attemptDue);
      this.problem = null;
    } catch (err) {
      this.problem = `The repeat schedule could not be checked (${err instanceof Error ? err.message : String(err)}); Ferry tries again within a minute.`;
      nextDueMs = this.clock.now() + WAKE_CHECK_MS;
    } finally {
      this.publish();
      this.arm(nextDueMs);
    }
  }

  /** The schedules now (after starting what is due); returns when the earliest is due, or null. */
  private async computeOrThrow(attemptDue: boolean): Promise<number | null> {
    const tasks = (await this.opts.tasks()).filter((t): t is RepeatingTask => t.repeatEveryHours !== null);
    let file = await this.store.load();
    await this.forgetRemoved(file, tasks);
    file = await this.store.load();
    let runs = await this.opts.runs();
    if (attemptDue) {
      for (const task of tasks) {
        const s = scheduleOf(task, runs, file.lastAttempts[task.name] ?? null, this.busy(task.name));
        if (s.dueMs === null || s.dueMs > this.clock.now() || this.closed) continue;
        await this.attempt(task.name, runs);
        runs = await this.opts.runs();
        file = await this.store.load();
      }
    }
    const schedules = tasks.map((t) => scheduleOf(t, runs, file.lastAttempts[t.name] ?? null, this.busy(t.name)));
    this.computed = schedules.map(({ dueMs: _dueMs, ...s }) => s);
    const due = schedules.flatMap((s) => (s.dueMs === null ? [] : [s.dueMs]));
    return due.length > 0 ? Math.min(...due) : null;
  }

  /** One due slot of `task`: skipped while a run of it is active, else a scheduled run is started. */
  private async attempt(task: string, runs: readonly Run[]): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    const active = runs.find((r) => r.taskName === task && isActive(r));
    let attempt: ScheduleAttempt;
    if (active || this.busy(task)) {
      const what = active ? `still ${active.state}` : 'still ending';
      attempt = { at, outcome: 'skipped-active', runId: active?.id ?? null, message: `A run of "${task}" was ${what} at the scheduled time; this slot was skipped (never two runs of a task at once).` };
    } else {
      try {
        const result = await this.opts.start(task);
        attempt = result.ok
          ? { at, outcome: 'started', runId: result.run.id, message: null }
          : { at, outcome: 'not-started', runId: null, message: `${result.failure.message} Start the task once from the Run step to answer it; the schedule goes on.` };
      } catch (err) {
        attempt = { at, outcome: 'not-started', runId: null, message: err instanceof Error ? err.message : String(err) };
      }
    }
    await this.store.update((file) => ({ ...file, lastAttempts: { ...file.lastAttempts, [task]: attempt } }));
  }

  /** Drops the attempts of tasks that are gone or no longer repeat (a later schedule starts afresh). */
  private async forgetRemoved(file: ScheduleFile, tasks: readonly PlanTask[]): Promise<void> {
    const keep = new Set(tasks.map((t) => t.name));
    if (Object.keys(file.lastAttempts).every((name) => keep.has(name))) return;
    await this.store.update((f) => ({ ...f, lastAttempts: Object.fromEntries(Object.entries(f.lastAttempts).filter(([name]) => keep.has(name))) }));
  }

  private busy(task: string): boolean {
    return this.opts.busy?.(task) ?? false;
  }

  private arm(dueMs: number | null): void {
    if (dueMs === this.timerDueMs && this.timer !== null) return;
    this.disarm();
    if (dueMs === null || this.closed) return;
    const wait = Math.min(WAKE_CHECK_MS, Math.max(0, dueMs - this.clock.now()));
    this.timerDueMs = dueMs;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerDueMs = null;
      void this.enqueue(() => this.compute(true));
    }, wait);
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerDueMs = null;
  }

  private current(): TaskSchedule[] {
    const problem = this.problem;
    return problem === null ? this.computed : this.computed.map((s) => ({ ...s, problem }));
  }

  private publish(): void {
    const current = this.current();
    const text = JSON.stringify(current);
    if (text === this.published) return;
    this.published = text;
    this.opts.onSchedule(current);
  }
}
