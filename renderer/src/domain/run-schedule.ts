/**
 * What the console says about a task's repeat schedule (the controller's `runs.schedule`): the
 * next incremental run, or that the schedule waits for the first run, and what the last due time
 * did when it did not start a run (skipped while a run was active, or refused with a reason). Pure;
 * no Vue, no DOM. Computes no times: they come from the controller.
 */
import type { TaskSchedule } from '../../../electron/contract/console.ts';

export type ScheduleLine =
  | { kind: 'first-run'; hours: number }
  | { kind: 'next'; hours: number; at: string; whileActive: boolean };

export type ScheduleProblem = { kind: 'skipped'; at: string } | { kind: 'not-started'; at: string; message: string };

export interface ScheduleView {
  line: ScheduleLine;
  /** The last due time's outcome when it was not a start. */
  problem: ScheduleProblem | null;
}

export function scheduleView(s: TaskSchedule): ScheduleView {
  const line: ScheduleLine = s.nextRunAt === null ? { kind: 'first-run', hours: s.everyHours } : { kind: 'next', hours: s.everyHours, at: s.nextRunAt, whileActive: s.state === 'active' };
  const a = s.lastAttempt;
  const problem: ScheduleProblem | null =
    a?.outcome === 'skipped-active' ? { kind: 'skipped', at: a.at } : a?.outcome === 'not-started' ? { kind: 'not-started', at: a.at, message: a.message ?? '' } : null;
  return { line, problem };
}
