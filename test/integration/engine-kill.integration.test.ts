// kill -9 at random points: the source agent, the destination agent, the coordinator, or the whole
// CLI with all of its agents. The task resumes from the coordinator's journal and ends with a tree the
// independent comparator finds identical; files the journal called verified at the moment of the kill
// keep their destination inode (a recopy would have renamed a new file over them). The seed is
// printed; rerun with FERRY_KILL_SEED=<seed> to replay the same schedule.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { pseudoRandom, removeTree } from '../helpers/make-tree.ts';
import { buildEngine, finishedEvent, runCli } from '../helpers/engine-build.ts';
import type { CliRun, EngineBuild } from '../helpers/engine-build.ts';

let b: EngineBuild;
let tmp: string;
let src: string;
const seed = Number(process.env.FERRY_KILL_SEED ?? Date.now() % 1_000_000);

function mulberry32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(seed);
/**
 * A ready queue of 300 files (4,000 in the tree): the coordinator keeps most pending files in the
 * journal and refills from it, also when it resumes, which is the path of a 250,000-entry directory.
 */
const SMALL_READY_QUEUE = { FERRY_READY_MAX: '300' };
/** The 24 MiB files go as 6 ranges each: kills land between and inside ranges too. */
const RANGE_SIZE = '4M';

beforeAll(async () => {
  console.log(`engine kill test seed: ${seed} (FERRY_KILL_SEED=${seed} replays it)`);
  b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-engine-kill-'));
  src = path.join(tmp, 'src');
  // 4,000 small files in 40 directories, a few larger files and a hard link.
  for (let d = 0; d < 40; d++) {
    const dir = path.join(src, `d${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}`), pseudoRandom(4096 + f, d * 1000 + f + 1));
  }
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(src, `big${i}`), pseudoRandom(24 * 1024 * 1024, 77 + i));
  fs.linkSync(path.join(src, 'd0/f0'), path.join(src, 'd1/hard'));
}, 120_000);
afterAll(() => removeTree(tmp));

/** Verified ranges of large files in the journal right now ("entry/idx" -> source hash of the range). */
function verifiedRanges(journal: string): Map<string, string> {
  const script = `const {DatabaseSync}=require('node:sqlite');const db=new DatabaseSync(process.argv[1],{readOnly:true,timeout:5000});
    process.stdout.write(JSON.stringify(db.prepare('SELECT entry, idx, src_hash FROM ranges WHERE state=1').all()));`;
  const r = spawnSync(b.node24, ['-e', script, journal], { encoding: 'utf8' });
  if (r.status !== 0) return new Map();
  return new Map((JSON.parse(r.stdout) as { entry: number; idx: number; src_hash: string }[]).map((x) => [`${x.entry}/${x.idx}`, x.src_hash]));
}

