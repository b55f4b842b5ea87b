/**
 * Pre-scans of plan tasks through the Controller's dispatch against real sshd hosts of the lab:
 * tasks.scan answers at once with a running record, deploys this Ferry's agent on the source host
 * (it was never installed there), runs `agent.mjs scan` over SSH on the host's view of the "NAS",
 * and ends with the exact counts and bytes of a known tree plus an estimate; a second scan while
 * one runs is refused; a host that refuses connections is skipped for the next host of the tunnel,
 * and alone it fails with 'unreachable'; a missing directory fails with a message that says so; a
 * Controller opened again on the same data directory still shows the last scans, and one that
 * was cut short by closing Ferry as interrupted. Every answer is
 * parsed with the contract's schemas.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleEvents, DEFAULT_INSTANCE_GBPS, type EventEnvelope, type ScanRecord } from '../../electron/contract/console.ts';
import { agentBuildVersion, locateAgentBuild } from '../../electron/controller/agent-build.ts';
import type { Controller } from '../../electron/controller/controller.ts';
import { makeAgentDist } from '../helpers/agent-dist.ts';
import { addLabHosts, closeLab, contractCaller, openLabController } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

const APP_VERSION = '0.1.0-scan-test';
let lab: TestLab;
let work: string;
let nasSrc: string;
let dataDir: string;
let distDir: string;
let controller: Controller;
const events: EventEnvelope[] = [];

const openController = () => openLabController({ dataDir, distDir, appVersion: APP_VERSION }, (e) => events.push(e));
const call = contractCaller(() => controller);

/** The task's record as `scans.changed` last pushed it, once it has ended. */
async function scanEnd(task: string, timeoutMs = 90_000): Promise<ScanRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e?.event !== 'scans.changed') continue;
      const record = consoleEvents['scans.changed'].parse(e.payload).find((s) => s.task === task);
      if (record && record.state !== 'running') return record;
      break;
    }
    if (Date.now() > deadline) throw new Error(`the scan of ${task} did not end`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function trust(name: string): Promise<void> {
  const host = (await call('hosts.list', {})).find((h) => h.name === name);
  const tested = await call('hosts.test', { id: host?.id as string });
  if (tested.ok) return;
  expect(tested.failure.code).toBe('host-key-unknown');
  expect((await call('hosts.trustKey', { id: tested.failure.hostId, fingerprint: tested.failure.hostKey?.fingerprint as string })).ok).toBe(true);
}

/** 3 directories, 25 files of known sizes, 2 symlinks. */
async function writeKnownTree(root: string): Promise<{ files: number; dirs: number; symlinks: number; bytes: number }> {
  let bytes = 0;
  for (let d = 0; d < 3; d++) await fs.mkdir(path.join(root, `dir-${d}`, 'inner'), { recursive: true });
  for (let i = 0; i < 25; i++) {
    const size = i === 0 ? 0 : i * 1000;
    bytes += size;
    await fs.writeFile(path.join(root, `dir-${i % 3}`, i % 2 ? 'inner' : '', `f${i}.bin`), Buffer.alloc(size, 7));
  }
  await fs.symlink('dir-0', path.join(root, 'link-a'));
  await fs.symlink('nowhere', path.join(root, 'dir-1', 'dangling'));
  return { files: 25, dirs: 6, symlinks: 2, bytes };
}

beforeAll(async () => {
  work = await tempDir('ferry-task-scan-');
  nasSrc = path.join(work, 'nas-src');
  await fs.mkdir(nasSrc);
  await fs.mkdir(path.join(work, 'nas-dst'));
  distDir = await makeAgentDist(path.join(work, 'dist'));
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: nasSrc, target: '/mnt/src' }] }, { name: 'dst1', binds: [{ source: path.join(work, 'nas-dst'), target: '/mnt/dst' }] }] });
  dataDir = path.join(work, 'data');
  controller = await openController();
  await addLabHosts(call, lab, ['src1', 'dst1']);
  // "dead": a host whose SSH port refuses connections.
  await call('hosts.add', { name: 'dead', address: lab.host('src1').address, port: 1, auth: { kind: 'key', keyFile: lab.clientKey.path } });
  await trust('src1');
  await call('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['dead', 'src1'] } });
  await call('tunnels.save', { tunnel: { name: 'dead-nas', role: 'source', hosts: ['dead'] } });
  await call('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['dst1'] } });
  await call('addresses.save', { address: { name: 'to', tunnel: 'new-nas', directory: '/mnt/dst' } });
}, 180_000);

afterAll(() => closeLab({ controller, lab, work }));

