// A full disk mid-task, on real tmpfs mounts that are too small:
//   destination full: the task fails at once with 'destination-full' and a message that says what to
//   do (not one failure per remaining file, and no hang); no temp file is left behind; once the
//   file system is grown, the same command resumes and ends verified, identical to the source;
//   coordinator's disk full (its journal cannot be written): the task fails with
//   'coordinator-disk-full' instead of retrying the same listing forever; after growing the disk the
//   same command resumes and ends verified.
// Needs root (mount); skipped otherwise, as the other mount tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { pseudoRandom, removeTree } from '../helpers/make-tree.ts';
import { buildEngine, finishedEvent, runCli } from '../helpers/engine-build.ts';
import { TmpfsMounts } from '../helpers/tmpfs-mounts.ts';
import type { CliRun, EngineBuild } from '../helpers/engine-build.ts';

const isRoot = process.getuid?.() === 0;
/** A run that has not ended by then is the hang this test exists to catch. */
const RUN_LIMIT_MS = 90_000;

function explain(r: CliRun): string {
  return `exit ${r.code}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;
}

/** Runs `ferry migrate` to its end, or kills it and throws after RUN_LIMIT_MS. */
async function migrate(b: EngineBuild, args: string[]): Promise<CliRun> {
  const { child, done } = runCli(b, ['migrate', ...args]);
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ferry migrate ${args.join(' ')} did not end within ${RUN_LIMIT_MS / 1000} s.`));
    }, RUN_LIMIT_MS);
  });
  try {
    return await Promise.race([done, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function tempLeftovers(root: string): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((rel) => path.basename(rel).startsWith('.ferry-tmp.'));
}

describe.skipIf(!isRoot)('a disk that fills up in the middle of a task', () => {
  let b: EngineBuild;
  let tmp = '';
  const mounts = new TmpfsMounts('ferry-full-test');

  beforeAll(async () => {
    b = await buildEngine();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-disk-full-'));
    fs.chmodSync(tmp, 0o755);
  }, 120_000);
  afterEach(() => mounts.unmountAll());
  afterAll(() => removeTree(tmp));

  const mountTmpfs = (dir: string, size: string) => mounts.mount(dir, size);
  const grow = (dir: string) => mounts.grow(dir, '256m');

  it('destination full: the task stops with destination-full, leaves no temp file, and resumes once there is room', async () => {
    const src = path.join(tmp, 'd-src');
    const dst = path.join(tmp, 'd-dst');
    const state = path.join(tmp, 'd-state');
    // 48 files of 256 KiB (12 MiB) in 3 directories, into 4 MiB.
    for (let d = 0; d < 3; d++) {
      fs.mkdirSync(path.join(src, `dir${d}`), { recursive: true });
      for (let f = 0; f < 16; f++) fs.writeFileSync(path.join(src, `dir${d}`, `f${f}`), pseudoRandom(256 * 1024, d * 100 + f + 1));
    }
    mountTmpfs(dst, '4m');
    const args = [src, dst, '--json', '--state-dir', state, '--concurrency', '2'];

    const full = await migrate(b, args);
    expect(full.code, explain(full)).toBe(1);
    const fin = finishedEvent(full);
    console.log(`destination full: ${String(fin.message)}`);
    expect(fin.state, explain(full)).toBe('failed');
    expect(fin.errorCode).toBe('destination-full');
    expect(String(fin.message)).toMatch(/^The destination has no space left/);
    expect(String(fin.message)).toContain('Free space on it or raise the quota, then resume the task');
    // Stopped at the first full write: the rest were not each tried and failed.
    const summary = fin.summary as { failed: { total: number } };
    expect(summary.failed.total).toBeLessThanOrEqual(2);
    expect(tempLeftovers(dst)).toEqual([]);

    grow(dst);
    const resumed = await migrate(b, args);
    expect(resumed.code, explain(resumed)).toBe(0);
    expect(finishedEvent(resumed).passed).toBe(true);
    expect(formatDifferences(compareTrees(src, dst))).toBe('');
  }, 240_000);

  it("coordinator's disk full: the task stops with coordinator-disk-full instead of retrying forever, and resumes once there is room", async () => {
    const src = path.join(tmp, 'c-src');
    const dst = path.join(tmp, 'c-dst');
    const state = path.join(tmp, 'c-state');
    // 5,000 tiny files with 100-byte names: the journal needs over 2 MiB (name, its index, the meta);
    // the agents' homes get 1 MiB, plenty for their start.
    const longName = (f: number) => `${'file-with-a-long-name-'.repeat(4)}${String(f).padStart(12, '0')}`;
    for (let d = 0; d < 25; d++) {
      fs.mkdirSync(path.join(src, `dir${d}`), { recursive: true });
      for (let f = 0; f < 200; f++) fs.writeFileSync(path.join(src, `dir${d}`, longName(f)), `${d}/${f}`);
    }
    mountTmpfs(state, '1m');
    const args = [src, dst, '--json', '--state-dir', state, '--concurrency', '2'];

    const full = await migrate(b, args);
    expect(full.code, explain(full)).not.toBe(0);
    const fin = finishedEvent(full);
    console.log(`coordinator's disk full: ${String(fin.message)}`);
    expect(fin.state, explain(full)).toBe('failed');
    expect(fin.errorCode).toBe('coordinator-disk-full');
    expect(String(fin.message)).toContain('Free space there, then resume the task');

    grow(state);
    const resumed = await migrate(b, args);
    expect(resumed.code, explain(resumed)).toBe(0);
    expect(finishedEvent(resumed).passed).toBe(true);
    expect(formatDifferences(compareTrees(src, dst))).toBe('');
  }, 240_000);
});
