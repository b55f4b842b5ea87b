/**
 * The scan service's own guarantees against a real sshd host of the lab: two tasks.scan calls
 * for one task at the same moment start exactly one scan (the other is refused with 'conflict');
 * a scan whose host has left the inventory by the time it runs ends as a failed record that says
 * what to do (never an unhandled rejection, never 'running' forever); a scan whose runtime dies
 * says how it ended, its last words and what to do;
 * and the scan runs the agent's runtime with the launch flags every other launcher passes
 * (AGENT_NODE_FLAGS), seen by a runtime wrapper that logs its arguments on the host.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../../agent/runtime-flags.ts';
import { consoleEvents, type EventEnvelope, type ScanRecord } from '../../electron/contract/console.ts';
import type { Controller } from '../../electron/controller/controller.ts';
import { ScanService } from '../../electron/controller/scan-service.ts';
import { makeAgentDist } from '../helpers/agent-dist.ts';
import { buildEngine } from '../helpers/engine-build.ts';
import { addLabHosts, closeLab, contractCaller, openLabController, waitFor } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

/** Where the runtime wrapper logs its arguments, in the host's own /root. */
const ARGS_LOG = '/root/runtime-args.log';

let lab: TestLab;
let work: string;
let controller: Controller;
const events: EventEnvelope[] = [];
const call = contractCaller(() => controller);

/** The task's record as `scans.changed` last pushed it. */
function lastRecord(task: string): ScanRecord | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.event !== 'scans.changed') continue;
    const record = consoleEvents['scans.changed'].parse(e.payload).find((s) => s.task === task);
    if (record) return record;
  }
  return undefined;
}

