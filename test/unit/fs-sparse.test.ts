// Sparse files: data segments through SEEK_DATA/SEEK_HOLE, a sparse copy through AtomicFileWriter that
// stays sparse (also from a dense source, by skipping zero blocks), and SHA-256 helpers.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicFileWriter } from '../../agent/fs/atomic-write.ts';
import { sha256Fd, sha256FdRange, sha256File, sha256FileHex } from '../../agent/fs/hash.ts';
import { isSparse, statEntry } from '../../agent/fs/meta.ts';
import { dataSegments, segmentsBytes } from '../../agent/fs/sparse.ts';
import { ensureNativeBuilt, pseudoRandom } from '../helpers/make-tree.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
let dir = '';
const b = (name: string) => Buffer.from(path.join(dir, name));

beforeAll(() => {
  ensureNativeBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-sparse-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function makeFile(name: string, size: number, chunks: Array<[number, Buffer]>): Buffer {
  const p = b(name);
  const fd = fs.openSync(p, 'w');
  fs.ftruncateSync(fd, size);
  for (const [off, data] of chunks) fs.writeSync(fd, data, 0, data.length, off);
  fs.closeSync(fd);
  return p;
}

function segmentsOf(p: Buffer): Array<[number, number]> {
  const fd = fs.openSync(p, 'r');
  try {
    return dataSegments(fd, fs.statSync(p).size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies src to dir/name reading only its data segments, like the engine's source + destination. */
function sparseCopy(src: Buffer, name: string): Buffer {
  const meta = statEntry(src);
  const fd = fs.openSync(src, 'r');
  const w = new AtomicFileWriter(Buffer.from(dir), meta.dev, { sparse: true });
  try {
    const buf = Buffer.allocUnsafe(MiB);
    for (const [start, end] of dataSegments(fd, meta.size)) {
      for (let pos = start; pos < end; ) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
        w.write(buf.subarray(0, n), pos);
        pos += n;
      }
    }
    return w.commit(Buffer.from(name), meta, { owner: false });
  } catch (err) {
    w.abort();
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

describe('dataSegments', () => {
  it('finds the data between holes', () => {
    const p = makeFile('holes', 3 * MiB, [
      [0, pseudoRandom(4 * KiB, 1)],
      [MiB, pseudoRandom(8 * KiB, 2)],
    ]);
    expect(segmentsOf(p)).toEqual([
      [0, 4 * KiB],
      [MiB, MiB + 8 * KiB],
    ]);
  });

  it('handles empty, all-hole, dense and past-4-GiB files', () => {
    expect(segmentsOf(makeFile('empty', 0, []))).toEqual([]);
    expect(segmentsOf(makeFile('allhole', 2 * MiB, []))).toEqual([]);
    expect(segmentsOf(makeFile('dense', 10_000, [[0, pseudoRandom(10_000)]]))).toEqual([[0, 10_000]]);
    const huge = makeFile('huge', 5 * GiB + 5, [[5 * GiB, Buffer.from('ferry')]]);
    const segs = segmentsOf(huge);
    expect(segs).toEqual([[5 * GiB, 5 * GiB + 5]]);
    expect(segmentsBytes(segs)).toBe(5);
  });

  it('clips to the size being copied', () => {
    const p = makeFile('clip', 2 * MiB, [[MiB, pseudoRandom(64 * KiB)]]);
    const fd = fs.openSync(p, 'r');
    expect(dataSegments(fd, MiB + 100)).toEqual([[MiB, MiB + 100]]);
    expect(dataSegments(fd, MiB)).toEqual([]);
    fs.closeSync(fd);
  });
});

describe('sparse copies', () => {
  it('copies a 5 GiB sparse file reading only its data, and the copy stays sparse', () => {
    const src = makeFile('huge-src', 5 * GiB + MiB, [
      [4096, Buffer.from('head')],
      [5 * GiB, Buffer.from('ferry')],
    ]);
    const dst = sparseCopy(src, 'huge-dst');
    const s = statEntry(src);
    const d = statEntry(dst);
    expect(d.size).toBe(s.size);
    expect(isSparse(d)).toBe(true);
    expect(d.blocks).toBeLessThanOrEqual(s.blocks);
    const fd = fs.openSync(dst, 'r');
    const got = Buffer.alloc(5);
    fs.readSync(fd, got, 0, 5, 5 * GiB);
    expect(got.toString()).toBe('ferry');
    fs.readSync(fd, got, 0, 5, 4096);
    expect(got.subarray(0, 4).toString()).toBe('head');
    fs.closeSync(fd);
    expect(d.mtimeNs).toBe(s.mtimeNs);
  });

  it('keeps holes from a dense source by skipping all-zero 4 KiB blocks', () => {
    const data = Buffer.alloc(4 * MiB);
    pseudoRandom(100).copy(data, 10); // block 0
    pseudoRandom(5000).copy(data, 2 * MiB - 100); // straddles two blocks
    data[4 * MiB - 1] = 1; // last block
    const src = b('dense-with-zeros');
    fs.writeFileSync(src, data);
    const meta = statEntry(src);
    expect(isSparse(meta)).toBe(false);
    const w = new AtomicFileWriter(Buffer.from(dir), meta.dev, { sparse: true });
    // Unaligned chunks, as they may come off the wire.
    let written = 0;
    for (let pos = 0; pos < data.length; pos += 100_003) written += w.write(data.subarray(pos, Math.min(data.length, pos + 100_003)), pos);
    const dst = w.commit(Buffer.from('dense-copy'), meta, { owner: false });
    expect(written).toBeLessThan(5 * 4096 + 2 * 100_003);
    expect(fs.readFileSync(dst).equals(data)).toBe(true);
    const d = statEntry(dst);
    expect(d.blocks * 512).toBeLessThanOrEqual(6 * 4096);
    expect(segmentsOf(dst).length).toBeGreaterThanOrEqual(3);
  });
});

describe('hash', () => {
  it('hashes whole files sync and async, never through a symlink', async () => {
    const content = pseudoRandom(3 * MiB + 17, 7);
    fs.writeFileSync(b('h'), content);
    const expected = createHash('sha256').update(content).digest('hex');
    expect(sha256FileHex(b('h'))).toBe(expected);
    const fd = fs.openSync(b('h'), 'r');
    // The size the caller expects ends the read early; a wrong one only costs the read that finds the end.
    expect(sha256Fd(fd, content.length).toString('hex')).toBe(expected);
    expect(sha256Fd(fd, 1).toString('hex')).toBe(expected);
    expect(sha256FdRange(fd, 10, 20).equals(createHash('sha256').update(content.subarray(10, 30)).digest())).toBe(true);
    fs.closeSync(fd);
    // One read covers a small file (hashed in one call); a wrong expected size still reads to the end.
    for (const size of [1, 4096, MiB - 1, MiB, MiB + 1]) {
      const small = content.subarray(0, size);
      fs.writeFileSync(b('hs'), small);
      const sfd = fs.openSync(b('hs'), 'r');
      const want = createHash('sha256').update(small).digest('hex');
      expect(sha256Fd(sfd, size).toString('hex')).toBe(want);
      expect(sha256Fd(sfd, size - 1).toString('hex')).toBe(want);
      expect(sha256Fd(sfd).toString('hex')).toBe(want);
      fs.closeSync(sfd);
    }
    fs.writeFileSync(b('h0'), '');
    expect(sha256File(b('h0')).toString('hex')).toBe(createHash('sha256').digest('hex'));
    fs.symlinkSync('h', b('hlink'));
    expect(() => sha256File(b('hlink'))).toThrow(expect.objectContaining({ code: 'not-a-directory', errno: 'ELOOP' }));
  });
});

describe('openForRead', () => {
  it('opens regular files without changing atime, refuses symlinks and FIFOs without blocking', async () => {
    const { openForRead } = await import('../../agent/fs/read.ts');
    const { setTimes } = await import('../../agent/fs/native.ts');
    fs.writeFileSync(b('r'), 'read me');
    setTimes(b('r'), 1_000_000_000_000_000_000n, 1_000_000_000_000_000_001n, true); // atime < mtime: relatime would update it
    const { fd, meta } = openForRead(b('r'));
    const buf = Buffer.alloc(7);
    fs.readSync(fd, buf, 0, 7, 0);
    fs.closeSync(fd);
    expect(buf.toString()).toBe('read me');
    expect(meta).toMatchObject({ kind: 'file', size: 7 });
    if (process.getuid?.() === 0) expect(fs.lstatSync(b('r'), { bigint: true }).atimeNs).toBe(1_000_000_000_000_000_000n);
    fs.symlinkSync('r', b('rlink'));
    expect(() => openForRead(b('rlink'))).toThrow(expect.objectContaining({ errno: 'ELOOP' }));
    const { spawnSync } = await import('node:child_process');
    spawnSync('mkfifo', [b('rfifo').toString()]);
    expect(() => openForRead(b('rfifo'))).toThrow(/is a fifo, not a regular file/);
  });
});
