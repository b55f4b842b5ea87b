/**
 * Runs of plan tasks through the Controller's dispatch against real sshd hosts of the lab (two
 * source hosts sharing a source "NAS" directory, one destination host): runs.start first answers
 * the unknown host key as a typed failure, then deploys and runs; runs.progress snapshots arrive
 * coalesced with rates, per-agent bytes and link states; pause and resume reach the coordinator;
 * the run ends verified, its report is stored and listed and linked from the run. Then Ferry is
 * closed mid-run and a new Controller on the same data directory reattaches and the run ends
 * verified with the whole tree copied. Every answer is parsed with the contract's schemas.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleEvents, type CallRequest, type CallResponse, type EventEnvelope, type Run, type RunSnapshot } from '../../electron/contract/console.ts';
import type { Controller } from '../../electron/controller/controller.ts';
import { makeAgentDist } from '../helpers/agent-dist.ts';
import { bytesUnder } from '../helpers/make-tree.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { addLabHosts, closeLab, contractCaller, openLabController, waitFor as pollUntil } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

const MiB = 1024 * 1024;
let lab: TestLab;
let work: string;
let nasSrc: string;
let nasDst: string;
let dataDir: string;
let distDir: string;
let controller: Controller;
const events: Array<EventEnvelope & { at: number }> = [];

const openController = () => openLabController({ dataDir, distDir }, (e) => events.push({ ...e, at: Date.now() }));
const call = contractCaller(() => controller);

function progressOf(runId: string, since = 0): Array<RunSnapshot & { at: number }> {
  return events.filter((e) => e.event === 'runs.progress' && e.at >= since).map((e) => ({ ...consoleEvents['runs.progress'].parse(e.payload), at: e.at })).filter((s) => s.run.id === runId);
}

function lastRun(runId: string): Run | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.event === 'runs.changed') return consoleEvents['runs.changed'].parse(e.payload).find((r) => r.id === runId);
  }
  return undefined;
}

/** A minute unless the caller says otherwise, polled every 100 ms. */
const waitFor = (what: string | (() => string), check: () => boolean, timeoutMs = 60_000) => pollUntil(what, check, timeoutMs);

/** `files` small files in 10 directories plus `large` files of `largeSize` bytes. */
async function writeTree(root: string, files: number, large: number, largeSize: number): Promise<void> {
  for (let d = 0; d < 10; d++) await fs.mkdir(path.join(root, `dir-${d}`), { recursive: true });
  await Promise.all(Array.from({ length: files }, (_, i) => fs.writeFile(path.join(root, `dir-${i % 10}`, `file-${i}.bin`), randomBytes(300 + ((i * 7919) % 5000)))));
  for (let i = 0; i < large; i++) await fs.writeFile(path.join(root, `large-${i}.bin`), randomBytes(largeSize));
}


/** runs.start, trusting every unknown host key it reports (as the operator would after comparing it). */
async function startTrusting(req: CallRequest<'runs.start'>): Promise<CallResponse<'runs.start'>> {
  for (let i = 0; i < 5; i++) {
    const result = await call('runs.start', req);
    if (result.ok || result.failure.code !== 'host-key-unknown') return result;
    const host = Object.values(lab.hosts).find((h) => h.hostKeyFingerprint === result.failure.hostKey?.fingerprint);
    expect(host, 'the fingerprint of a lab host').toBeDefined();
    expect((await call('hosts.trustKey', { id: result.failure.hostId, fingerprint: result.failure.hostKey?.fingerprint as string })).ok).toBe(true);
  }
  throw new Error('runs.start kept reporting unknown host keys');
}

async function defineTask(name: string, from: string, to: string, bytesPerSecond: number): Promise<void> {
  await call('addresses.save', { address: { name: `${name}-from`, tunnel: 'old-nas', directory: from } });
  await call('addresses.save', { address: { name: `${name}-to`, tunnel: 'new-nas', directory: to } });
  await call('taskDefs.save', { task: { name, source: `${name}-from`, destination: `${name}-to`, options: { bandwidth: { bytesPerSecond, windows: [] } } } });
}

