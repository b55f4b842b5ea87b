// A task's mount vanishing mid-task (`umount -l` of a real tmpfs while `ferry migrate` runs, slowed
// down with --bwlimit so the loss is surely mid-way):
//   destination lost: the task fails with 'mount-lost' and a message naming the destination, and not
//   a single entry is created in the local directory under the mount point (it stays empty and its
//   mtime and ctime do not move, so not even a temp file came and went);
//   source lost: the task fails with 'mount-lost' naming the source, and nothing is deleted at the
//   destination although the run was a --mirror (a vanished source must never look like "everything
//   was deleted").
// Needs root (mount/umount); skipped otherwise, as the other mount tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandom, removeTree } from '../helpers/make-tree.ts';
import { buildEngine, finishedEvent, runCli } from '../helpers/engine-build.ts';
import { TmpfsMounts } from '../helpers/tmpfs-mounts.ts';
import type { CliRun, EngineBuild } from '../helpers/engine-build.ts';

const isRoot = process.getuid?.() === 0;

/**
 * 60 files of 256 KiB at the top and 2 directories of 20 more (25 MiB: ~6 s at 4 MiB/s), so files
 * directly in the root, the most exposed ones, are still arriving when the mount goes.
 */
function fillSource(root: string): void {
  fs.mkdirSync(root, { recursive: true });
  for (let f = 0; f < 60; f++) fs.writeFileSync(path.join(root, `top${f}`), pseudoRandom(256 * 1024, 5000 + f));
  for (let d = 0; d < 2; d++) {
    const dir = path.join(root, `dir${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(dir, `f${f}`), pseudoRandom(256 * 1024, d * 100 + f + 1));
  }
}

function countFiles(root: string): number {
  let n = 0;
  for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function explain(r: CliRun): string {
  return `exit ${r.code}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`;
}

describe.skipIf(!isRoot)('a mount lost in the middle of a task', () => {
  let b: EngineBuild;
  let tmp = '';
  const mounts = new TmpfsMounts('ferry-loss-test');

  beforeAll(async () => {
    b = await buildEngine();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-mount-loss-'));
    fs.chmodSync(tmp, 0o755);
  }, 120_000);
  afterEach(() => mounts.unmountAll());
  afterAll(() => removeTree(tmp));

  const mountTmpfs = (dir: string) => mounts.mount(dir, '256m');
  const lazyUnmount = (dir: string) => mounts.lazyUnmount(dir);

  it('destination lost: the task fails naming the destination, nothing lands under the mount point', async () => {
    const src = path.join(tmp, 'd-src');
    const dst = path.join(tmp, 'd-dst');
    const state = path.join(tmp, 'd-state');
    fillSource(src);
    fs.mkdirSync(dst);
    const under = fs.statSync(dst, { bigint: true });
    mountTmpfs(dst);
    const { done } = runCli(b, ['migrate', src, dst, '--json', '--state-dir', state, '--bwlimit', '4M', '--concurrency', '2']);
    // Mid-way: some files (and a subdirectory) are at the destination, most are not.
    await until('the first files at the destination', () => countFiles(dst) >= 5, 30_000);
    const copiedBefore = countFiles(dst);
    expect(copiedBefore).toBeLessThan(50);
    lazyUnmount(dst);
    const r = await done;

    expect(r.code, explain(r)).toBe(1);
    const fin = finishedEvent(r);
    console.log(`destination lost after ${copiedBefore} files: ${String(fin.message)}`);
    expect(fin.state, explain(r)).toBe('failed');
    expect(fin.errorCode).toBe('mount-lost');
    expect(fin.passed).toBe(false);
    expect(String(fin.message)).toContain(`The destination ${dst} `);
    expect(String(fin.message)).toMatch(/Remount it and resume the task/);
    // The local directory the tmpfs covered: still empty, and untouched (no temp file came and went).
    expect(fs.readdirSync(dst)).toEqual([]);
    const now = fs.statSync(dst, { bigint: true });
    expect(now.mtimeNs).toBe(under.mtimeNs);
    expect(now.ctimeNs).toBe(under.ctimeNs);
  }, 120_000);

  it('source lost: the task fails naming the source, and a mirror run deletes nothing', async () => {
    const src = path.join(tmp, 's-src');
    const dst = path.join(tmp, 's-dst');
    const state = path.join(tmp, 's-state');
    mountTmpfs(src);
    fillSource(src);
    // The destination already holds files the source does not have: a mirror would delete them.
    fs.mkdirSync(path.join(dst, 'old'), { recursive: true });
    for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(dst, 'old', `keep${f}`), `keep ${f}`);
    fs.writeFileSync(path.join(dst, 'keep-top'), 'keep');
    const { done } = runCli(b, ['migrate', src, dst, '--json', '--mirror', '--state-dir', state, '--bwlimit', '4M', '--concurrency', '2']);
    await until('the first files at the destination', () => countFiles(dst) >= 21 + 5, 30_000);
    lazyUnmount(src);
    const r = await done;

    expect(r.code, explain(r)).toBe(1);
    const fin = finishedEvent(r);
    console.log(`source lost: ${String(fin.message)}`);
    expect(fin.state, explain(r)).toBe('failed');
    expect(fin.errorCode).toBe('mount-lost');
    expect(String(fin.message)).toContain(`The source ${src} `);
    // Nothing was deleted: every extra is still there, and so is every file copied before the loss.
    expect(fs.readdirSync(path.join(dst, 'old')).length).toBe(20);
    expect(fs.existsSync(path.join(dst, 'keep-top'))).toBe(true);
    const summary = fin.summary as { deleted: number; changedDuringMigration: number };
    expect(summary.deleted).toBe(0);
    // The vanished files were not blamed on the files ("deleted during the migration").
    expect(summary.changedDuringMigration).toBe(0);
  }, 120_000);
});
