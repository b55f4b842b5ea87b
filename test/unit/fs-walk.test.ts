// Directory listing in batches (250,000 entries), tree walks that match `find`, and a 10,000-level
// tree whose deep part is beyond PATH_MAX: reported as 'path-too-long', never a crash.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirEntry } from '../../agent/fs/api.ts';
import type { FsError } from '../../agent/fs/errors.ts';
import { PATH_MAX_BYTES } from '../../agent/fs/relpath.ts';
import { listDirSync, walkTreeSync } from '../../agent/fs/walk.ts';
import type { WalkItem } from '../../agent/fs/walk.ts';
import { GBK_NAME, LATIN1_NAME, makeDeepChain, makeTree, removeTree } from '../helpers/make-tree.ts';

let dir = '';
/** For the 250,000 files: tmpfs (/dev/shm) creates them ~8x faster than ext4; any directory works. */
let bigBase = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-walk-'));
  let shm: boolean;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    shm = true;
  } catch {
    shm = false;
  }
  bigBase = fs.mkdtempSync(path.join(shm ? '/dev/shm' : os.tmpdir(), 'ferry-walk-big-'));
});
afterAll(() => {
  removeTree(dir);
  removeTree(bigBase);
});

/** Relative paths under root as `find` sees them (bytes, latin1-keyed), independent of Ferry's code. */
function findRels(root: string): string[] {
  const r = spawnSync('find', ['.', '-mindepth', '1', '-print0'], { cwd: root, maxBuffer: 1 << 30 });
  const out: string[] = [];
  let start = 0;
  const buf = r.stdout as Buffer;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    out.push(buf.subarray(start + 2, i).toString('latin1')); // strip "./"
    start = i + 1;
  }
  return out.sort();
}

describe('listDirSync', () => {
  const big = () => path.join(bigBase, 'big');
  const COUNT = 250_000;

  beforeAll(() => {
    fs.mkdirSync(big());
    // Create the files in a child process so this worker's heap stays small.
    const r = spawnSync(process.execPath, [
      '-e',
      `const fs = require('fs'); process.chdir(${JSON.stringify(big())});
       for (let i = 0; i < ${COUNT}; i++) fs.closeSync(fs.openSync('f' + i, 'w'));`,
    ]);
    expect(r.status).toBe(0);
  }, 300_000);

  it('streams a 250,000-entry directory in bounded batches (sync)', () => {
    let total = 0;
    let batches = 0;
    let maxBatch = 0;
    const seen = new Set<string>();
    for (const batch of listDirSync(Buffer.from(big()))) {
      batches++;
      maxBatch = Math.max(maxBatch, batch.length);
      total += batch.length;
      for (const e of batch) {
        expect(e.meta.kind).toBe('file');
        seen.add(e.name.toString('latin1'));
      }
    }
    expect(total).toBe(COUNT);
    expect(seen.size).toBe(COUNT);
    expect(maxBatch).toBe(512);
    expect(batches).toBe(Math.ceil(COUNT / 512));
  }, 120_000);

  it('streams the same directory with a custom batch size, and can stop early', () => {
    let total = 0;
    let maxBatch = 0;
    for (const batch of listDirSync(Buffer.from(big()), { batchSize: 1000 })) {
      maxBatch = Math.max(maxBatch, batch.length);
      total += batch.length;
    }
    expect(total).toBe(COUNT);
    expect(maxBatch).toBe(1000);
    // Breaking out closes the directory handle (no leak, no error).
    for (const batch of listDirSync(Buffer.from(big()))) {
      expect(batch.length).toBe(512);
      break;
    }
  }, 120_000);

  it('returns names as bytes, metadata, and symlink targets', () => {
    const d = path.join(dir, 'small');
    fs.mkdirSync(d);
    fs.writeFileSync(Buffer.from(`${d}/${LATIN1_NAME.toString('latin1')}`, 'latin1'), 'abc');
    fs.symlinkSync(Buffer.from([0x2e, 0x2e, 0x2f, 0xe9]), Buffer.concat([Buffer.from(`${d}/`), GBK_NAME]));
    fs.mkdirSync(`${d}/sub`);
    const check = (entries: DirEntry[]) => {
      const byName = new Map(entries.map((e) => [e.name.toString('latin1'), e]));
      expect(byName.get(LATIN1_NAME.toString('latin1'))?.meta).toMatchObject({ kind: 'file', size: 3 });
      const link = byName.get(GBK_NAME.toString('latin1'));
      expect(link?.meta.kind).toBe('symlink');
      expect(link?.linkTarget).toEqual(Buffer.from([0x2e, 0x2e, 0x2f, 0xe9]));
      expect(byName.get('sub')?.meta.kind).toBe('dir');
      expect(byName.get('sub')?.linkTarget).toBeUndefined();
      expect(entries).toHaveLength(3);
    };
    check([...listDirSync(Buffer.from(d))].flat());
  });

  it('reports entries beyond PATH_MAX through onEntryError, or throws without it', () => {
    const name = 'n'.repeat(250);
    let d = path.join(dir, 'long');
    while (Buffer.byteLength(d) + 251 <= PATH_MAX_BYTES) d = path.join(d, name);
    fs.mkdirSync(d, { recursive: true });
    // In d, a name that still fits and one that does not (created relative to d, in a child).
    const room = PATH_MAX_BYTES - Buffer.byteLength(d) - 1;
    spawnSync(process.execPath, ['-e', `process.chdir(${JSON.stringify(d)}); require('fs').writeFileSync('a'.repeat(${room}), ''); require('fs').writeFileSync('b'.repeat(${room + 1}), '')`]);
    const errors: Array<[string, FsError]> = [];
    const entries = [...listDirSync(Buffer.from(d), { onEntryError: (n, e) => errors.push([n.toString(), e]) })].flat();
    expect(entries.map((e) => e.name.toString())).toEqual(['a'.repeat(room)]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1].code).toBe('path-too-long');
    expect(() => [...listDirSync(Buffer.from(d))]).toThrow(expect.objectContaining({ code: 'path-too-long' }));
    // With a name prefix, other names are passed over before they are examined: the too-long one
    // is neither yielded nor reported.
    const onlyA = [...listDirSync(Buffer.from(d), { namePrefix: Buffer.from('a'), onEntryError: (n, e) => errors.push([n.toString(), e]) })].flat();
    expect(onlyA.map((e) => e.name.toString())).toEqual(['a'.repeat(room)]);
    expect(errors).toHaveLength(1);
    expect([...listDirSync(Buffer.from(d), { namePrefix: Buffer.from('c') })].flat()).toEqual([]);
  });
});

