/**
 * The Run step's mark in the navigation: done when the latest run of every task finished and
 * verified; attention when a task's latest run failed or did not verify (reason 'runs-failed'), or
 * needs the operator: Ferry is not watching it, a host must be answered, or the repeat schedule
 * could not start it and no run of the task was started since (reason 'runs-need-action'); else to do (a task never ran, a run is going on,
 * or the latest was cancelled). No mark while the plan or the runs are not loaded, or without tasks.
 * Pure; no Vue, no DOM.
 */
import type { Run, TaskSchedule } from '../../../electron/contract/console.ts';
import { latestRunByTask } from './runs.ts';

/** A StepStatus (plan-steps.ts) of the Run step; kept apart so this module needs no navigation code. */
export interface RunStepStatus {
  state: 'done' | 'attention' | 'todo';
  reason?: 'runs-failed' | 'runs-need-action';
}

export interface RunStepInputs {
  /** The plan's task names; null while the plan is not loaded. */
  tasks: readonly string[] | null;
  /** Every run; null while the run list is not loaded. */
  runs: readonly Run[] | null;
  schedules: readonly TaskSchedule[];
}

function needsAction(run: Run): boolean {
  return run.state === 'detached' || run.failure !== null;
}

function failed(run: Run): boolean {
  return run.state === 'failed' || (run.state === 'done' && run.passed === false);
}

/**
 * The schedule's last start was refused and nothing ran since: a run of the task created after the
 * refusal (the operator started it by hand, answering what the schedule could not) settles it.
 */
function refusedSinceLatestRun(schedule: TaskSchedule, latest: Run | undefined): boolean {
  const attempt = schedule.lastAttempt;
  if (attempt?.outcome !== 'not-started') return false;
  return !latest || Date.parse(latest.createdAt) <= Date.parse(attempt.at);
}

export function runStepStatus({ tasks, runs, schedules }: RunStepInputs): RunStepStatus | undefined {
  if (!tasks || !runs || tasks.length === 0) return undefined;
  const latest = latestRunByTask(runs);
  const mine = tasks.flatMap((t) => {
    const r = latest.get(t);
    return r ? [r] : [];
  });
  const refused = schedules.some((s) => tasks.includes(s.task) && refusedSinceLatestRun(s, latest.get(s.task)));
  if (mine.some(needsAction) || refused) return { state: 'attention', reason: 'runs-need-action' };
  if (mine.some(failed)) return { state: 'attention', reason: 'runs-failed' };
  const verified = mine.length === tasks.length && mine.every((r) => r.state === 'done' && r.passed === true);
  return { state: verified ? 'done' : 'todo' };
}
