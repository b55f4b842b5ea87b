// Reading a small file whole in one addon call (native.ts readWhole), the source's fast path: the
// bytes land where they are asked, the digest and the stats are the file's, and whatever is not a
// small dense regular file is handed back for the long way, never read wrong.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { metaFromStatArray, statEntry } from '../../agent/fs/meta.ts';
import { READ_WHOLE_STATS, ReadWholeStatus, canReadWhole, readWhole } from '../../agent/fs/native.ts';
import { ensureNativeBuilt } from '../helpers/make-tree.ts';

let dir = '';
const b = (...parts: string[]) => Buffer.from(path.join(dir, ...parts));
const stats = new BigInt64Array(READ_WHOLE_STATS);
const digest = Buffer.alloc(32);

beforeAll(() => ensureNativeBuilt());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-readwhole-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
  return undefined;
}

it('is available in this Node', () => {
  expect(canReadWhole()).toBe(true);
});

it('reads the bytes at the offset asked, with their SHA-256 and the stats lstat gives', () => {
  const data = Buffer.from('a small file, read whole\n'.repeat(100));
  fs.writeFileSync(b('f'), data);
  fs.chmodSync(b('f'), 0o4751);
  fs.utimesSync(b('f'), 1_600_000_000.25, 1_700_000_000.5);
  const before = statEntry(b('f')); // before the read, which may set atime
  const out = Buffer.alloc(data.length + 20, 0xaa);
  const n = readWhole(b('f'), out, 10, data.length + 5, stats, digest);
  expect(n).toBe(data.length);
  expect(out.subarray(10, 10 + n)).toEqual(data);
  expect(out[9]).toBe(0xaa);
  expect(out[10 + n]).toBe(0xaa);
  expect(digest).toEqual(createHash('sha256').update(data).digest());
  expect(metaFromStatArray(stats)).toEqual(before);
});

it('reads an empty file', () => {
  fs.writeFileSync(b('empty'), '');
  expect(readWhole(b('empty'), Buffer.alloc(0), 0, 0, stats, digest)).toBe(0);
  expect(digest).toEqual(createHash('sha256').digest());
});

it('hands back a file larger than cap, a sparse file and a non-file, with their stats', () => {
  fs.writeFileSync(b('big'), Buffer.alloc(5000, 1));
  expect(readWhole(b('big'), Buffer.alloc(4096), 0, 4096, stats, digest)).toBe(ReadWholeStatus.notSmall);
  expect(metaFromStatArray(stats).size).toBe(5000);
  const fd = fs.openSync(b('sparse'), 'w');
  fs.writeSync(fd, Buffer.from('x'), 0, 1, 200_000);
  fs.closeSync(fd);
  expect(readWhole(b('sparse'), Buffer.alloc(256 * 1024), 0, 256 * 1024, stats, digest)).toBe(ReadWholeStatus.notSmall);
  fs.mkdirSync(b('d'));
  expect(readWhole(b('d'), Buffer.alloc(16), 0, 16, stats, digest)).toBe(ReadWholeStatus.notRegular);
  expect(metaFromStatArray(stats).kind).toBe('dir');
});

it('never follows a symlink, and says when the file is gone', () => {
  fs.writeFileSync(b('target'), 't');
  fs.symlinkSync('target', b('link'));
  expect(errnoOf(() => readWhole(b('link'), Buffer.alloc(16), 0, 16, stats, digest))).toBe('ELOOP');
  expect(errnoOf(() => readWhole(b('missing'), Buffer.alloc(16), 0, 16, stats, digest))).toBe('ENOENT');
});

it('names the call a too-long path was meant for', () => {
  const long = Buffer.from(`${dir}/${'d/'.repeat(2100)}f`);
  let err: NodeJS.ErrnoException | undefined;
  try {
    readWhole(long, Buffer.alloc(16), 0, 16, stats, digest);
  } catch (e) {
    err = e as NodeJS.ErrnoException;
  }
  expect([err?.code, err?.syscall]).toEqual(['ENAMETOOLONG', 'open']);
});

it('does not wait for a writer when the name is now a FIFO', () => {
  expect(spawnSync('mkfifo', [path.join(dir, 'fifo')]).status).toBe(0);
  expect(readWhole(b('fifo'), Buffer.alloc(16), 0, 16, stats, digest)).toBe(ReadWholeStatus.notRegular);
});

it('refuses an output too small for cap, and a stats array of the wrong kind', () => {
  fs.writeFileSync(b('f'), 'x');
  expect(() => readWhole(b('f'), Buffer.alloc(8), 4, 8, stats, digest)).toThrow(/cap bytes at offset/);
  expect(() => readWhole(b('f'), Buffer.alloc(8), 0, 8, new BigInt64Array(3), digest)).toThrow(/BigInt64Array/);
});
