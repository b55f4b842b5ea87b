// Creating entries on the destination: temp file + rename, nothing partial visible, abort leaves
// nothing, device checks, parent checks that never follow symlinks, directories, symlinks, hard links.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EntryMeta } from '../../agent/fs/api.ts';
import { AtomicFileWriter, TEMP_PREFIX, createDirSafe, createHardLink, createSymlinkAtomic, syncDir, tempName } from '../../agent/fs/atomic-write.ts';
import { DestDirs } from '../../agent/fs/dest-dirs.ts';
import { FsError } from '../../agent/fs/errors.ts';
import { statEntry } from '../../agent/fs/meta.ts';
import { ensureNativeBuilt, pseudoRandom } from '../helpers/make-tree.ts';
import { fsErrorOf } from '../helpers/fs-errors.ts';

let dir = '';
let dev = 0n;
const b = (...parts: string[]) => Buffer.from(path.join(dir, ...parts));
const isRoot = process.getuid?.() === 0;

beforeAll(() => ensureNativeBuilt());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-atomic-'));
  dev = fs.lstatSync(dir, { bigint: true }).dev;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function meta(over: Partial<EntryMeta> = {}): EntryMeta {
  return {
    kind: 'file',
    size: 0,
    mode: 0o644,
    uid: 1234,
    gid: 5678,
    atimeNs: 1_767_225_600_000_000_001n,
    mtimeNs: 1_767_225_600_123_456_789n,
    ctimeNs: 0n,
    dev: 0n,
    ino: 0n,
    nlink: 1,
    blocks: 0,
    ...over,
  };
}

const names = () => fs.readdirSync(dir);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FsError);
    return (err as FsError).code;
  }
  return undefined;
}

