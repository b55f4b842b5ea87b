// The Run step's navigation mark: none before the plan and the runs are loaded or without tasks;
// to do while a task never ran, runs, or was cancelled last; done only when every task's latest
// run is done and verified (an older failure does not count); attention when a latest run failed
// or did not verify, or needs the operator (not watched, a host to answer, a refused scheduled start
// that no later run settled).
import { describe, expect, it } from 'vitest';
import type { Run, TaskSchedule } from '../../electron/contract/console.ts';
import { runStepStatus } from '../../renderer/src/domain/run-step.ts';
import { catalogues } from '../../renderer/src/i18n/index.ts';

let clock = 0;
function run(taskName: string, state: Run['state'], passed: boolean | null = state === 'done' ? true : null, extra: Partial<Run> = {}): Run {
  clock += 1;
  const at = new Date(Date.UTC(2026, 2, 2, 8, 0, clock)).toISOString();
  return { id: `r${clock}`, taskName, taskId: null, state, phase: null, message: null, errorCode: null, failure: null, coordinator: 'dst1', sources: ['src1'], destinations: ['dst1'], createdAt: at, endedAt: null, progress: null, passed, reportId: null, ...extra };
}

const none: TaskSchedule[] = [];

describe('Run step status', () => {
  it('shows no mark until the plan and the runs are loaded, or when there is no task', () => {
    expect(runStepStatus({ tasks: null, runs: [], schedules: none })).toBeUndefined();
    expect(runStepStatus({ tasks: ['a'], runs: null, schedules: none })).toBeUndefined();
    expect(runStepStatus({ tasks: [], runs: [run('a', 'done')], schedules: none })).toBeUndefined();
  });

  it('is to do until the latest run of every task is done and verified', () => {
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [], schedules: none })).toEqual({ state: 'todo' });
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [run('a', 'done')], schedules: none })).toEqual({ state: 'todo' });
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [run('a', 'done'), run('b', 'running')], schedules: none })).toEqual({ state: 'todo' });
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'cancelled')], schedules: none })).toEqual({ state: 'todo' });
    // A failure followed by a verified run is done; runs of tasks no longer in the plan do not count.
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [run('a', 'failed'), run('a', 'done'), run('b', 'done'), run('gone', 'failed')], schedules: none })).toEqual({ state: 'done' });
  });

  it('needs attention when a latest run failed or did not verify', () => {
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [run('a', 'done'), run('b', 'failed')], schedules: none })).toEqual({ state: 'attention', reason: 'runs-failed' });
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'done', false)], schedules: none })).toEqual({ state: 'attention', reason: 'runs-failed' });
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'done'), run('a', 'failed')], schedules: none })).toEqual({ state: 'attention', reason: 'runs-failed' });
  });

  it('needs attention when a run needs the operator, before any failure', () => {
    const failure = { code: 'password-needed', message: 'src1 needs a password.', stage: 'target', hostId: 'h1', hostName: 'src1', hostKey: null, authMethod: 'password', logTail: null } as const;
    expect(runStepStatus({ tasks: ['a', 'b'], runs: [run('a', 'failed'), run('b', 'detached')], schedules: none })).toEqual({ state: 'attention', reason: 'runs-need-action' });
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'running', null, { failure })], schedules: none })).toEqual({ state: 'attention', reason: 'runs-need-action' });
    const refused: TaskSchedule = { task: 'a', everyHours: 6, state: 'scheduled', nextRunAt: '2026-03-02T14:00:00.000Z', mode: 'incremental', lastAttempt: { at: '2026-03-02T09:00:00.000Z', outcome: 'not-started', runId: null, message: 'src1 needs a password.' } };
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'done')], schedules: [refused] })).toEqual({ state: 'attention', reason: 'runs-need-action' });
    const skipped: TaskSchedule = { ...refused, lastAttempt: { at: '2026-03-02T08:00:00.000Z', outcome: 'skipped-active', runId: 'r1', message: 'still running' } };
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'done')], schedules: [skipped] })).toEqual({ state: 'done' });
    // The operator started the task by hand after the refusal and it verified: settled, until the
    // schedule is refused again after that run.
    const byHand = run('a', 'done', true, { createdAt: '2026-03-02T09:05:00.000Z', endedAt: '2026-03-02T09:10:00.000Z' });
    expect(runStepStatus({ tasks: ['a'], runs: [run('a', 'done'), byHand], schedules: [refused] })).toEqual({ state: 'done' });
    const refusedAgain: TaskSchedule = { ...refused, lastAttempt: { at: '2026-03-02T14:00:00.000Z', outcome: 'not-started', runId: null, message: 'src1 needs a password.' } };
    expect(runStepStatus({ tasks: ['a'], runs: [byHand], schedules: [refusedAgain] })).toEqual({ state: 'attention', reason: 'runs-need-action' });
    // A hand start that failed still says what failed, not the old refusal.
    const failedByHand = run('a', 'failed', null, { createdAt: '2026-03-02T09:05:00.000Z' });
    expect(runStepStatus({ tasks: ['a'], runs: [failedByHand], schedules: [refused] })).toEqual({ state: 'attention', reason: 'runs-failed' });
  });

  it('says its reasons in both languages', () => {
    for (const reason of ['runs-failed', 'runs-need-action'] as const) {
      expect(catalogues.en.nav.reasons[reason]).toMatch(/run/);
      expect(catalogues['zh-CN'].nav.reasons[reason]).toMatch(/运行/);
    }
  });
});
