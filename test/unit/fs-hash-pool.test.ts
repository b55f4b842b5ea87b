// The hashing thread: answers go to the request that asked (many at once, over real files), and a
// read that fails rejects with the errno of the failing read(2).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFdRange } from '../../agent/fs/hash-pool.ts';
import { pseudoRandom } from '../helpers/make-tree.ts';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hash-pool-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('hashFdRange', () => {
  it('hashes ranges of several files asked for at once, each answer to its own request', async () => {
    const files = [0, 1, 2, 3].map((i) => {
      const data = pseudoRandom(1024 * 1024 * (i + 1) + i * 1000, i + 1);
      const p = path.join(dir, `f${i}`);
      fs.writeFileSync(p, data);
      return { data, fd: fs.openSync(p, 'r') };
    });
    try {
      const asked = files.flatMap(({ data, fd }) => [
        hashFdRange(fd, 0, data.length).then((h) => [h.toString('hex'), sha(data)]),
        hashFdRange(fd, 4096, 5000).then((h) => [h.toString('hex'), sha(data.subarray(4096, 9096))]),
        // past the end: fewer bytes, as sha256FdRange
        hashFdRange(fd, data.length - 10, 100).then((h) => [h.toString('hex'), sha(data.subarray(data.length - 10))]),
      ]);
      for (const [got, want] of await Promise.all(asked)) expect(got).toBe(want);
    } finally {
      for (const f of files) fs.closeSync(f.fd);
    }
  });

  it('rejects with the errno of a read that fails', async () => {
    const fd = fs.openSync(dir, 'r'); // a directory: read(2) gives EISDIR
    try {
      await expect(hashFdRange(fd, 0, 10)).rejects.toMatchObject({ code: 'EISDIR', syscall: 'read' });
    } finally {
      fs.closeSync(fd);
    }
  });
});