describe('AtomicFileWriter', () => {
  it('shows nothing under the final name before commit, then the whole file with its metadata', () => {
    const data = pseudoRandom(300_000, 5);
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    expect(path.basename(w.tempPath.toString()).startsWith(TEMP_PREFIX)).toBe(true);
    w.write(data.subarray(0, 100_000), 0);
    w.write(data.subarray(200_000), 200_000); // out of order
    expect(fs.existsSync(b('final'))).toBe(false);
    w.write(data.subarray(100_000, 200_000), 100_000);
    expect(fs.existsSync(b('final'))).toBe(false);
    const m = meta({ size: data.length, mode: 0o4751 });
    const finalPath = w.commit(Buffer.from('final'), m, { owner: true });
    expect(finalPath.toString()).toBe(path.join(dir, 'final'));
    expect(names()).toEqual(['final']);
    const st = fs.lstatSync(b('final'), { bigint: true });
    expect(st.atimeNs).toBe(m.atimeNs); // before reading it below (relatime would update it)
    expect(st.mtimeNs).toBe(m.mtimeNs);
    expect(fs.readFileSync(b('final')).equals(data)).toBe(true);
    expect(Number(st.mode & 0o7777n)).toBe(0o4751); // setuid survives the chown
    if (isRoot) expect([Number(st.uid), Number(st.gid)]).toEqual([1234, 5678]);
  });

  it('overwrites an existing file atomically, truncating or extending to the final size', () => {
    fs.writeFileSync(b('f'), 'old content that is longer');
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.write(Buffer.from('new'), 0);
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('old content that is longer');
    w.commit(Buffer.from('f'), meta({ size: 10 }), { owner: false, fsync: false });
    expect(fs.readFileSync(b('f'))).toEqual(Buffer.concat([Buffer.from('new'), Buffer.alloc(7)]));
    expect(names()).toEqual(['f']);
  });

  it('abort leaves nothing behind, also twice and after writes', () => {
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.write(Buffer.from('partial'), 0);
    expect(names()).toHaveLength(1);
    w.abort();
    w.abort();
    expect(names()).toEqual([]);
    expect(() => w.write(Buffer.from('x'), 0)).toThrow(FsError);
  });

  it('a failed commit removes the temp file', () => {
    fs.mkdirSync(b('adir'));
    fs.writeFileSync(b('adir', 'inside'), 'x');
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.write(Buffer.from('data'), 0);
    expect(code(() => w.commit(Buffer.from('adir'), meta({ size: 4 }), { owner: false }))).toBe('io');
    expect(names()).toEqual(['adir']);
    const w2 = new AtomicFileWriter(Buffer.from(dir), dev);
    expect(code(() => w2.commit(Buffer.from('../escape'), meta(), { owner: false }))).toBe('unsafe-path');
    expect(names()).toEqual(['adir']);
  });

  it('a file that reads back different from the expected SHA-256 is never put in place', () => {
    fs.writeFileSync(b('f'), 'the old version');
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.write(Buffer.from('new bytes'), 0);
    const wrong = createHashOf(Buffer.from('other bytes'));
    let err: unknown;
    try {
      w.commit(Buffer.from('f'), meta({ size: 9 }), { owner: false, readBack: true, expectHash: wrong });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe('hash-mismatch');
    expect((err as FsError).message).toMatch(/read back different from the source SHA-256; it was not put in place/);
    expect(names()).toEqual(['f']);
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('the old version');
    const right = new AtomicFileWriter(Buffer.from(dir), dev);
    right.write(Buffer.from('new bytes'), 0);
    right.commit(Buffer.from('f'), meta({ size: 9 }), { owner: false, readBack: true, expectHash: createHashOf(Buffer.from('new bytes')) });
    expect(right.readBackHash?.equals(createHashOf(Buffer.from('new bytes')))).toBe(true);
    expect(fs.readFileSync(b('f'), 'utf8')).toBe('new bytes');
  });

  it('uses short temp names, so a 255-byte final name works', () => {
    expect(tempName().length).toBeLessThanOrEqual(40);
    expect(tempName().equals(tempName())).toBe(false);
    const long = Buffer.from('日'.repeat(85));
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.write(Buffer.from('x'), 0);
    w.commit(long, meta({ size: 1 }), { owner: false });
    expect(fs.readdirSync(dir, { encoding: 'buffer' })).toEqual([long]);
  });

  it('refuses a device mismatch: mount-lost, and no file left', () => {
    expect(code(() => new AtomicFileWriter(Buffer.from(dir), dev + 1n))).toBe('mount-lost');
    expect(names()).toEqual([]);
  });

  it('keeps non-UTF-8 final names byte for byte', () => {
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const w = new AtomicFileWriter(Buffer.from(dir), dev);
    w.commit(name, meta(), { owner: false });
    expect(fs.readdirSync(dir, { encoding: 'buffer' })).toEqual([name]);
  });
});

describe('DestDirs', () => {
  it('verifies each component once and caches it', () => {
    fs.mkdirSync(b('a', 'b', 'c'), { recursive: true });
    const dirs = new DestDirs(Buffer.from(dir), dev);
    expect(dirs.verifyDir(Buffer.from('a/b/c')).toString()).toBe(path.join(dir, 'a/b/c'));
    expect(dirs.verifyDir(Buffer.alloc(0)).toString()).toBe(dir);
    // Cached: replacing b by a symlink is only noticed after forget().
    fs.renameSync(b('a', 'b'), b('moved'));
    fs.symlinkSync('../moved', b('a', 'b'));
    expect(dirs.verifyDir(Buffer.from('a/b/c')).toString()).toBe(path.join(dir, 'a/b/c'));
    dirs.forget(Buffer.from('a/b'));
    expect(dirs.verifyDir(Buffer.from('a'))).toBeDefined();
    expect(code(() => dirs.verifyDir(Buffer.from('a/b/c')))).toBe('not-a-directory');
    expect(code(() => dirs.verifyDir(Buffer.from('a/b')))).toBe('not-a-directory');
  });

  it('refuses a symlinked parent, a file parent, and another device', () => {
    fs.mkdirSync(b('real'));
    fs.symlinkSync('real', b('link'));
    fs.writeFileSync(b('file'), '');
    const dirs = new DestDirs(Buffer.from(dir), dev);
    expect(code(() => dirs.verifyDir(Buffer.from('link')))).toBe('not-a-directory');
    expect(code(() => dirs.verifyDir(Buffer.from('link/x')))).toBe('not-a-directory');
    expect(code(() => dirs.verifyDir(Buffer.from('file')))).toBe('not-a-directory');
    expect(code(() => dirs.verifyDir(Buffer.from('missing/x')))).toBe('io');
    expect(code(() => new DestDirs(Buffer.from(dir), dev + 1n).verifyDir(Buffer.from('real')))).toBe('mount-lost');
    dirs.remember(Buffer.from('real/new'));
    expect(dirs.verifyDir(Buffer.from('real/new')).toString()).toBe(path.join(dir, 'real/new'));
  });

  it('findDir says null for a missing component and still refuses what is unsafe', () => {
    fs.mkdirSync(b('here'));
    fs.symlinkSync('here', b('alias'));
    const dirs = new DestDirs(Buffer.from(dir), dev);
    expect(dirs.findDir(Buffer.from('gone'))).toBeNull();
    expect(dirs.findDir(Buffer.from('gone/deeper'))).toBeNull();
    expect(dirs.findDir(Buffer.from('here/gone'))).toBeNull();
    const missing = fsErrorOf(() => dirs.verifyDir(Buffer.from('here/gone')));
    expect([missing.code, missing.errno, missing.message]).toEqual(['io', 'ENOENT', `"${path.join(dir, 'here/gone')}" does not exist.`]);
    fs.mkdirSync(b('here', 'gone'));
    expect(dirs.findDir(Buffer.from('here/gone'))?.toString()).toBe(path.join(dir, 'here/gone'));
    expect(code(() => dirs.findDir(Buffer.from('alias/x')))).toBe('not-a-directory');
    expect(code(() => new DestDirs(Buffer.from(dir), dev + 1n).findDir(Buffer.from('gone')))).toBe('mount-lost');
  });

  it('a symlinked root component is refused too', () => {
    fs.mkdirSync(b('realroot'));
    fs.symlinkSync('realroot', b('rootlink'));
    const dirs = new DestDirs(b('rootlink'), dev);
    expect(code(() => dirs.verifyDir(Buffer.alloc(0)))).toBe('not-a-directory');
  });
});

describe('directories, symlinks, hard links', () => {
  it('createDirSafe creates, accepts an existing dir, refuses a non-dir and a foreign device', () => {
    expect(createDirSafe(Buffer.from(dir), Buffer.from('d'), dev)).toBe(true);
    expect(createDirSafe(Buffer.from(dir), Buffer.from('d'), dev)).toBe(false);
    fs.writeFileSync(b('f'), '');
    expect(code(() => createDirSafe(Buffer.from(dir), Buffer.from('f'), dev))).toBe('not-a-directory');
    fs.symlinkSync('d', b('l'));
    expect(code(() => createDirSafe(Buffer.from(dir), Buffer.from('l'), dev))).toBe('not-a-directory');
    expect(code(() => createDirSafe(Buffer.from(dir), Buffer.from('e'), dev + 1n))).toBe('mount-lost');
    expect(fs.existsSync(b('e'))).toBe(false); // removed again
    expect(code(() => createDirSafe(Buffer.from(dir), Buffer.from('..'), dev))).toBe('unsafe-path');
  });

  it('createSymlinkAtomic creates and replaces a link with its times and owner', () => {
    const m = meta({ kind: 'symlink', uid: 2222, gid: 3333, mtimeNs: 1_767_225_611_000_000_007n });
    createSymlinkAtomic(Buffer.from(dir), Buffer.from('l'), Buffer.from([0x74, 0xe9]), m, { owner: true, expectedDev: dev });
    expect(fs.readlinkSync(b('l'), { encoding: 'buffer' })).toEqual(Buffer.from([0x74, 0xe9]));
    const st = fs.lstatSync(b('l'), { bigint: true });
    expect(st.mtimeNs).toBe(m.mtimeNs);
    if (isRoot) expect([Number(st.uid), Number(st.gid)]).toEqual([2222, 3333]);
    createSymlinkAtomic(Buffer.from(dir), Buffer.from('l'), Buffer.from('other'), m);
    expect(fs.readlinkSync(b('l'), 'utf8')).toBe('other');
    expect(names()).toEqual(['l']);
    expect(code(() => createSymlinkAtomic(Buffer.from(dir), Buffer.from('x'), Buffer.from('t'), m, { expectedDev: dev + 1n }))).toBe('mount-lost');
    expect(names()).toEqual(['l']);
  });

  it('createHardLink links, is idempotent, and replaces another file', () => {
    fs.writeFileSync(b('orig'), 'o');
    fs.mkdirSync(b('sub'));
    createHardLink(b('orig'), b('sub', 'l'));
    createHardLink(b('orig'), b('sub', 'l'));
    expect(statEntry(b('orig')).nlink).toBe(2);
    fs.writeFileSync(b('sub', 'other'), 'x');
    createHardLink(b('orig'), b('sub', 'other'));
    expect(statEntry(b('sub', 'other')).ino).toBe(statEntry(b('orig')).ino);
    expect(fs.readdirSync(b('sub')).sort()).toEqual(['l', 'other']);
    expect(code(() => createHardLink(b('missing'), b('x')))).toBe('io');
    syncDir(b('sub'));
  });
});

describe('staging files of large files (ranges)', () => {
  const stage = Buffer.from('.ferry-tmp.range.unit-1');
  const writeRange = async (data: Buffer, offset: number): Promise<AtomicFileWriter> => {
    const w = new AtomicFileWriter(Buffer.from(dir), dev, { stage });
    w.write(data, offset);
    await w.finishRange(offset, data.length, { fsync: true, readBack: true });
    return w;
  };

  it('ranges written by separate writers share one staging file, which a commit adopts and renames', async () => {
    const content = pseudoRandom(3 * 4096, 5);
    // Out of order, as parallel ranges arrive.
    const w2 = await writeRange(content.subarray(8192), 8192);
    const w0 = await writeRange(content.subarray(0, 4096), 0);
    const w1 = await writeRange(content.subarray(4096, 8192), 4096);
    expect(new Set([w0.stageId, w1.stageId, w2.stageId]).size).toBe(1);
    expect(w1.readBackHash?.equals(createHashOf(content.subarray(4096, 8192)))).toBe(true);
    // Aborting a range closes the staging file and keeps it: the other ranges live in it.
    const aborted = new AtomicFileWriter(Buffer.from(dir), dev, { stage });
    aborted.abort();
    const c = new AtomicFileWriter(Buffer.from(dir), dev, { stage, create: false });
    expect(c.stageId).toBe(w0.stageId);
    expect(c.bytesWritten).toBe(content.length);
    c.commit(Buffer.from('big.bin'), meta({ size: content.length, mtimeNs: 1_600_000_000_123_456_789n }), { owner: false });
    expect(fs.readFileSync(path.join(dir, 'big.bin')).equals(content)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['big.bin']);
  });

  it('a staging file deleted and re-created between ranges has another id; a missing one cannot be committed', async () => {
    const first = await writeRange(Buffer.alloc(4096, 1), 0);
    fs.unlinkSync(path.join(dir, stage.toString()));
    const second = await writeRange(Buffer.alloc(4096, 2), 4096);
    expect(second.stageId).not.toBe(first.stageId);
    fs.unlinkSync(path.join(dir, stage.toString()));
    let err: unknown;
    try {
      new AtomicFileWriter(Buffer.from(dir), dev, { stage, create: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe('range-missing');
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('reading a range back on the hashing thread', () => {
  const stage = Buffer.from('.ferry-tmp.range.unit-2');

  it('hashes what is in the file, keeps the fd open through an abort meanwhile, and closes it after', async () => {
    const data = pseudoRandom(3 * 1024 * 1024 + 17, 9);
    const w = new AtomicFileWriter(Buffer.from(dir), dev, { stage });
    w.write(data, 4096);
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const finishing = w.finishRange(4096, data.length, { fsync: true, readBack: true });
    w.abort(); // e.g. the connection closed: must neither close the fd under the thread nor remove the file
    await finishing;
    expect(w.readBackHash?.equals(createHashOf(data))).toBe(true);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(fdsBefore - 1);
    expect(fs.statSync(path.join(dir, stage.toString())).size).toBe(4096 + data.length);
  });

  it('a read that fails comes back as an FsError, and the writer is closed', async () => {
    const w = new AtomicFileWriter(Buffer.from(dir), dev, { stage });
    w.write(Buffer.alloc(10, 1), 0);
    // A directory fd makes read(2) fail with EISDIR: swap one in under the writer's descriptor number.
    const fd = (w as unknown as { fd: number }).fd;
    fs.closeSync(fd);
    expect(fs.openSync(dir, 'r')).toBe(fd); // the lowest free number comes back
    await expect(w.finishRange(0, 10, { fsync: false, readBack: true })).rejects.toMatchObject({ errno: 'EISDIR' });
    expect(() => fs.fstatSync(fd)).toThrow(/EBADF/); // the writer closed it
  });
});

function createHashOf(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
