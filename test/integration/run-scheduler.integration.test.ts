/**
 * The repeat schedule through the Controller against real sshd hosts of the lab (one source host,
 * one destination host, real agents): a task that repeats every hour waits for its first run; the
 * operator's first (full) run ends verified; advancing the injected clock by an hour starts the
 * scheduled run, which is incremental (unchanged files skipped, the new and changed ones copied) and
 * ends verified with its report stored. A slot that falls due while the operator's own run copies is
 * skipped (never two runs at once). Then Ferry is closed and reopened hours later: the missed
 * slots start one run at start-up, not one each; clearing the interval cancels the schedule. Every answer is parsed with the contract.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleEvents, type EventEnvelope, type Run, type TaskSchedule } from '../../electron/contract/console.ts';
import type { Controller } from '../../electron/controller/controller.ts';
import { makeAgentDist } from '../helpers/agent-dist.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { addLabHosts, closeLab, contractCaller, openLabController, waitFor } from '../helpers/lab-controller.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

const HOUR = 3_600_000;
let lab: TestLab;
let work: string;
let nasSrc: string;
let nasDst: string;
let dataDir: string;
let distDir: string;
let clock: ManualClock;
let controller: Controller;
const events: EventEnvelope[] = [];

const openController = () => openLabController({ dataDir, distDir, clock }, (e) => events.push(e));
const call = contractCaller(() => controller);
/** waitFor with this file's patience: two minutes, polled every 200 ms. */
const until = (what: string | (() => string), check: () => boolean | Promise<boolean>) => waitFor(what, check, 120_000, 200);

async function runsOf(task: string): Promise<Run[]> {
  return (await call('runs.list', {})).filter((r) => r.taskName === task);
}

async function scheduleOf(task: string): Promise<TaskSchedule | undefined> {
  return (await call('runs.schedule', {})).find((s) => s.task === task);
}

async function waitEnded(id: string): Promise<Run> {
  let last: Run | undefined;
  await until(() => `run ${id} to end (${JSON.stringify(last)})`, async () => {
    last = (await call('runs.list', {})).find((r) => r.id === id);
    return last?.endedAt != null;
  });
  return last as Run;
}

/** runs.start, trusting every unknown host key it reports (as the operator would after comparing it). */
async function startTrusting(task: string): Promise<Run> {
  for (let i = 0; i < 5; i++) {
    const result = await call('runs.start', { task });
    if (result.ok) return result.run;
    expect(result.failure.code).toBe('host-key-unknown');
    expect((await call('hosts.trustKey', { id: result.failure.hostId, fingerprint: result.failure.hostKey?.fingerprint as string })).ok).toBe(true);
  }
  throw new Error('runs.start kept reporting unknown host keys');
}

async function writeTree(root: string): Promise<void> {
  for (let d = 0; d < 4; d++) await fs.mkdir(path.join(root, `dir-${d}`), { recursive: true });
  await Promise.all(Array.from({ length: 80 }, (_, i) => fs.writeFile(path.join(root, `dir-${i % 4}`, `file-${i}.bin`), randomBytes(500 + i * 37))));
}

beforeAll(async () => {
  work = await tempDir('ferry-run-scheduler-');
  nasSrc = path.join(work, 'nas-src');
  nasDst = path.join(work, 'nas-dst');
  await fs.mkdir(nasSrc);
  await fs.mkdir(path.join(nasDst, 'copy'), { recursive: true });
  await writeTree(path.join(nasSrc, 'tree'));
  distDir = await makeAgentDist(path.join(work, 'dist'));
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: nasSrc, target: '/mnt/src' }] }, { name: 'dst1', binds: [{ source: nasDst, target: '/mnt/dst' }] }] });
  dataDir = path.join(work, 'data');
  clock = new ManualClock();
  controller = await openController();
  await addLabHosts(call, lab, ['src1', 'dst1']);
  await call('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['src1'] } });
  await call('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['dst1'] } });
  await call('addresses.save', { address: { name: 'from', tunnel: 'old-nas', directory: '/mnt/src/tree' } });
  await call('addresses.save', { address: { name: 'to', tunnel: 'new-nas', directory: '/mnt/dst/copy' } });
  await call('taskDefs.save', { task: { name: 'hourly', source: 'from', destination: 'to', options: { mode: 'full', verify: 'transferred' }, repeatEveryHours: 1 } });
}, 180_000);

