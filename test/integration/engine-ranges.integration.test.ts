// Large files as ranges across agents: a coordinator, two source agents and two destination agents
// (separate local processes over TLS on 127.0.0.1, as across hosts) copy files larger than the task's
// rangeSize as ranges spread over all four, committed once every range is verified. The trees are
// compared independently of the engine; the journal's ranges and the workers' byte counts show where
// the ranges went; a file rewritten between its ranges is copied as it is now, never as a mix.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskSpec } from '../../agent/protocol/task.ts';
import type { TaskSpecInput, TaskStatus } from '../../agent/protocol/task.ts';
import { ControlClient } from '../../electron/engine-host/control-client.ts';
import { launchAgent } from '../../electron/engine-host/launch.ts';
import type { AgentProcess } from '../../electron/engine-host/launch.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { buildEngine } from '../helpers/engine-build.ts';
import type { EngineBuild } from '../helpers/engine-build.ts';
import { pseudoRandom, removeTree } from '../helpers/make-tree.ts';

const MiB = 1024 * 1024;
const ROLES = ['coordinator', 'source-a', 'source-b', 'dest-a', 'dest-b'] as const;
type Role = (typeof ROLES)[number];

let b: EngineBuild;
let tmp = '';
const agents = {} as Record<Role, AgentProcess>;
const controls = {} as Record<Role, ControlClient>;

