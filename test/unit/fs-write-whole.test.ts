// Putting a small file in place in one go (writeWholeFile): the addon's one-call path and the path
// without it must do the same thing, with the same guarantees as AtomicFileWriter: nothing under the
// final name until it is complete, its metadata to the nanosecond, a read-back that must match, a
// device check, and no temp file left whatever fails.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EntryMeta } from '../../agent/fs/api.ts';
import { TEMP_PREFIX, tempName, writeWholeFile, writeWholeWithoutAddon } from '../../agent/fs/atomic-write.ts';
import { canWriteWhole } from '../../agent/fs/native.ts';
import { fsErrorOf } from '../helpers/fs-errors.ts';
import { ensureNativeBuilt } from '../helpers/make-tree.ts';

let dir = '';
let dev = 0n;
const b = (...parts: string[]) => Buffer.from(path.join(dir, ...parts));
const isRoot = process.getuid?.() === 0;
const sha = (data: Buffer) => createHash('sha256').update(data).digest();
const leftovers = () => fs.readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX));

beforeAll(() => ensureNativeBuilt());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-whole-'));
  dev = fs.lstatSync(dir, { bigint: true }).dev;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function meta(size: number, over: Partial<EntryMeta> = {}): EntryMeta {
  return { kind: 'file', size, mode: 0o644, uid: 1234, gid: 5678, atimeNs: 1_767_225_600_000_000_001n, mtimeNs: 1_767_225_600_123_456_789n, ctimeNs: 0n, dev: 0n, ino: 0n, nlink: 1, blocks: 0, ...over };
}


it('the addon path is the one in use in this Node', () => {
  expect(canWriteWhole()).toBe(true);
});

describe.each([
  ['with the addon', writeWholeFile],
  ['without the addon', writeWholeWithoutAddon],
])('writeWholeFile %s', (_label, write) => {
  it('puts the bytes in place with mode, owner and nanosecond times, and leaves no temp file', () => {
    const data = Buffer.from('small file body\n');
    const m = meta(data.length, { mode: isRoot ? 0o4755 : 0o640, atimeNs: 1_700_000_000_000_000_007n, mtimeNs: 1_600_000_000_987_654_321n });
    const finalPath = write(Buffer.from(dir), Buffer.from('f.txt'), data, m, dev, { owner: true, readBack: true, expectHash: sha(data) });
    expect(finalPath.toString()).toBe(path.join(dir, 'f.txt'));
    const st = fs.lstatSync(finalPath, { bigint: true }); // before reading it, which may set atime
    expect(fs.readFileSync(finalPath)).toEqual(data);
    expect(Number(st.mode) & 0o7777).toBe(isRoot ? 0o4755 : 0o640);
    expect(st.mtimeNs).toBe(1_600_000_000_987_654_321n);
    expect(st.atimeNs).toBe(1_700_000_000_000_000_007n);
    if (isRoot) expect([Number(st.uid), Number(st.gid)]).toEqual([1234, 5678]);
    expect(fs.readdirSync(dir)).toEqual(['f.txt']);
  });

  it('replaces an existing file as a whole (a new inode), also without fsync or read-back, and writes empty files', () => {
    fs.writeFileSync(b('f'), 'the old, longer content');
    const oldIno = fs.statSync(b('f')).ino;
    write(Buffer.from(dir), Buffer.from('f'), Buffer.from('new'), meta(3), dev, { owner: false, fsync: false });
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('new');
    expect(fs.statSync(b('f')).ino).not.toBe(oldIno);
    write(Buffer.from(dir), Buffer.from('empty'), Buffer.alloc(0), meta(0), dev, { owner: false, readBack: true, expectHash: sha(Buffer.alloc(0)) });
    expect(fs.statSync(b('empty')).size).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('a file that reads back different from the expected SHA-256 is never put in place, and the old one stays', () => {
    fs.writeFileSync(b('f'), 'old');
    const data = Buffer.from('new bytes');
    const e = fsErrorOf(() => write(Buffer.from(dir), Buffer.from('f'), data, meta(data.length), dev, { owner: false, readBack: true, expectHash: sha(Buffer.from('other')) }));
    expect(e.code).toBe('hash-mismatch');
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('old');
    expect(leftovers()).toEqual([]);
  });

  it('refuses a directory on another device than expected: mount-lost, and nothing left', () => {
    const e = fsErrorOf(() => write(Buffer.from(dir), Buffer.from('f'), Buffer.from('x'), meta(1), dev + 1n, { owner: false }));
    expect(e.code).toBe('mount-lost');
    expect(e.message).toMatch(/the mount is gone/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a failed rename removes the temp file and says why; a missing directory fails before anything is created', () => {
    fs.mkdirSync(b('adir'));
    fs.writeFileSync(b('adir', 'inside'), 'x');
    const e = fsErrorOf(() => write(Buffer.from(dir), Buffer.from('adir'), Buffer.from('data'), meta(4), dev, { owner: false }));
    expect(e.code).toBe('io');
    expect(fs.readdirSync(dir)).toEqual(['adir']);
    expect(fsErrorOf(() => write(b('gone'), Buffer.from('f'), Buffer.from('d'), meta(1), dev, { owner: false })).errno).toBe('ENOENT');
    expect(fsErrorOf(() => write(Buffer.from(dir), Buffer.from('../escape'), Buffer.from('d'), meta(1), dev, { owner: false })).code).toBe('unsafe-path');
    expect(fs.existsSync(path.join(path.dirname(dir), 'escape'))).toBe(false);
  });

  it('keeps 255-byte and non-UTF-8 names byte for byte', () => {
    const long = Buffer.alloc(255, 0x61);
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0x2e, 0x74, 0x78, 0x74]);
    for (const name of [long, gbk]) write(Buffer.from(dir), name, Buffer.from('z'), meta(1), dev, { owner: false, readBack: true, expectHash: sha(Buffer.from('z')) });
    const got = fs.readdirSync(Buffer.from(dir), { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
    expect(got).toEqual([long.toString('hex'), gbk.toString('hex')].sort());
  });

  it('takes another temp name when the next one is taken, and leaves that file alone', () => {
    // Temp names are a per-thread stem plus a counter: plant the next one.
    const current = tempName().toString('latin1');
    const stem = current.slice(0, current.lastIndexOf('.') + 1);
    const next = stem + (parseInt(current.slice(stem.length), 36) + 1).toString(36);
    fs.writeFileSync(b(next), 'planted');
    write(Buffer.from(dir), Buffer.from('f'), Buffer.from('mine'), meta(4), dev, { owner: false });
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('mine');
    expect(fs.readFileSync(b(next), 'utf8')).toBe('planted');
  });

  it('refuses a read-back without a hash to compare, and data of another size than the meta says', () => {
    expect(() => write(Buffer.from(dir), Buffer.from('f'), Buffer.from('x'), meta(1), dev, { owner: false, readBack: true })).toThrow(/expectHash/);
    expect(() => write(Buffer.from(dir), Buffer.from('f'), Buffer.from('xy'), meta(1), dev, { owner: false })).toThrow(/2 bytes for a size of 1/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
