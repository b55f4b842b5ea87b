// The console's side of repeat schedules: the line a task's schedule shows (first run, next run,
// next run while one is active) and the last due time's problem (skipped, not started, with the
// controller's reason); the runs store subscribes to runs.schedule before it loads the schedules
// and keeps the newest full snapshot; both catalogues say it (Chinese in Chinese).
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskSchedule } from '../../electron/contract/console.ts';
import type { ConsoleClient } from '../../renderer/src/api/client.ts';
import { scheduleView } from '../../renderer/src/domain/run-schedule.ts';
import { catalogues } from '../../renderer/src/i18n/index.ts';
import { useRunsStore } from '../../renderer/src/stores/runs.ts';
import { flush, installFakeConsole, TableTransport } from '../helpers/fake-console-transport.ts';

function schedule(extra: Partial<TaskSchedule> = {}): TaskSchedule {
  return { task: 'nightly', everyHours: 6, state: 'scheduled', nextRunAt: '2026-03-02T14:00:00.000Z', mode: 'incremental', lastAttempt: null, ...extra };
}

describe('schedule display', () => {
  it('says when the next run comes, or that it waits for the first run', () => {
    expect(scheduleView(schedule({ state: 'waiting-first-run', nextRunAt: null }))).toEqual({ line: { kind: 'first-run', hours: 6 }, problem: null });
    expect(scheduleView(schedule()).line).toEqual({ kind: 'next', hours: 6, at: '2026-03-02T14:00:00.000Z', whileActive: false });
    expect(scheduleView(schedule({ state: 'active' })).line).toMatchObject({ kind: 'next', whileActive: true });
  });

  it('shows a skipped or refused due time with its reason, and nothing for a started one', () => {
    const at = '2026-03-02T08:00:00.000Z';
    expect(scheduleView(schedule({ lastAttempt: { at, outcome: 'started', runId: 'r1', message: null } })).problem).toBeNull();
    expect(scheduleView(schedule({ lastAttempt: { at, outcome: 'skipped-active', runId: 'r1', message: 'still running' } })).problem).toEqual({ kind: 'skipped', at });
    expect(scheduleView(schedule({ lastAttempt: { at, outcome: 'not-started', runId: null, message: 'src1 needs a password.' } })).problem).toEqual({ kind: 'not-started', at, message: 'src1 needs a password.' });
  });

  it('is said in both languages, incremental named in each', () => {
    expect(catalogues.en.runs.schedule.next('14:00', '6')).toMatch(/incremental.*14:00.*6 h/);
    expect(catalogues['zh-CN'].runs.schedule.next('14:00', '6')).toMatch(/增量.*14:00.*6 小时/);
    expect(catalogues['zh-CN'].runs.schedule.firstRun('6')).toMatch(/首次运行/);
  });
});

describe('runs store schedules', () => {
  let transport: TableTransport;
  let client: ConsoleClient;

  beforeEach(() => {
    transport = new TableTransport({ 'runs.list': [], 'runs.schedule': [schedule()] });
    client = installFakeConsole(transport);
  });

  it('subscribes before loading, then each event replaces the schedules whole', async () => {
    const store = useRunsStore();
    await store.init();
    await flush();
    expect(transport.log.indexOf('subscribe runs.schedule')).toBeLessThan(transport.log.indexOf('call runs.schedule'));
    expect(store.scheduleByTask.get('nightly')?.nextRunAt).toBe('2026-03-02T14:00:00.000Z');
    client.event({ event: 'runs.schedule', payload: [schedule({ task: 'weekly', everyHours: 168 })] });
    expect([...store.scheduleByTask.keys()]).toEqual(['weekly']);
    client.event({ event: 'runs.schedule', payload: [] });
    expect(store.schedules).toEqual([]);
  });
});
