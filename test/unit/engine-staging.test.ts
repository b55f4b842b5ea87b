// Staging files of large files at the destination, on real files: a commit reads every range back
// and refuses a staging file whose bytes changed after its ranges were verified; a commit that comes
// twice (its answer was lost) finds the file in place and succeeds; a staging name planted in advance as a
// hard link to a file elsewhere is refused, and that file is left untouched; a directory's final
// sweep removes its own task's staging files and leaves another task's; staging keys are per task,
// per attempt and derived from the task's secret token.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EntryMeta } from '../../agent/fs/api.ts';
import { AtomicFileWriter, RANGE_STAGE_PREFIX, rangeStageName } from '../../agent/fs/atomic-write.ts';
import { FsError } from '../../agent/fs/errors.ts';
import { MountGuard } from '../../agent/fs/mount-guard.ts';
import { DestTree } from '../../agent/engine/dest-tree.ts';
import { stageKey, taskStageTag } from '../../agent/engine/ranges.ts';
import { ensureNativeBuilt, pseudoRandom } from '../helpers/make-tree.ts';

let dir = '';
let root = '';

beforeAll(() => ensureNativeBuilt());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-staging-'));
  root = path.join(dir, 'dst');
  fs.mkdirSync(root);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** SHA-256 over the SHA-256 of each range of content, as the coordinator combines a file's ranges. */
function rangesDigest(content: Buffer, rangeSize: number): string {
  const combined = createHash('sha256');
  for (let off = 0; off < content.length; off += rangeSize) combined.update(createHash('sha256').update(content.subarray(off, off + rangeSize)).digest());
  return combined.digest('hex');
}

function fileMeta(size: number): EntryMeta {
  return { kind: 'file', size, mode: 0o640, uid: 0, gid: 0, atimeNs: 1_600_000_000_000_000_000n, mtimeNs: 1_600_000_000_123_456_789n, ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 1, blocks: 0 };
}

/** Writes content as two ranges into stage (in root), as two destination writers would. */
async function stageRanges(stage: string, content: Buffer): Promise<string> {
  const half = content.length / 2;
  let id = '';
  for (const [off, part] of [
    [half, content.subarray(half)],
    [0, content.subarray(0, half)],
  ] as const) {
    const w = new AtomicFileWriter(Buffer.from(root), fs.statSync(root, { bigint: true }).dev, { stage: rangeStageName(stage) });
    w.write(part, off);
    await w.finishRange(off, part.length, { fsync: true, readBack: true });
    id = w.stageId;
  }
  return id;
}

describe('staging files at the destination', () => {
  it('a commit reads every range back before the rename, and one that comes again finds the file in place', async () => {
    const tree = new DestTree(new MountGuard(root), 'task-a');
    const content = pseudoRandom(64 * 1024, 3);
    const stage = 'unitstage-1';
    const commit = { stage, stageId: await stageRanges(stage, content), rangeSize: content.length / 2, srcHash: rangesDigest(content, content.length / 2) };
    const opts = { owner: false, fsync: true };
    await tree.commitStaged(Buffer.from('big.bin'), commit, fileMeta(content.length), opts);
    await tree.commitStaged(Buffer.from('big.bin'), commit, fileMeta(content.length), opts);
    expect(fs.readFileSync(path.join(root, 'big.bin')).equals(content)).toBe(true);
    expect(fs.statSync(path.join(root, 'big.bin')).mode & 0o7777).toBe(0o640);
    expect(fs.readdirSync(root)).toEqual(['big.bin']);
    // A staging file that is gone and was never committed is refused as range-missing.
    await expect(tree.commitStaged(Buffer.from('other.bin'), { ...commit, stage: 'unitstage-2' }, fileMeta(content.length), opts)).rejects.toMatchObject({ code: 'range-missing' });
  });

  it('a staging file whose bytes changed after its ranges were verified (a straggler wrote into it) is not committed', async () => {
    const tree = new DestTree(new MountGuard(root), 'task-a');
    const content = pseudoRandom(64 * 1024, 4);
    const stage = 'unitstage-4';
    const commit = { stage, stageId: await stageRanges(stage, content), rangeSize: content.length / 2, srcHash: rangesDigest(content, content.length / 2) };
    const fd = fs.openSync(path.join(root, rangeStageName(stage).toString('latin1')), 'r+');
    fs.writeSync(fd, Buffer.from('late bytes'), 0, 10, 40_000);
    fs.closeSync(fd);
    await expect(tree.commitStaged(Buffer.from('big.bin'), commit, fileMeta(content.length), { owner: false, fsync: true })).rejects.toMatchObject({
      code: 'range-missing',
      message: 'The staged ranges of this file read back different from the source SHA-256; they are copied again.',
    });
    // Nothing under the final name, and the bad staging file is gone.
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a staging name planted in advance as a hard link to a file elsewhere is refused; that file stays as it was', () => {
    const outside = path.join(dir, 'precious.txt');
    fs.writeFileSync(outside, 'do not touch\n');
    const stage = rangeStageName('unitstage-3');
    fs.linkSync(outside, path.join(root, stage.toString('latin1')));
    let err: unknown;
    try {
      new AtomicFileWriter(Buffer.from(root), fs.statSync(root, { bigint: true }).dev, { stage });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).message).toContain('has 2 names (hard links); Ferry does not write into it.');
    expect(fs.readFileSync(outside, 'utf8')).toBe('do not touch\n');
  });

  it("a directory's final sweep removes its own task's staging files and leaves another task's", () => {
    const tree = new DestTree(new MountGuard(root), 'task-a');
    const mine = `${RANGE_STAGE_PREFIX}${taskStageTag('task-a')}-0123`;
    const theirs = `${RANGE_STAGE_PREFIX}${taskStageTag('task-b')}-0123`;
    for (const n of [mine, theirs, '.ferry-tmp.abc.1']) fs.writeFileSync(path.join(root, n), 'x');
    // A sweep that takes every temp file older than a minute from now keeps every staging file.
    expect(tree.sweepTemps(Buffer.from(root), BigInt(Date.now() + 60_000) * 1_000_000n)).toBe(1);
    expect(fs.readdirSync(root).sort()).toEqual([mine, theirs].sort());
    // The final sweep: this task's staging file goes (and every temp file), another task's stays.
    fs.writeFileSync(path.join(root, '.ferry-tmp.left.1'), 'x');
    tree.finishDir(Buffer.alloc(0), { ...fileMeta(0), kind: 'dir', mode: 0o755 }, false);
    expect(fs.readdirSync(root)).toEqual([theirs]);
  });

  it('staging keys differ per task, per attempt, per staging epoch and per token, and fit a file name', () => {
    const keys = [stageKey('task-a', 'token-1', 7, 0), stageKey('task-a', 'token-1', 7, 1), stageKey('task-a', 'token-1', 8, 0), stageKey('task-a', 'token-2', 7, 0), stageKey('task-a', 'token-1', 7, 0, 1), stageKey('task-a', 'token-1', 7, 1, 1)];
    expect(new Set(keys).size).toBe(6);
    // Epoch 0 keeps the keys of journals written before epochs existed (a resumed task finds its staging files).
    expect(stageKey('task-a', 'token-1', 7, 0, 0)).toBe(keys[0]);
    for (const k of keys) expect(k).toMatch(new RegExp(`^${taskStageTag('task-a')}-[0-9a-f]{32}$`));
    expect(stageKey('task-b', 'token-1', 7, 0).startsWith(`${taskStageTag('task-b')}-`)).toBe(true);
  });
});