/** A dist whose runtime is a wrapper that logs its arguments, then runs the real Node 24. */
async function makeLoggingDist(dir: string): Promise<string> {
  await makeAgentDist(dir);
  const node = path.join(dir, 'runtime', 'linux-x64', 'bin', 'node');
  await fs.rm(node);
  // A scan of /mnt/src/crash dies the way a runtime out of memory does (exit 134, a message on stderr).
  const crash = `case "$*" in *' scan /mnt/src/crash '*) echo 'FATAL ERROR: JavaScript heap out of memory' >&2; exit 134;; esac`;
  await fs.writeFile(node, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${ARGS_LOG}\n${crash}\nexec ${(await buildEngine()).node24} "$@"\n`, { mode: 0o755 });
  return dir;
}

beforeAll(async () => {
  work = await tempDir('ferry-scan-service-');
  const nas = path.join(work, 'nas');
  await fs.mkdir(path.join(nas, 'tree', 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) await fs.writeFile(path.join(nas, 'tree', 'sub', `f${i}`), Buffer.alloc(100 * i, 1));
  const distDir = await makeLoggingDist(path.join(work, 'dist'));
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: nas, target: '/mnt/src' }] }] });
  controller = await openLabController({ dataDir: path.join(work, 'data'), distDir, appVersion: '0.1.0-scan-service' }, (e) => events.push(e));
  await addLabHosts(call, lab, ['src1']);
  const host = (await call('hosts.list', {}))[0];
  const tested = await call('hosts.test', { id: host?.id as string });
  if (!tested.ok) expect((await call('hosts.trustKey', { id: tested.failure.hostId, fingerprint: tested.failure.hostKey?.fingerprint as string })).ok).toBe(true);
  await call('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['src1'] } });
  await call('addresses.save', { address: { name: 'from', tunnel: 'old-nas', directory: '/mnt/src/tree' } });
  await call('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['src1'] } });
  await call('addresses.save', { address: { name: 'to', tunnel: 'new-nas', directory: '/mnt/src/copy' } });
  await call('taskDefs.save', { task: { name: 'projects', source: 'from', destination: 'to' } });
}, 180_000);

afterAll(() => closeLab({ controller, lab, work }));

describe('ScanService', () => {
  it('starts exactly one scan when two calls for one task come at once', async () => {
    const before = events.length;
    const [a, b] = await Promise.all([controller.dispatch('tasks.scan', { task: 'projects' }), controller.dispatch('tasks.scan', { task: 'projects' })]);
    const codes = [a, b].map((r) => (r.ok ? 'ok' : r.error.code)).sort();
    expect(codes).toEqual(['conflict', 'ok']);
    const refused = [a, b].find((r) => !r.ok);
    expect(refused?.ok ? '' : refused?.error.message).toMatch(/is running\. Wait for it to finish/);
    await waitFor('the scan of projects to end', () => lastRecord('projects')?.state !== 'running', 90_000);
    const done = lastRecord('projects');
    expect(done?.failure, JSON.stringify(done?.failure)).toBeNull();
    expect(done?.summary?.counts.file).toBe(5);
    // One running record was pushed: the refused call wrote nothing.
    const runningPushes = events.slice(before).filter((e) => e.event === 'scans.changed' && consoleEvents['scans.changed'].parse(e.payload).some((s) => s.task === 'projects' && s.state === 'running'));
    expect(runningPushes).toHaveLength(1);
    // The task is free again once the scan ended.
    const again = await call('tasks.scan', { task: 'projects' });
    expect(again.state).toBe('running');
    await waitFor('the second scan of projects to end', () => lastRecord('projects')?.state === 'done' && lastRecord('projects')?.startedAt === again.startedAt, 90_000);
  }, 180_000);

  it('runs the agent runtime with the launch flags every launcher passes', async () => {
    const started = await call('tasks.scan', { task: 'projects' });
    await waitFor('the scan of projects to end', () => lastRecord('projects')?.startedAt === started.startedAt && lastRecord('projects')?.state !== 'running', 90_000);
    expect(lastRecord('projects')?.state).toBe('done');
    const launches = (await fs.readFile(path.join(lab.host('src1').rootDir, path.basename(ARGS_LOG)), 'utf8')).split('\n').filter((l) => / scan \/mnt\/src\/tree /.test(l));
    expect(launches.length).toBeGreaterThanOrEqual(2);
    for (const line of launches) expect(line.startsWith(`${AGENT_NODE_FLAGS.join(' ')} `), line).toBe(true);
  }, 180_000);

  it('records a scan whose host left the inventory as failed, saying what to do', async () => {
    // The inventory the task was checked against still has src1, under an id HostSessions no
    // longer knows: the host was removed (and added again) between the check and the run.
    const dataDir = path.join(work, 'stale-data');
    await fs.mkdir(dataDir);
    const pushed: ScanRecord[][] = [];
    const stale = new ScanService({
      dataDir,
      sessions: controller.hostSessions,
      plan: () => controller.plan.fullPlan(),
      hosts: async () => (await controller.hosts.list()).map((h) => ({ ...h, id: `removed-${h.id}` })),
      appVersion: '0.1.0-scan-service',
      distDir: path.join(work, 'dist'),
      onChanged: (scans) => pushed.push(scans),
    });
    await stale.open();
    const started = await stale.start({ task: 'projects' });
    expect(started.state).toBe('running');
    await waitFor('the stale scan to end', () => pushed.at(-1)?.find((s) => s.task === 'projects')?.state !== 'running', 15_000);
    const record = (await stale.list()).find((s) => s.task === 'projects');
    expect(record).toMatchObject({ state: 'failed', summary: null, failure: { code: 'command-failed' } });
    expect(record?.failure?.message).toMatch(/stopped before it had a result: No host with id removed-.*Check the hosts of the source address in the Hosts step, then scan again\./);
    expect(record?.finishedAt).not.toBeNull();
    // The task is free again: the next call starts (and ends) another scan instead of 'conflict'.
    const next = await stale.start({ task: 'projects' });
    expect(next.state).toBe('running');
    await waitFor('the second stale scan to end', async () => (await stale.list()).find((s) => s.task === 'projects' && s.startedAt === next.startedAt)?.state === 'failed', 30_000);
  }, 60_000);

  it('says how a scan that exits non-zero ended and what to do', async () => {
    await call('addresses.save', { address: { name: 'crashing', tunnel: 'old-nas', directory: '/mnt/src/crash' } });
    await call('taskDefs.save', { task: { name: 'crashes', source: 'crashing', destination: 'to' } });
    await call('tasks.scan', { task: 'crashes' });
    await waitFor('the scan of crashes to end', () => lastRecord('crashes')?.state === 'failed', 60_000);
    const failed = lastRecord('crashes');
    expect(failed?.failure?.code).toBe('command-failed');
    expect(failed?.failure?.message).toMatch(/^The scan of \/mnt\/src\/crash on src1 failed \(exit 134\): FATAL ERROR: JavaScript heap out of memory\. Check that src1 can read \/mnt\/src\/crash and has free memory, .* then scan again\.$/);
  }, 90_000);
});