describe('walkTreeSync', () => {
  it('visits exactly what find sees in the fixture tree', async () => {
    const root = path.join(dir, 'fixture');
    await makeTree(root, { huge: false });
    const expected = findRels(root);
    const fromSync: string[] = [];
    const items: WalkItem[] = [...walkTreeSync(Buffer.from(root))];
    expect(items[0]?.rel.length).toBe(0);
    expect(items[0]?.entry?.meta.kind).toBe('dir');
    for (const item of items.slice(1)) {
      expect(item.error).toBeUndefined();
      fromSync.push(item.rel.toString('latin1'));
    }
    expect(fromSync.sort()).toEqual(expected);
    // Parents come before their children.
    const order = items.map((i) => i.rel.toString('latin1'));
    expect(order.indexOf('nested/a')).toBeLessThan(order.indexOf('nested/a/b/c/deep.txt'));
    const special = items.find((i) => i.rel.toString() === 'special/fifo');
    expect(special?.entry?.meta.kind).toBe('fifo');
  });

  it('walks a 10,000-level tree without recursion; the part beyond PATH_MAX is reported, not crashed on', () => {
    const root = path.join(bigBase, 'deep');
    makeDeepChain(root, 10_000);
    const rootLen = Buffer.byteLength(root);
    // Directories whose absolute path fits: root + ('/d' × k) <= 4095.
    const fitting = Math.floor((PATH_MAX_BYTES - rootLen) / 2);
    let dirs = 0;
    const errors: WalkItem[] = [];
    for (const item of walkTreeSync(Buffer.from(root))) {
      if (item.error) errors.push(item);
      else if (item.rel.length > 0) dirs++;
    }
    expect(dirs).toBe(fitting);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error?.code).toBe('path-too-long');
    expect(errors[0]?.rel.length).toBe(2 * (fitting + 1) - 1);
  }, 120_000);
});