afterAll(() => closeLab({ controller, lab, work }));

describe('repeat schedule with real runs', () => {
  it('starts the scheduled incremental run an interval after the first run ended, and it ends verified', async () => {
    expect(await scheduleOf('hourly')).toMatchObject({ state: 'waiting-first-run', nextRunAt: null, everyHours: 1, mode: 'incremental' });
    // Nothing is armed before the first run.
    expect(clock.timers).toBe(0);
    expect(await runsOf('hourly')).toEqual([]);

    const first = await startTrusting('hourly');
    expect(first.trigger).toBe('manual');
    const firstEnded = await waitEnded(first.id);
    expect(firstEnded, JSON.stringify(firstEnded)).toMatchObject({ state: 'done', passed: true });
    const firstReport = await call('reports.get', { id: firstEnded.reportId as string });
    expect(firstReport.header.mode).toBe('full');
    const due = Date.parse(firstEnded.endedAt as string) + HOUR;
    await until('the schedule after the first run', async () => (await scheduleOf('hourly'))?.nextRunAt === new Date(due).toISOString());
    expect(events.some((e) => e.event === 'runs.schedule' && consoleEvents['runs.schedule'].parse(e.payload).some((s) => s.task === 'hourly' && s.state === 'scheduled'))).toBe(true);

    // New and changed files for the incremental run to copy.
    await fs.writeFile(path.join(nasSrc, 'tree', 'dir-0', 'new-after-first-run.bin'), randomBytes(4096));
    await fs.writeFile(path.join(nasSrc, 'tree', 'dir-1', 'file-1.bin'), randomBytes(2000));
    // A minute short of the slot nothing starts; at the slot the scheduled run does.
    clock.advance(due - clock.now() - 60_000);
    await call('runs.schedule', {});
    expect((await runsOf('hourly')).length).toBe(1);
    clock.advance(60_000);
    await until('the scheduled run', async () => (await runsOf('hourly')).length === 2);
    const scheduled = (await runsOf('hourly'))[0] as Run;
    expect(scheduled.trigger).toBe('schedule');
    const attempt = (await scheduleOf('hourly'))?.lastAttempt;
    expect(attempt).toMatchObject({ outcome: 'started', runId: scheduled.id });
    const ended = await waitEnded(scheduled.id);
    expect(ended, JSON.stringify(ended)).toMatchObject({ state: 'done', passed: true });
    const report = await call('reports.get', { id: ended.reportId as string });
    expect(report.header.mode).toBe('incremental');
    expect(report.header.summary.skippedUnchanged).toBeGreaterThanOrEqual(70);
    expect(report.header.summary.copied).toBeGreaterThanOrEqual(2);
    const diffs = compareTrees(path.join(nasSrc, 'tree'), path.join(nasDst, 'copy'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    // Runs are stamped with the real clock and attempts with the test's (an hour ahead): the later one counts.
    const nextMs = Math.max(Date.parse(ended.endedAt as string), Date.parse(attempt?.at as string)) + HOUR;
    await until('the next slot after the scheduled run', async () => (await scheduleOf('hourly'))?.nextRunAt === new Date(nextMs).toISOString());
    expect((await scheduleOf('hourly'))?.state).toBe('scheduled');
    console.log(`scheduled run: ${report.header.summary.copied} copied, ${report.header.summary.skippedUnchanged} unchanged skipped`);
  }, 300_000);

  it('skips a slot that falls due while the operator’s own run of the task is still copying', async () => {
    // 12 MiB more at 2 MiB/s: the manual run is still going when the next slot comes.
    await fs.writeFile(path.join(nasSrc, 'tree', 'big.bin'), randomBytes(12 * 1024 * 1024));
    await call('taskDefs.save', { task: { name: 'hourly', source: 'from', destination: 'to', options: { mode: 'incremental', bandwidth: { bytesPerSecond: 2 * 1024 * 1024, windows: [] } }, repeatEveryHours: 1 }, previousName: 'hourly' });
    const manual = await startTrusting('hourly');
    await until('the manual run to copy', async () => ((await runsOf('hourly')).find((r) => r.id === manual.id)?.progress?.bytesDone ?? 0) > 0);
    const next = Date.parse((await scheduleOf('hourly'))?.nextRunAt as string);
    expect((await scheduleOf('hourly'))?.state).toBe('active');
    clock.advance(next - clock.now() + 1000);
    await until('the skipped slot', async () => (await scheduleOf('hourly'))?.lastAttempt?.outcome === 'skipped-active');
    const skipped = (await scheduleOf('hourly'))?.lastAttempt;
    expect(skipped?.runId).toBe(manual.id);
    expect(skipped?.message).toMatch(/skipped \(never two runs of a task at once\)/);
    expect((await runsOf('hourly')).filter((r) => r.endedAt === null).map((r) => r.id)).toEqual([manual.id]);
    const ended = await waitEnded(manual.id);
    expect(ended).toMatchObject({ state: 'done', passed: true, trigger: 'manual' });
    expect((await runsOf('hourly')).length).toBe(3);
    const diffs = compareTrees(path.join(nasSrc, 'tree'), path.join(nasDst, 'copy'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
  }, 300_000);

  it('starts one run for the slots missed while Ferry was closed, at start-up', async () => {
    await controller.close();
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'schedule.json'), 'utf8')) as { lastAttempts: Record<string, { outcome: string }> };
    expect(stored.lastAttempts.hourly?.outcome).toBe('skipped-active');
    // Reopened with the clock 12 h on (the last attempt was at about +2 h): five or more missed hourly slots.
    const lastAttemptMs = Date.parse((stored.lastAttempts.hourly as unknown as { at: string }).at);
    clock = new ManualClock();
    clock.advance(12 * HOUR);
    expect(Math.floor((clock.now() - lastAttemptMs) / HOUR)).toBeGreaterThanOrEqual(5);
    const previousOffset = events.length;
    controller = await openController();
    // At start-up the missed slot is due at once (the test's timers fire when it moves the clock).
    expect(clock.nextDueMs).not.toBeNull();
    expect(clock.nextDueMs as number).toBeLessThanOrEqual(clock.now());
    clock.advance(0);
    await until('the start-up run', async () => (await runsOf('hourly')).length === 4);
    const startup = (await runsOf('hourly'))[0] as Run;
    expect(startup.trigger).toBe('schedule');
    const ended = await waitEnded(startup.id);
    expect(ended).toMatchObject({ state: 'done', passed: true });
    // The missed slots collapsed into that one: the next is about an interval on, and the wake
    // check that fires when the clock moves half an hour (awaited: runs.schedule queues behind it)
    // starts nothing more.
    const next = Date.parse((await scheduleOf('hourly'))?.nextRunAt as string);
    expect(next).toBeGreaterThan(clock.now() + HOUR - 5 * 60_000);
    clock.advance(HOUR / 2);
    await call('runs.schedule', {});
    expect((await runsOf('hourly')).length).toBe(4);
    expect(events.slice(previousOffset).some((e) => e.event === 'runs.schedule')).toBe(true);

    // Clearing the interval cancels the schedule.
    await call('taskDefs.save', { task: { name: 'hourly', source: 'from', destination: 'to', options: { mode: 'full' }, repeatEveryHours: null }, previousName: 'hourly' });
    await until('the schedule to go', async () => (await scheduleOf('hourly')) === undefined);
    clock.advance(48 * HOUR);
    await call('runs.schedule', {});
    expect((await runsOf('hourly')).length).toBe(4);
  }, 300_000);
});
