// A vanished mount: after `umount -l` of a real tmpfs, the MountGuard reports it in plain words, and
// AtomicFileWriter, createDirSafe, createSymlinkAtomic and DestDirs refuse to write, so nothing lands
// in the underlying directory on the local disk. Needs root (mount/umount); skipped otherwise.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EntryMeta } from '../../agent/fs/api.ts';
import { AtomicFileWriter, createDirSafe, createSymlinkAtomic } from '../../agent/fs/atomic-write.ts';
import { DestDirs } from '../../agent/fs/dest-dirs.ts';
import type { FsError } from '../../agent/fs/errors.ts';
import { MountGuard } from '../../agent/fs/mount-guard.ts';
import { majorMinorOf } from '../../agent/fs/mountinfo.ts';
import { fsErrorOf } from '../helpers/fs-errors.ts';
import { ensureNativeBuilt } from '../helpers/make-tree.ts';

const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

const META: EntryMeta = {
  kind: 'file',
  size: 5,
  mode: 0o644,
  uid: 0,
  gid: 0,
  atimeNs: 1n,
  mtimeNs: 1_767_225_600_000_000_001n,
  ctimeNs: 0n,
  dev: 0n,
  ino: 0n,
  nlink: 1,
  blocks: 0,
};


describe.skipIf(!isRoot)('a mount that vanishes under the destination', () => {
  let base = '';
  let mnt = '';
  const mounted = new Set<string>();

  beforeAll(() => ensureNativeBuilt());
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-mount-'));
    mnt = path.join(base, 'mnt with space');
    fs.mkdirSync(mnt);
    run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'ferrytest', mnt]);
    mounted.add(mnt);
  });
  afterEach(() => {
    for (const m of mounted) spawnSync('umount', ['-l', m]);
    mounted.clear();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const lazyUnmount = (m: string) => {
    run('umount', ['-l', m]);
    mounted.delete(m);
  };

  it('the guard sees the tmpfs, then reports the lazy unmount in plain words', () => {
    const guard = new MountGuard(mnt);
    expect(guard.mount).toMatchObject({ fsType: 'tmpfs', source: 'ferrytest', mountPoint: mnt });
    guard.check();
    const before = majorMinorOf(guard.expectedDev);
    lazyUnmount(mnt);
    const after = majorMinorOf(fs.lstatSync(mnt, { bigint: true }).dev);
    expect(after).not.toBe(before);
    const e = fsErrorOf(() => guard.check());
    expect(e.code).toBe('mount-lost');
    expect(e.message).toBe(
      `The destination ${mnt} is no longer the mount it was (device ${before} → ${after}). Ferry stopped writing. Remount it and resume the task.`,
    );
    expect(fsErrorOf(() => guard.checkDev()).code).toBe('mount-lost');
  });

  it('nothing is written into the underlying directory after umount -l', () => {
    const guard = new MountGuard(Buffer.from(mnt));
    const dev = guard.expectedDev;
    const root = Buffer.from(mnt);
    const dirs = new DestDirs(root, dev);
    createDirSafe(root, Buffer.from('sub'), dev);
    dirs.remember(Buffer.from('sub'));
    // A file in flight when the mount goes away.
    const inFlight = new AtomicFileWriter(dirs.verifyDir(Buffer.from('sub')), dev);
    inFlight.write(Buffer.from('hello'), 0);
    const atRoot = new AtomicFileWriter(root, dev);
    atRoot.write(Buffer.from('hello'), 0);

    lazyUnmount(mnt);

    // The in-flight writers still have their fds on the detached tmpfs: commit must not rename anywhere.
    expect(fsErrorOf(() => atRoot.commit(Buffer.from('file'), META, { owner: false })).code).toBe('mount-lost');
    expect(fsErrorOf(() => inFlight.commit(Buffer.from('file'), META, { owner: false })).code).toMatch(/mount-lost|io/);
    // New entries are refused.
    expect(fsErrorOf(() => new AtomicFileWriter(root, dev)).code).toBe('mount-lost');
    expect(fsErrorOf(() => createDirSafe(root, Buffer.from('newdir'), dev)).code).toBe('mount-lost');
    expect(fsErrorOf(() => createSymlinkAtomic(root, Buffer.from('link'), Buffer.from('t'), { ...META, kind: 'symlink' }, { expectedDev: dev })).code).toBe(
      'mount-lost',
    );
    expect(fsErrorOf(() => new DestDirs(root, dev).verifyDir(Buffer.from(''))).code).toBe('mount-lost');
    expect(fsErrorOf(() => guard.check()).code).toBe('mount-lost');
    // The local directory under the mount point is still empty.
    expect(fs.readdirSync(mnt)).toEqual([]);
  });

  it('a root inside the mount: gone after umount -l; the periodic check calls back', async () => {
    fs.mkdirSync(path.join(mnt, 'project'));
    const guard = new MountGuard(path.join(mnt, 'project'));
    expect(guard.mount?.mountPoint).toBe(mnt);
    const lost: FsError[] = [];
    guard.start(20, (e) => lost.push(e));
    await new Promise((r) => setTimeout(r, 60));
    expect(lost).toEqual([]);
    lazyUnmount(mnt);
    await new Promise((r) => setTimeout(r, 120));
    guard.stop();
    expect(lost).toHaveLength(1);
    expect(lost[0]?.message).toBe(`The destination ${path.join(mnt, 'project')} no longer exists. Ferry stopped writing. Remount it and resume the task.`);
  });

  it('a different filesystem mounted in its place is also a lost mount', () => {
    const guard = new MountGuard(mnt);
    lazyUnmount(mnt);
    run('mount', ['-t', 'tmpfs', 'other', mnt]);
    mounted.add(mnt);
    const e = fsErrorOf(() => guard.check());
    expect(e.code).toBe('mount-lost');
    // tmpfs device numbers and mount ids are recycled, so this may show up as the mount or its root changing.
    expect(e.message).toMatch(/is no longer (the mount it was|mounted|the directory it was)/);
    // Note: the new tmpfs may get the recycled device number, so a writer's device check alone cannot
    // tell it apart; the guard's mountinfo check (source, fs type) does. The engine runs both.
  });

  it('the same device remounted elsewhere keeps the device but the mount left mountinfo', () => {
    // Bind-mount the tmpfs a second time, guard through the bind, then drop only the bind.
    const bind = path.join(base, 'bind');
    fs.mkdirSync(bind);
    run('mount', ['--bind', mnt, bind]);
    mounted.add(bind);
    const guard = new MountGuard(bind);
    expect(guard.mount?.mountPoint).toBe(bind);
    guard.check();
    lazyUnmount(bind);
    const e = fsErrorOf(() => guard.check());
    expect(e.code).toBe('mount-lost');
  });
});