describe('tasks.scan', () => {
  it('deploys the agent where it is missing and returns the exact counts of a known tree, with an estimate', async () => {
    const known = await writeKnownTree(path.join(nasSrc, 'tree'));
    await call('addresses.save', { address: { name: 'from', tunnel: 'old-nas', directory: '/mnt/src/tree' } });
    await call('taskDefs.save', { task: { name: 'projects', source: 'from', destination: 'to' } });
    // The label every deploy of this build uses: app version + hash of the files.
    const label = await agentBuildVersion(locateAgentBuild(distDir), APP_VERSION);
    expect(label).toMatch(/^0\.1\.0-scan-test\+[0-9a-f]{8}$/);
    const agentDir = path.join(lab.host('src1').rootDir, '.ferry', 'agent', label);
    expect(existsSync(agentDir)).toBe(false);

    const started = await call('tasks.scan', { task: 'projects', instanceGbps: 5 });
    expect(started).toMatchObject({ task: 'projects', source: 'from', directory: '/mnt/src/tree', state: 'running', summary: null });
    const again = await controller.dispatch('tasks.scan', { task: 'projects' });
    expect(again.ok ? null : again.error.code).toBe('conflict');

    const done = await scanEnd('projects');
    expect(done.failure, JSON.stringify(done.failure)).toBeNull();
    expect(done.state).toBe('done');
    // "dead" refuses connections: the next host of the tunnel did the scan.
    expect(done.host).toBe('src1');
    const s = done.summary;
    expect(s?.root).toBe('/mnt/src/tree');
    expect(s?.counts).toMatchObject({ file: known.files, dir: known.dirs, symlink: known.symlinks });
    expect(s?.entries).toBe(known.files + known.dirs + known.symlinks);
    expect(s?.bytes).toBe(known.bytes);
    expect(s?.maxDepth).toBe(3);
    expect(s?.partial).toBe(false);
    expect(s?.warnings).toEqual([]);
    expect(existsSync(path.join(agentDir, 'MANIFEST'))).toBe(true);

    // Two source hosts, one destination: one instance carries the task, at the given 5 Gbit/s.
    expect(done.estimate).toMatchObject({ instances: 1, sourceInstances: 2, destinationInstances: 1, instanceGbps: 5, bound: 'entries', lowerBound: false });
    expect(done.estimate?.bytesSeconds).toBeCloseTo((known.bytes * 8) / 5e9, 9);
    expect((await call('tasks.scans', {})).find((r) => r.task === 'projects')).toEqual(done);
  }, 120_000);

  it('fails clearly for an unreachable host and for a missing directory', async () => {
    await call('addresses.save', { address: { name: 'dead-from', tunnel: 'dead-nas', directory: '/mnt/src/tree' } });
    await call('taskDefs.save', { task: { name: 'unreachable', source: 'dead-from', destination: 'to' } });
    await call('tasks.scan', { task: 'unreachable' });
    const dead = await scanEnd('unreachable');
    expect(dead.state).toBe('failed');
    expect(dead.failure?.code).toBe('unreachable');
    expect(dead.failure?.hostName).toBe('dead');
    expect(dead.failure?.message).toMatch(/refused the connection/);
    expect(dead.summary).toBeNull();

    await call('addresses.save', { address: { name: 'gone', tunnel: 'old-nas', directory: '/mnt/src/not-there' } });
    await call('taskDefs.save', { task: { name: 'missing', source: 'gone', destination: 'to' } });
    await call('tasks.scan', { task: 'missing' });
    const missing = await scanEnd('missing');
    expect(missing.state).toBe('failed');
    expect(missing.failure?.code).toBe('command-failed');
    expect(missing.failure?.hostName).toBe('src1');
    expect(missing.failure?.message).toMatch(/\/mnt\/src\/not-there does not exist\. Check that the NAS is mounted there/);

    const unknownTask = await controller.dispatch('tasks.scan', { task: 'no-such-task' });
    expect(unknownTask.ok ? null : unknownTask.error.code).toBe('not-found');
  }, 120_000);

  it('keeps the last scan of each task across a restart of Ferry', async () => {
    const before = await call('tasks.scans', {});
    expect(before.map((r) => r.task).sort()).toEqual(['missing', 'projects', 'unreachable']);
    await controller.close();
    // A scan that was still running when Ferry closed comes back as interrupted, never as running.
    const file = path.join(dataDir, 'scans.json');
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as { version: 1; scans: ScanRecord[] };
    const cut = { ...(before.find((r) => r.task === 'projects') as ScanRecord), task: 'cut-short', state: 'running' as const, finishedAt: null, summary: null, estimate: null };
    await fs.writeFile(file, JSON.stringify({ ...stored, scans: [...stored.scans, cut] }));
    controller = await openController();
    const after = await call('tasks.scans', {});
    expect(after.filter((r) => r.task !== 'cut-short')).toEqual(before);
    expect(after.find((r) => r.task === 'cut-short')).toMatchObject({ state: 'failed', failure: { code: 'connection-lost', message: expect.stringMatching(/closed .* while this scan ran/) } });
    expect(before.find((r) => r.task === 'projects')?.estimate?.instanceGbps).not.toBe(DEFAULT_INSTANCE_GBPS);
  });
});