beforeAll(async () => {
  work = await tempDir('ferry-task-runs-');
  nasSrc = path.join(work, 'nas-src');
  nasDst = path.join(work, 'nas-dst');
  await fs.mkdir(nasSrc);
  await fs.mkdir(nasDst);
  distDir = await makeAgentDist(path.join(work, 'dist'));
  const src = { source: nasSrc, target: '/mnt/src' };
  const dst = { source: nasDst, target: '/mnt/dst' };
  // pw1 logs in with a password (its own machine: agents of two users on one host would share a data port).
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [src] }, { name: 'src2', binds: [src] }, { name: 'dst1', binds: [dst] }, { name: 'pw1', binds: [src] }] });
  dataDir = path.join(work, 'data');
  controller = await openController();
  await addLabHosts(call, lab, ['src1', 'src2', 'dst1']);
  await call('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['src1', 'src2'] } });
  await call('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['dst1'] } });
}, 180_000);

afterAll(() => closeLab({ controller, lab, work }));

describe('runs of plan tasks through the console contract', () => {
  it('answers unknown host keys as typed failures, then runs with live progress, pause and resume, and stores the verified report', async () => {
    await writeTree(path.join(nasSrc, 'tree1'), 300, 3, 4 * MiB);
    await fs.mkdir(path.join(nasDst, 'run1'));
    await defineTask('first', '/mnt/src/tree1', '/mnt/dst/run1', 3 * MiB);
    const hosts = await call('hosts.list', {});

    // Every host's key is unknown: each start names one host and its fingerprint; no run is created.
    let started = await call('runs.start', { task: 'first' });
    const trusted: string[] = [];
    while (!started.ok) {
      const failure = started.failure;
      expect(failure.code).toBe('host-key-unknown');
      const host = hosts.find((h) => h.id === failure.hostId);
      expect(host, JSON.stringify(failure)).toBeDefined();
      expect(failure.hostKey?.fingerprint).toBe(lab.host(host?.name as string).hostKeyFingerprint);
      expect(failure.message).not.toMatch(/--accept-host-key/);
      expect(await call('runs.list', {})).toEqual([]);
      expect((await call('hosts.trustKey', { id: failure.hostId, fingerprint: failure.hostKey?.fingerprint as string })).ok).toBe(true);
      trusted.push(host?.name as string);
      expect(trusted.length).toBeLessThanOrEqual(3);
      started = await call('runs.start', { task: 'first' });
    }
    expect(trusted.sort()).toEqual(['dst1', 'src1', 'src2']);
    const run = started.run;
    expect(run).toMatchObject({ taskName: 'first', state: 'starting', coordinator: 'dst1', sources: ['src1', 'src2'], destinations: ['dst1'], reportId: null });
    // A second start while it runs answers the same run.
    const again = await call('runs.start', { task: 'first' });
    expect(again.ok && again.run.id).toBe(run.id);

    await waitFor('bytes copied', () => progressOf(run.id).some((s) => (s.run.progress?.bytesDone ?? 0) > 0 && s.run.state === 'running'), 120_000);
    const paused = await call('runs.pause', { id: run.id });
    expect(paused.state).toBe('paused');
    await waitFor('a paused snapshot', () => progressOf(run.id).at(-1)?.run.state === 'paused');
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await call('runs.get', { id: run.id })).run.state).toBe('paused');
    expect(lastRun(run.id)?.state).toBe('paused');
    const resumed = await call('runs.resume', { id: run.id });
    expect(resumed.state).toBe('running');

    await waitFor('the run to end', () => lastRun(run.id)?.endedAt != null, 120_000);
    const ended = lastRun(run.id) as Run;
    expect(ended, JSON.stringify(ended)).toMatchObject({ state: 'done', passed: true, phase: 'done' });
    expect(ended.reportId).not.toBeNull();
    const diffs = compareTrees(path.join(nasSrc, 'tree1'), path.join(nasDst, 'run1'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);

    // The report is stored, listed and linked.
    const reports = await call('reports.list', {});
    expect(reports.map((r) => r.id)).toContain(ended.reportId);
    const report = await call('reports.get', { id: ended.reportId as string });
    expect(report.meta).toMatchObject({ taskName: 'first', passed: true, problems: 0 });
    expect(events.some((e) => e.event === 'reports.changed')).toBe(true);
    expect((await call('runs.list', {})).find((r) => r.id === run.id)).toMatchObject({ state: 'done', reportId: ended.reportId });

    // Live snapshots: coalesced, with rates, per-agent bytes on named hosts, and link states.
    const snaps = progressOf(run.id);
    expect(snaps.length).toBeGreaterThan(3);
    const gaps = snaps.slice(1).map((s, i) => s.at - (snaps[i] as { at: number }).at);
    expect(Math.min(...gaps), `gaps ${gaps.join(',')}`).toBeGreaterThanOrEqual(400);
    const moving = snaps.filter((s) => s.bytesPerSec > 0);
    expect(moving.length).toBeGreaterThan(0);
    const agents = snaps.flatMap((s) => s.agents);
    expect(new Set(agents.filter((a) => (a.bytesDone ?? 0) > 0).map((a) => a.host))).toEqual(new Set(['src1', 'src2', 'dst1']));
    expect(agents.some((a) => (a.bytesPerSec ?? 0) > 0)).toBe(true);
    const busiest = snaps.reduce((a, b) => (b.samples.length > a.samples.length ? b : a));
    expect(busiest.samples.length).toBeGreaterThan(2);
    expect(busiest.samples.some((s) => Object.values(s.agents).some((v) => v > 0))).toBe(true);
    const duringRun = snaps.find((s) => s.run.state === 'running' && s.links.length === 3);
    expect(duringRun?.links.map((l) => `${l.host}:${l.role}:${l.state}`).sort()).toEqual(['dst1:destination:ready', 'src1:source:ready', 'src2:source:ready']);
    expect(duringRun?.links.find((l) => l.coordinator)?.host).toBe('dst1');
    // While paused, the run said so in its snapshots and nothing more was sent for long.
    const whilePaused = snaps.filter((s) => s.at > pausedAt + 1000 && s.at < pausedAt + 1500);
    expect(whilePaused.every((s) => s.run.state === 'paused')).toBe(true);
    // The pause and the final state came through runs.changed as well.
    const states = events.filter((e) => e.event === 'runs.changed').map((e) => consoleEvents['runs.changed'].parse(e.payload).find((r) => r.id === run.id)?.state);
    expect(states).toContain('paused');
    console.log(`task run: ${snaps.length} progress snapshots, peak ${(Math.max(...snaps.map((s) => s.bytesPerSec)) / MiB).toFixed(2)} MiB/s, ${busiest.samples.length} samples`);
  }, 300_000);

  it('reattaches after Ferry was closed mid-run: a new controller on the same data directory sees the true progress and the run ends verified', async () => {
    // 16 MiB at 1 MiB/s per source host: long enough to close Ferry and reopen it mid-run.
    await writeTree(path.join(nasSrc, 'tree2'), 200, 4, 4 * MiB);
    await fs.mkdir(path.join(nasDst, 'run2'));
    await defineTask('second', '/mnt/src/tree2', '/mnt/dst/run2', MiB);
    const started = await call('runs.start', { task: 'second' });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const id = started.run.id;
    await waitFor('bytes copied', () => progressOf(id).some((s) => (s.run.progress?.bytesDone ?? 0) > 0), 120_000);
    const before = progressOf(id).at(-1)?.run.progress?.bytesDone ?? 0;
    await controller.close();
    const closedAt = Date.now();
    const onDiskAtClose = bytesUnder(path.join(nasDst, 'run2'));
    const stored = JSON.parse(await fs.readFile(path.join(dataDir, 'runs.json'), 'utf8')) as { runs: Array<{ id: string; state: string; endedAt: string | null }> };
    expect(stored.runs.find((r) => r.id === id)).toMatchObject({ state: 'running', endedAt: null });
    // The task goes on without Ferry.
    await new Promise((r) => setTimeout(r, 2000));

    controller = await openController();
    const reopenedAt = Date.now();
    await waitFor('a snapshot after reattaching', () => progressOf(id, closedAt).some((s) => s.agents.length > 0), 120_000);
    const first = progressOf(id, closedAt).find((s) => s.agents.length > 0) as RunSnapshot & { at: number };
    expect(first.run.progress?.bytesDone ?? 0).toBeGreaterThanOrEqual(before);
    expect(first.notes.some((n) => /Reattached to task second-/.test(n.message))).toBe(true);
    // Data kept arriving while no Ferry watched.
    expect(bytesUnder(path.join(nasDst, 'run2'))).toBeGreaterThan(onDiskAtClose);
    await waitFor('the reattached run to end', () => lastRun(id)?.endedAt != null, 150_000);
    const ended = lastRun(id) as Run;
    expect(ended, JSON.stringify(ended)).toMatchObject({ state: 'done', passed: true });
    expect((await call('reports.list', {})).map((r) => r.id)).toContain(ended.reportId);
    const diffs = compareTrees(path.join(nasSrc, 'tree2'), path.join(nasDst, 'run2'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    console.log(`reattach: ${before} bytes done at close (${onDiskAtClose} on disk), ${first.run.progress?.bytesDone} at the first snapshot, ${first.at - reopenedAt} ms after reopening`);
  }, 300_000);

  it('asks for a password before anything runs, says when it is wrong, runs with the right one, and cancels on the hosts', async () => {
    const pw = await call('hosts.add', { name: 'pw-src', address: lab.host('pw1').address, user: lab.passwordUser, auth: { kind: 'password' } });
    await call('tunnels.save', { tunnel: { name: 'pw-nas', role: 'source', hosts: ['pw-src'] } });
    await writeTree(path.join(nasSrc, 'tree3'), 100, 2, 4 * MiB);
    await call('addresses.save', { address: { name: 'pw-from', tunnel: 'pw-nas', directory: '/mnt/src/tree3' } });
    await call('addresses.save', { address: { name: 'pw-to', tunnel: 'new-nas', directory: '/mnt/dst/run3' } });
    await fs.mkdir(path.join(nasDst, 'run3'));
    await call('taskDefs.save', { task: { name: 'pw', source: 'pw-from', destination: 'pw-to', options: { bandwidth: { bytesPerSecond: MiB, windows: [] } } } });

    // Host keys are checked at login; a password host without its password is asked for first.
    const needed = await startTrusting({ task: 'pw' });
    expect(needed).toMatchObject({ ok: false, failure: { code: 'password-needed', hostId: pw.id, authMethod: 'password' } });
    const wrong = await startTrusting({ task: 'pw', secret: { hostId: pw.id, secret: { password: 'not-the-password' } } });
    expect(wrong).toMatchObject({ ok: false, failure: { code: 'auth-failed', hostId: pw.id, authMethod: 'password' } });
    expect((await call('runs.list', {})).some((r) => r.taskName === 'pw')).toBe(false);

    const started = await startTrusting({ task: 'pw', secret: { hostId: pw.id, secret: { password: lab.password } } });
    expect(started.ok, JSON.stringify(started)).toBe(true);
    if (!started.ok) return;
    const id = started.run.id;
    await waitFor(() => `the run to copy (${JSON.stringify(lastRun(id))})`, () => progressOf(id).some((s) => s.run.state === 'running' && (s.run.progress?.filesDone ?? 0) > 0), 120_000);
    const cancelled = await call('runs.cancel', { id });
    expect(cancelled.state).toBe('cancelled');
    await waitFor('the cancelled run to end', () => lastRun(id)?.endedAt != null, 60_000);
    expect(lastRun(id)).toMatchObject({ state: 'cancelled', passed: null, reportId: null });
    // Nothing more to control on an ended run.
    const again = await controller.dispatch('runs.pause', { id });
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe('conflict');
  }, 300_000);
});