beforeAll(async () => {
  b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ranges-'));
  const location = { node: b.node24, bundle: b.agentBundle };
  await Promise.all(
    ROLES.map(async (role) => {
      agents[role] = await launchAgent({ home: path.join(tmp, 'homes', role), location, env: b.env });
      controls[role] = await ControlClient.connect(agents[role].ready.controlPort, agents[role].token);
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const role of ROLES) {
    controls[role]?.close();
    agents[role]?.child.kill('SIGKILL');
    await agents[role]?.exited;
  }
  removeTree(tmp);
});

/** Creates the task on the coordinator and joins both sources and both destinations. */
async function startTask(name: string, src: string, dst: string, over: Partial<TaskSpecInput>): Promise<string> {
  const spec = TaskSpec.parse({ taskId: name, sourceRoot: src, destinationRoot: dst, ...over });
  const created = await controls.coordinator.call('task.create', { spec });
  const join = { taskId: name, coordinator: created.coordinator, token: created.token };
  for (const role of ['source-a', 'source-b'] as const) await controls[role].call('task.join', { ...join, role: 'source', root: src });
  for (const role of ['dest-a', 'dest-b'] as const) await controls[role].call('task.join', { ...join, role: 'destination', root: dst });
  return name;
}

async function waitUntil(taskId: string, done: (s: TaskStatus) => boolean, ms = 90_000): Promise<TaskStatus> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await controls.coordinator.call('task.status', { taskId });
    if (done(s) || Date.now() > until) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isOver = (s: TaskStatus) => s.state === 'done' || s.state === 'failed' || s.state === 'cancelled';

/** Rows of a query on the coordinator's journal, read by a separate Node 24 process. */
function journalRows<T>(taskId: string, sql: string): T[] {
  const journal = path.join(tmp, 'homes', 'coordinator', 'tasks', taskId, 'journal.sqlite');
  const script = `const {DatabaseSync}=require('node:sqlite');const db=new DatabaseSync(process.argv[1],{readOnly:true});
    process.stdout.write(JSON.stringify(db.prepare(process.argv[2]).all()));`;
  const r = spawnSync(b.node24, ['-e', script, journal, sql], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T[];
}

/** The task ended verified, the trees are identical (independent comparison), and no temp or staging file is left. */
function expectVerifiedCopy(final: TaskStatus, src: string, dst: string): void {
  expect(final.state, JSON.stringify(final)).toBe('done');
  expect(final.passed).toBe(true);
  const diffs = compareTrees(src, dst);
  expect(diffs, formatDifferences(diffs)).toEqual([]);
  expect(leftovers(dst)).toEqual([]);
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).filter((n) => n.includes('.ferry-tmp.'));
}

describe('large files as ranges across agents', () => {
  it('spreads the ranges of large files over both sources and both destinations, commits them, and full verification agrees', async () => {
    const src = path.join(tmp, 'src1');
    const dst = path.join(tmp, 'dst1');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(src, 'big.bin'), pseudoRandom(40 * MiB, 11));
    fs.writeFileSync(path.join(src, 'sub', 'odd.bin'), pseudoRandom(9 * MiB + 123, 12)); // 3 ranges, the last short
    fs.writeFileSync(path.join(src, 'sub', 'exact.bin'), pseudoRandom(4 * MiB, 13)); // not above rangeSize: whole
    fs.writeFileSync(path.join(src, 'small.txt'), 'small\n');
    // Full verification also rescans both trees and compares whole-file SHA-256s.
    const taskId = await startTask('ranges-spread', src, dst, { rangeSize: 4 * MiB, concurrency: 2, verify: 'full' });
    const final = await waitUntil(taskId, isOver);
    expectVerifiedCopy(final, src, dst);

    // 10 + 3 ranges, all verified; the 4 MiB file went whole.
    const ranges = journalRows<{ len: number; state: number }>(taskId, 'SELECT len, state FROM ranges ORDER BY entry, idx');
    expect(ranges.map((r) => r.len)).toEqual([...Array<number>(10).fill(4 * MiB), 4 * MiB, 4 * MiB, MiB + 123]);
    expect(ranges.every((r) => r.state === 1)).toBe(true);
    // Every worker moved at least a whole range: one file's ranges went through several agents.
    const bytes = [...final.workers, ...(final.departedWorkers ?? [])];
    for (const role of ['source', 'destination'] as const) {
      const perAgent = bytes.filter((w) => w.role === role).map((w) => w.bytesDone ?? 0);
      expect(perAgent, `${role} bytes ${JSON.stringify(bytes)}`).toHaveLength(2);
      for (const n of perAgent) expect(n).toBeGreaterThanOrEqual(4 * MiB);
    }
    const report = await controls.coordinator.call('task.report', { taskId });
    expect(report.summary.copied).toBe(4);
    expect(report.summary.verified).toBe(4);
    expect(report.summary.bytesCopied).toBe(40 * MiB + 9 * MiB + 123 + 4 * MiB + 6);
  }, 120_000);

  it('a large file rewritten between its ranges is copied as it is now, never as a mix of versions', async () => {
    const src = path.join(tmp, 'src2');
    const dst = path.join(tmp, 'dst2');
    fs.mkdirSync(src);
    fs.mkdirSync(dst);
    const file = path.join(src, 'moving.bin');
    fs.writeFileSync(file, pseudoRandom(24 * MiB, 21));
    // 4 MiB/s per source: the 24 ranges of 1 MiB take a few seconds, time enough to rewrite the file.
    const taskId = await startTask('ranges-moving', src, dst, { rangeSize: MiB, concurrency: 2, bwlimit: { bytesPerSec: 4 * MiB, windows: [] } });
    const some = await waitUntil(taskId, (s) => isOver(s) || s.progress.bytesDone >= 4 * MiB);
    expect(some.state).toBe('running');
    expect(some.progress.bytesDone).toBeLessThan(24 * MiB);
    const firstStage = leftovers(dst);
    expect(firstStage).toHaveLength(1);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, 0); // inside a range already verified
    fs.closeSync(fd);
    // The second attempt writes a staging file of its own, and the first one's is removed while
    // the task still runs (not only by the final sweep): a file that keeps changing never holds
    // several full-size copies at the destination for long.
    let firstGoneWhileRunning = false;
    const final = await waitUntil(taskId, (s) => {
      const now = leftovers(dst);
      if (s.state === 'running' && now.length > 0 && !now.includes(firstStage[0] as string)) firstGoneWhileRunning = true;
      return isOver(s);
    });
    expect(firstGoneWhileRunning).toBe(true);
    expectVerifiedCopy(final, src, dst);
    expect(fs.readFileSync(path.join(dst, 'moving.bin')).subarray(0, 64).equals(Buffer.alloc(64, 0xee))).toBe(true);
    const report = await controls.coordinator.call('task.report', { taskId });
    expect(report.summary.verified).toBe(1);
    expect(report.summary.changedDuringMigration).toBe(0);
    // It started over once (the ranges of the first version were dropped), with the rewritten meta.
    const [entry] = journalRows<{ attempts: number }>(taskId, "SELECT attempts FROM entries WHERE kind = 'file'");
    expect(entry?.attempts).toBe(1);
  }, 120_000);

  it('a cancelled task leaves no staging file behind; run again, it starts the file over and ends verified', async () => {
    const src = path.join(tmp, 'src4');
    const dst = path.join(tmp, 'dst4');
    fs.mkdirSync(path.join(src, 'deep'), { recursive: true });
    fs.mkdirSync(dst);
    fs.writeFileSync(path.join(src, 'deep', 'big.bin'), pseudoRandom(24 * MiB, 41));
    const spec = { rangeSize: MiB, concurrency: 2, bwlimit: { bytesPerSec: 4 * MiB, windows: [] } };
    const taskId = await startTask('ranges-cancel', src, dst, spec);
    const some = await waitUntil(taskId, (s) => isOver(s) || s.progress.bytesDone >= 4 * MiB);
    expect(some.state).toBe('running');
    const staged = leftovers(dst);
    expect(staged).toHaveLength(1);
    // task.wait: while the task runs it answers after waitMs, with the progress so far...
    const waitedFrom = Date.now();
    const running = await controls.coordinator.call('task.wait', { taskId, waitMs: 300 });
    expect([running.state, Date.now() - waitedFrom >= 290]).toEqual(['running', true]);
    expect(running.progress.bytesDone).toBeGreaterThanOrEqual(some.progress.bytesDone);
    // ...and once it ends, at once (a wait of 10 s pending while the task is cancelled).
    const waiting = controls.coordinator.call('task.wait', { taskId, waitMs: 10_000 });
    const cancelled = await controls.coordinator.call('task.cancel', { taskId });
    expect(cancelled.state).toBe('cancelled');
    const cancelledAt = Date.now();
    expect((await waiting).state).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    // The destinations remove it once their own writing has stopped.
    const until = Date.now() + 10_000;
    while (leftovers(dst).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(leftovers(dst)).toEqual([]);
    expect(fs.existsSync(path.join(dst, 'deep', 'big.bin'))).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(leftovers(dst)).toEqual([]); // and nothing recreates it afterwards
    // The attempt ended in the journal: no verified range is trusted any more, and the next attempt
    // writes a staging file of another name (a new staging epoch, not one of the file's attempts).
    expect(journalRows(taskId, 'SELECT * FROM ranges')).toEqual([]);
    expect(journalRows(taskId, "SELECT v FROM kv WHERE k = 'stage-epoch'")).toEqual([{ v: '1' }]);
    expect(journalRows<{ attempts: number }>(taskId, "SELECT attempts FROM entries WHERE kind = 'file'")).toEqual([{ attempts: 0 }]);
    const firstStage = path.basename(staged[0] as string);

    await startTask(taskId, src, dst, spec);
    let otherName = false;
    const final = await waitUntil(taskId, (s) => {
      const now = leftovers(dst).map((n) => path.basename(n));
      if (now.length > 0 && !now.includes(firstStage)) otherName = true;
      return isOver(s);
    });
    expectVerifiedCopy(final, src, dst);
    expect(otherName).toBe(true);
  }, 120_000);

  it('a source and a destination lost for good mid-task: their ranges and batches move to the agents left', async () => {
    const src = path.join(tmp, 'src3');
    const dst = path.join(tmp, 'dst3');
    fs.mkdirSync(path.join(src, 'many'), { recursive: true });
    fs.mkdirSync(dst);
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(src, 'many', `f${i}`), pseudoRandom(8192, 100 + i));
    fs.writeFileSync(path.join(src, 'big.bin'), pseudoRandom(16 * MiB, 31));
    // Slow enough (2 MiB/s per source) that both agents hold work when they die (copy jobs count as
    // the source's; each source streams to both destinations in turn).
    const taskId = await startTask('ranges-lost', src, dst, { rangeSize: MiB, concurrency: 2, bwlimit: { bytesPerSec: 2 * MiB, windows: [] } });
    const busy = await waitUntil(taskId, (s) => isOver(s) || (s.workers.filter((w) => w.role === 'source' && w.inflight > 0).length === 2 && s.progress.bytesDone >= 2 * MiB));
    expect(busy.state).toBe('running');
    for (const role of ['source-b', 'dest-b'] as const) {
      agents[role].child.kill('SIGKILL');
      await agents[role].exited;
    }
    const final = await waitUntil(taskId, isOver);
    expectVerifiedCopy(final, src, dst);
  }, 120_000);
});
