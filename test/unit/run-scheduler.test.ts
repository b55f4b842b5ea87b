/**
 * The repeat schedule's rules with a hand-moved clock: no schedule before the first run ended; the
 * next run at end + interval, started once; a slot due while a run is active is skipped (never two
 * at once) and the next follows that run's end; failed runs and refused starts do not stop it;
 * slots missed while Ferry was closed run once at start-up; the last attempt survives a restart in
 * schedule.json; editing the interval moves it, null or removing the task cancels it; a check that
 * fails is shown and retried a minute later. The runs and
 * the start are an in-memory stand-in for the task-runs service (the integration test runs real ones).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlanTask, Run, TaskSchedule, type RunStarted } from '../../electron/contract/console.ts';
import { RunScheduler, WAKE_CHECK_MS } from '../../electron/controller/run-scheduler.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

let dataDir: string;
let clock: ManualClock;
let tasks: PlanTask[];
let runs: Run[];
let starts: string[];
let startAnswer: (task: string) => Promise<RunStarted>;
let published: TaskSchedule[][];
/** Tasks the stand-in service is starting or watching (a cancelled run's watch ending). */
let busy: Set<string>;
/** The loaders' next reads fail with this error (a plan or a runs store that cannot be read): once, or `times`. */
let failNext: { loader: 'tasks' | 'runs'; error: Error; times?: number } | null;
const open: RunScheduler[] = [];

function task(name: string, repeatEveryHours: number | null): PlanTask {
  return PlanTask.parse({ name, source: `${name}-from`, destination: `${name}-to`, repeatEveryHours });
}

function run(taskName: string, state: Run['state'], createdMs: number, endedMs: number | null, trigger: Run['trigger'] = 'manual'): Run {
  return Run.parse({
    id: randomUUID(), taskName, trigger, taskId: null, state, phase: null, message: null, errorCode: null, failure: null, coordinator: 'dst1', sources: ['src1'], destinations: ['dst1'],
    createdAt: iso(createdMs), endedAt: endedMs === null ? null : iso(endedMs), progress: null, passed: state === 'done' ? true : null, reportId: null,
  });
}

/** What the task-runs service does on a scheduled start: a new run of the task, running. */
async function startRun(name: string): Promise<RunStarted> {
  starts.push(name);
  const r = run(name, 'running', clock.now(), null, 'schedule');
  runs = [r, ...runs];
  return { ok: true, run: r };
}

function failOnce(loader: 'tasks' | 'runs'): null {
  const fail = failNext;
  if (fail?.loader !== loader) return null;
  const left = (fail.times ?? 1) - 1;
  failNext = left > 0 ? { ...fail, times: left } : null;
  throw fail.error;
}

async function openScheduler(): Promise<RunScheduler> {
  const s = new RunScheduler({
    dataDir,
    clock,
    tasks: async () => failOnce('tasks') ?? tasks,
    runs: async () => failOnce('runs') ?? runs,
    busy: (name) => busy.has(name),
    start: (name) => startAnswer(name),
    onSchedule: (list) => published.push(list.map((x) => TaskSchedule.parse(x))),
  });
  open.push(s);
  await s.start();
  return s;
}

/** Moves the clock and waits until what fell due was attempted. */
async function advance(s: RunScheduler, ms: number): Promise<void> {
  clock.advance(ms);
  await s.refresh();
}

function endRun(id: string, state: 'done' | 'failed' | 'cancelled'): void {
  runs = runs.map((r) => (r.id === id ? { ...r, state, endedAt: iso(clock.now()), passed: state === 'done' ? true : null } : r));
}