/** Verified entries in the coordinator's journal right now, read by a separate Node 24 process. */
function verifiedNow(journal: string): string[] {
  const script = `const {DatabaseSync}=require('node:sqlite');const db=new DatabaseSync(process.argv[1],{readOnly:true,timeout:5000});
    const rows=db.prepare('SELECT rel FROM entries WHERE state=3 AND kind=\\'file\\'').all();
    process.stdout.write(JSON.stringify(rows.map(r=>Buffer.from(r.rel).toString('latin1'))));`;
  const r = spawnSync(b.node24, ['-e', script, journal], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return JSON.parse(r.stdout) as string[];
}

function inodes(dst: string, rels: string[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const rel of rels) {
    const st = fs.statSync(path.join(dst, rel), { bigint: true, throwIfNoEntry: false });
    if (st) out.set(rel, st.ino);
  }
  return out;
}

interface Started {
  taskId: string;
  stateDir: string;
  agents: Record<string, { pid: number; home: string }>;
}

describe('kill -9 and resume', () => {
  it('agents killed at random points: the task resumes, ends correct, and never recopies a verified file', async () => {
    for (let round = 0; round < 3; round++) {
      const dst = path.join(tmp, `dst${round}`);
      const state = path.join(tmp, `state${round}`);
      const pids: Record<string, number> = {};
      let started: Started | null = null;
      const args = ['migrate', src, dst, '--json', '--state-dir', state, '--concurrency', '2', '--range-size', RANGE_SIZE];
      const { child, done } = runCli(b, args, (e) => {
        if (e.event === 'started') {
          started = e as unknown as Started;
          for (const [role, a] of Object.entries(started.agents)) pids[role] = a.pid;
        }
        if (e.event === 'agent-restarted') pids[e.role as string] = e.pid as number;
      }, SMALL_READY_QUEUE);
      const kept = new Map<string, bigint>();
      const roles = ['source', 'destination', 'coordinator'];
      for (let kill = 0; kill < 2; kill++) {
        await new Promise((r) => setTimeout(r, 150 + rand() * 700));
        const s = started as Started | null;
        const role = roles[Math.floor(rand() * roles.length)] as string;
        if (!s || child.exitCode !== null) break;
        const pid = pids[role];
        if (!pid) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          continue;
        }
        const journal = path.join(s.stateDir, 'coordinator', 'tasks', s.taskId, 'journal.sqlite');
        for (const [rel, ino] of inodes(dst, verifiedNow(journal))) if (!kept.has(rel)) kept.set(rel, ino);
        console.log(`round ${round}: killed the ${role} (pid ${pid}); ${kept.size} files verified so far`);
      }
      const run: CliRun = await done;
      expect(run.code, `${run.stderr}\n${run.stdout.slice(-2000)}`).toBe(0);
      expect(finishedEvent(run).passed).toBe(true);
      expect(formatDifferences(compareTrees(src, dst))).toBe('');
      const after = inodes(dst, [...kept.keys()]);
      const recopied = [...kept].filter(([rel, ino]) => after.get(rel) !== ino).map(([rel]) => rel);
      expect(recopied).toEqual([]);
    }
  }, 300_000);

  it('the whole CLI and its agents killed: the same command resumes the task', async () => {
    const dst = path.join(tmp, 'dst-all');
    const state = path.join(tmp, 'state-all');
    const args = ['migrate', src, dst, '--json', '--state-dir', state, '--concurrency', '2', '--range-size', RANGE_SIZE];
    let started: Started | null = null;
    const first = runCli(
      b,
      args,
      (e) => {
        if (e.event === 'started') started = e as unknown as Started;
      },
      SMALL_READY_QUEUE,
    );
    // The random point is counted from the task's start (a loaded machine may take seconds to get there).
    for (let waited = 0; started === null && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 400 + rand() * 800));
    const s = started as Started | null;
    expect(s).not.toBeNull();
    for (const a of Object.values((s as Started).agents)) {
      try {
        process.kill(a.pid, 'SIGKILL');
      } catch {
        // already finished
      }
    }
    first.child.kill('SIGKILL');
    await first.done;
    const journal = path.join((s as Started).stateDir, 'coordinator', 'tasks', (s as Started).taskId, 'journal.sqlite');
    const kept = inodes(dst, verifiedNow(journal));
    const keptRanges = verifiedRanges(journal);
    console.log(`killed everything; ${kept.size} files and ${keptRanges.size} ranges were verified`);
    const second = await runCli(b, args, undefined, SMALL_READY_QUEUE).done;
    expect(second.code, second.stderr).toBe(0);
    const fin = finishedEvent(second);
    expect(fin.passed).toBe(true);
    expect(formatDifferences(compareTrees(src, dst))).toBe('');
    const after = inodes(dst, [...kept.keys()]);
    expect([...kept].filter(([rel, ino]) => after.get(rel) !== ino)).toEqual([]);
    // Ranges verified before the kill were kept, not copied again (a recopy resets and rewrites them).
    const rangesAfter = verifiedRanges(journal);
    expect([...keptRanges].filter(([key, hash]) => rangesAfter.get(key) !== hash)).toEqual([]);
    expect(rangesAfter.size).toBe(4 * 6);
  }, 120_000);
});