async function scheduleOf(s: RunScheduler, name: string): Promise<TaskSchedule | undefined> {
  return (await s.list()).find((x) => x.task === name);
}

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-scheduler-'));
  clock = new ManualClock(() => T0);
  tasks = [task('nightly', 6)];
  runs = [];
  starts = [];
  startAnswer = startRun;
  published = [];
  busy = new Set();
  failNext = null;
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('run scheduler', () => {
  it('waits for the first run, then starts the next one once, at its end + the interval, in incremental mode', async () => {
    const s = await openScheduler();
    expect(await scheduleOf(s, 'nightly')).toEqual({ task: 'nightly', everyHours: 6, state: 'waiting-first-run', nextRunAt: null, mode: 'incremental', lastAttempt: null });
    await advance(s, 48 * HOUR);
    expect(starts).toEqual([]);
    expect(clock.timers).toBe(0);

    // The operator's first run: while it runs, the schedule waits for its end.
    const first = run('nightly', 'running', clock.now(), null);
    runs = [first];
    await s.refresh();
    expect((await scheduleOf(s, 'nightly'))?.state).toBe('active');
    await advance(s, HOUR);
    endRun(first.id, 'done');
    const endedAt = clock.now();
    await s.refresh();
    expect(await scheduleOf(s, 'nightly')).toMatchObject({ state: 'scheduled', nextRunAt: iso(endedAt + 6 * HOUR), lastAttempt: null });
    // The timer looks again every minute (a machine that slept starts a due run on waking).
    expect(clock.nextDueMs).toBe(clock.now() + WAKE_CHECK_MS);

    await advance(s, 6 * HOUR - 1000);
    expect(starts).toEqual([]);
    await advance(s, 1000);
    expect(starts).toEqual(['nightly']);
    const scheduled = await scheduleOf(s, 'nightly');
    expect(scheduled).toMatchObject({ state: 'active', lastAttempt: { at: iso(endedAt + 6 * HOUR), outcome: 'started', runId: runs[0]?.id, message: null } });
    expect(runs[0]?.trigger).toBe('schedule');
    // Time passing with nothing ending starts nothing more before the next slot.
    await advance(s, HOUR);
    expect(starts).toEqual(['nightly']);

    // The scheduled run ends: the next slot follows its end.
    endRun(runs[0]?.id as string, 'done');
    const secondEnd = clock.now();
    await s.refresh();
    expect((await scheduleOf(s, 'nightly'))?.nextRunAt).toBe(iso(secondEnd + 6 * HOUR));
    await advance(s, 6 * HOUR);
    expect(starts).toEqual(['nightly', 'nightly']);
    // Every event is a full snapshot of the schedules, sent only when something changed.
    expect(published.length).toBeGreaterThan(3);
    expect(published.every((list) => list.length === 1 && list[0]?.task === 'nightly')).toBe(true);
    expect(new Set(published.map((p) => JSON.stringify(p))).size).toBe(published.length);
  });

  it('skips a slot while a run of the task is active, never starting a second one, and follows that run’s end', async () => {
    runs = [run('nightly', 'done', T0 - 2 * HOUR, T0 - HOUR)];
    const s = await openScheduler();
    expect((await scheduleOf(s, 'nightly'))?.nextRunAt).toBe(iso(T0 + 5 * HOUR));
    // The operator starts a run by hand before the slot; it is still running when the slot comes.
    await advance(s, 4 * HOUR);
    const manual = run('nightly', 'running', clock.now(), null);
    runs = [manual, ...runs];
    await s.refresh();
    await advance(s, HOUR);
    expect(starts).toEqual([]);
    const skipped = await scheduleOf(s, 'nightly');
    expect(skipped?.lastAttempt).toMatchObject({ at: iso(T0 + 5 * HOUR), outcome: 'skipped-active', runId: manual.id });
    expect(skipped?.lastAttempt?.message).toMatch(/still running.*skipped/);
    expect(skipped).toMatchObject({ state: 'active', nextRunAt: iso(T0 + 11 * HOUR) });
    // A detached run counts as active too (it may still be copying on the hosts).
    runs = runs.map((r) => (r.id === manual.id ? { ...r, state: 'detached' } : r));
    await advance(s, 6 * HOUR);
    expect(starts).toEqual([]);
    expect((await scheduleOf(s, 'nightly'))?.lastAttempt).toMatchObject({ outcome: 'skipped-active', at: iso(T0 + 11 * HOUR) });
    // It ends: the next run comes one interval after that end, not at the old slot.
    await advance(s, 2 * HOUR);
    endRun(manual.id, 'done');
    await s.refresh();
    expect(await scheduleOf(s, 'nightly')).toMatchObject({ state: 'scheduled', nextRunAt: iso(T0 + 19 * HOUR) });
    await advance(s, 6 * HOUR);
    expect(starts).toEqual(['nightly']);

    // A run already marked cancelled whose watch has not ended yet still counts as active.
    runs = runs.map((r, i) => (i === 0 ? { ...r, state: 'cancelled' } : r));
    busy.add('nightly');
    await advance(s, 7 * HOUR);
    expect(starts).toEqual(['nightly']);
    expect(await scheduleOf(s, 'nightly')).toMatchObject({ state: 'active', lastAttempt: { outcome: 'skipped-active', message: expect.stringMatching(/was still ending at the scheduled time/) } });
    busy.delete('nightly');
    endRun(runs[0]?.id as string, 'cancelled');
    await s.refresh();
    expect((await scheduleOf(s, 'nightly'))?.state).toBe('scheduled');
    await advance(s, 6 * HOUR);
    expect(starts).toEqual(['nightly', 'nightly']);
  });

  it('goes on after a failed run and after a refused start, which it shows', async () => {
    runs = [run('nightly', 'failed', T0 - 2 * HOUR, T0)];
    const s = await openScheduler();
    expect((await scheduleOf(s, 'nightly'))?.nextRunAt).toBe(iso(T0 + 6 * HOUR));
    startAnswer = async () => ({ ok: false, failure: { code: 'password-needed', message: 'src1 logs in with a password. Enter the password for root.', stage: 'target', hostId: 'h1', hostName: 'src1', hostKey: null, authMethod: 'password', logTail: null } });
    await advance(s, 6 * HOUR);
    const refused = await scheduleOf(s, 'nightly');
    expect(refused).toMatchObject({ state: 'scheduled', nextRunAt: iso(T0 + 12 * HOUR), lastAttempt: { outcome: 'not-started', runId: null } });
    expect(refused?.lastAttempt?.message).toMatch(/password.*Start the task once from the Run step/);
    startAnswer = async () => {
      throw new Error('Task "nightly" cannot run: the data address "nightly-from" or its tunnel is missing.');
    };
    await advance(s, 6 * HOUR);
    expect((await scheduleOf(s, 'nightly'))?.lastAttempt).toMatchObject({ outcome: 'not-started', message: expect.stringMatching(/cannot run/) });
    startAnswer = startRun;
    await advance(s, 6 * HOUR);
    expect(starts).toEqual(['nightly']);
    endRun(runs[0]?.id as string, 'failed');
    await s.refresh();
    expect((await scheduleOf(s, 'nightly'))?.state).toBe('scheduled');
    await advance(s, 6 * HOUR);
    expect(starts).toEqual(['nightly', 'nightly']);
  });

  it('runs slots missed while Ferry was closed once at start-up, and a restart keeps the last attempt', async () => {
    // Three days closed with a 6 h interval: twelve missed slots.
    runs = [run('nightly', 'done', T0 - 73 * HOUR, T0 - 72 * HOUR), run('weekly', 'done', T0 - 2 * HOUR, T0 - HOUR)];
    tasks = [task('nightly', 6), task('weekly', 168)];
    const s = await openScheduler();
    expect((await scheduleOf(s, 'nightly'))?.nextRunAt).toBe(iso(T0 - 66 * HOUR));
    await advance(s, 0);
    expect(starts).toEqual(['nightly']);
    await advance(s, 60_000);
    expect(starts).toEqual(['nightly']);
    expect((await scheduleOf(s, 'weekly'))?.nextRunAt).toBe(iso(T0 + 167 * HOUR));
    await s.close();

    // Restarted while that run is still active: nothing new starts, the attempt is remembered.
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'schedule.json'), 'utf8')) as { lastAttempts: Record<string, { outcome: string }> };
    expect(stored.lastAttempts.nightly?.outcome).toBe('started');
    const again = await openScheduler();
    await advance(again, 0);
    expect(starts).toEqual(['nightly']);
    expect((await scheduleOf(again, 'nightly'))?.lastAttempt).toMatchObject({ outcome: 'started', runId: runs[0]?.id });

    // A skipped slot survives a restart too: the next attempt is one interval after it.
    await advance(again, 6 * HOUR + 60_000);
    expect((await scheduleOf(again, 'nightly'))?.lastAttempt?.outcome).toBe('skipped-active');
    const skippedAt = Date.parse((await scheduleOf(again, 'nightly'))?.lastAttempt?.at as string);
    await again.close();
    const third = await openScheduler();
    expect((await scheduleOf(third, 'nightly'))?.nextRunAt).toBe(iso(skippedAt + 6 * HOUR));
  });

  it('follows edits of the interval, and cancels when the interval is cleared or the task removed', async () => {
    runs = [run('nightly', 'done', T0 - 2 * HOUR, T0), run('hourly', 'done', T0 - 2 * HOUR, T0)];
    tasks = [task('nightly', 6), task('hourly', 1)];
    const s = await openScheduler();
    expect((await s.list()).map((x) => [x.task, x.nextRunAt])).toEqual([
      ['nightly', iso(T0 + 6 * HOUR)],
      ['hourly', iso(T0 + HOUR)],
    ]);
    expect(clock.nextDueMs).toBe(T0 + WAKE_CHECK_MS);
    tasks = [task('nightly', 12), task('hourly', null)];
    await s.refresh();
    expect((await s.list()).map((x) => [x.task, x.nextRunAt])).toEqual([['nightly', iso(T0 + 12 * HOUR)]]);
    // One timer, still the minute re-check (not a wait of the whole new interval).
    expect(clock.timers).toBe(1);
    expect(clock.nextDueMs).toBe(T0 + WAKE_CHECK_MS);
    await advance(s, 2 * HOUR);
    expect(starts).toEqual([]);

    // A refused attempt is stored; removing the task forgets it and stops the timer.
    startAnswer = async () => {
      throw new Error('Ferry is shutting down');
    };
    await advance(s, 10 * HOUR);
    expect((await scheduleOf(s, 'nightly'))?.lastAttempt?.outcome).toBe('not-started');
    tasks = [];
    await s.refresh();
    expect(await s.list()).toEqual([]);
    expect(clock.timers).toBe(0);
    expect(published.at(-1)).toEqual([]);
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'schedule.json'), 'utf8')) as { lastAttempts: Record<string, unknown> };
    expect(stored.lastAttempts).toEqual({});
    await advance(s, 100 * HOUR);
    expect(starts).toEqual([]);
  });

  it('shows a failed check and tries again a minute later, then starts the due run', async () => {
    runs = [run('nightly', 'done', T0 - 2 * HOUR, T0)];
    const s = await openScheduler();
    expect((await scheduleOf(s, 'nightly'))?.nextRunAt).toBe(iso(T0 + 6 * HOUR));
    // The slot falls due and the timer's own check cannot read the runs (nothing else refreshes).
    failNext = { loader: 'runs', error: new Error('runs.json: EIO') };
    clock.advance(6 * HOUR);
    await vi.waitFor(() => expect(published.at(-1)?.[0]?.problem).toMatch(/could not be checked \(runs\.json: EIO\).*within a minute/));
    expect(starts).toEqual([]);
    expect(clock.timers).toBe(1);
    expect(clock.nextDueMs).toBe(clock.now() + WAKE_CHECK_MS);
    // A minute later the runs read again: the due run starts and the problem is gone.
    clock.advance(WAKE_CHECK_MS);
    await vi.waitFor(() => expect(starts).toEqual(['nightly']));
    await vi.waitFor(() => expect(published.at(-1)?.[0]).toMatchObject({ state: 'active', lastAttempt: { outcome: 'started' } }));
    expect(published.at(-1)?.[0]?.problem).toBeUndefined();

    // A plan that cannot be read on a refresh: refresh() still resolves, the schedules carry the
    // problem, and the retry a minute later clears it.
    await s.close();
    tasks = [task('hourly', 1)];
    runs = [run('hourly', 'done', clock.now() - HOUR, clock.now())];
    failNext = { loader: 'tasks', error: new Error('plan.json is not valid JSON') };
    const again = await openScheduler();
    await expect(again.list()).resolves.toMatchObject([{ task: 'hourly', state: 'scheduled' }]);
    failNext = { loader: 'tasks', error: new Error('plan.json is not valid JSON') };
    await again.refresh();
    expect(published.at(-1)?.[0]).toMatchObject({ task: 'hourly', problem: expect.stringMatching(/plan\.json is not valid JSON/) });
    expect(clock.timers).toBe(1);
    clock.advance(WAKE_CHECK_MS);
    await vi.waitFor(() => expect(published.at(-1)?.[0]?.problem).toBeUndefined());
    expect(clock.timers).toBe(1);
  });

  it('says why through list() while a failing check left no schedule to carry the problem', async () => {
    runs = [run('nightly', 'done', T0 - 2 * HOUR, T0)];
    failNext = { loader: 'tasks', error: new Error('plan.json: EACCES'), times: 2 };
    const s = await openScheduler();
    await expect(s.list()).rejects.toThrow(/could not be checked \(plan\.json: EACCES\)/);
    expect(clock.timers).toBe(1);
    await expect(s.list()).resolves.toMatchObject([{ task: 'nightly', nextRunAt: iso(T0 + 6 * HOUR) }]);
  });
});
