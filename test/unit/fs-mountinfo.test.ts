// /proc/self/mountinfo parsing, device numbers, and the MountGuard's checks that need no mounting
// (the real umount case is in test/integration/fs-mount.integration.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsError } from '../../agent/fs/errors.ts';
import { MountGuard, RECENT_MS } from '../../agent/fs/mount-guard.ts';
import { findMountFor, majorMinorOf, parseMountInfo } from '../../agent/fs/mountinfo.ts';

const NFS =
  '36 25 0:52 / /mnt/nas rw,relatime shared:1 - nfs 192.0.2.1:/share/x rw,vers=3,rsize=1048576,wsize=1048576,namlen=255,hard,noresvport,proto=tcp,timeo=600,retrans=2,sec=sys,mountaddr=192.0.2.1,mountvers=3,mountport=635,mountproto=tcp,local_lock=none,addr=192.0.2.1';
const ESCAPED = '40 25 0:53 /sub\\134dir /mnt/my\\040nas\\011tab\\012nl rw,relatime shared:7 master:3 propagate_from:2 unbindable - nfs4 192.0.2.9:/a\\040b rw,vers=4.2';
const ROOT = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard';
const NO_OPTIONAL = '88 27 0:45 / /tmp/x rw,nosuid,nodev - tmpfs tmpfs rw,size=1048576k,inode64';

describe('parseMountInfo', () => {
  it('parses an NFS v3 line', () => {
    const [m] = parseMountInfo(NFS);
    expect(m).toEqual({
      mountId: 36,
      parentId: 25,
      majorMinor: '0:52',
      root: '/',
      mountPoint: '/mnt/nas',
      mountOptions: ['rw', 'relatime'],
      optionalFields: ['shared:1'],
      fsType: 'nfs',
      source: '192.0.2.1:/share/x',
      superOptions: expect.arrayContaining(['vers=3', 'hard', 'timeo=600', 'retrans=2', 'proto=tcp']),
    });
    expect(m?.superOptions).toHaveLength(17);
  });

  it('unescapes octal escapes and handles several or no optional fields', () => {
    const [esc, plain] = parseMountInfo(`${ESCAPED}\n${NO_OPTIONAL}\n`);
    expect(esc?.mountPoint).toBe('/mnt/my nas\ttab\nnl');
    expect(esc?.root).toBe('/sub\\dir');
    expect(esc?.source).toBe('192.0.2.9:/a b');
    expect(esc?.optionalFields).toEqual(['shared:7', 'master:3', 'propagate_from:2', 'unbindable']);
    expect(esc?.fsType).toBe('nfs4');
    expect(plain?.optionalFields).toEqual([]);
    expect(plain?.fsType).toBe('tmpfs');
  });

  it('skips malformed lines', () => {
    expect(parseMountInfo('36 25 0:52 / /mnt/nas rw shared:1 nfs x y')).toEqual([]);
    expect(parseMountInfo('\n\nnot a line\n')).toEqual([]);
  });

  it('reads this machine', () => {
    const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'latin1'));
    const root = findMountFor(mounts, '/');
    expect(root?.mountPoint).toBe('/');
    const dev = fs.statSync('/proc', { bigint: true }).dev;
    expect(findMountFor(mounts, '/proc/self', majorMinorOf(dev))?.fsType).toBe('proc');
  });
});

describe('device numbers and mount lookup', () => {
  it('decodes st_dev like glibc', () => {
    expect(majorMinorOf(0x34n)).toBe('0:52');
    expect(majorMinorOf(0xfe00n)).toBe('254:0');
    expect(majorMinorOf(0x801)).toBe('8:1');
    // Large minor/major numbers use the high bits.
    const makedev = (major: bigint, minor: bigint) =>
      ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
    expect(majorMinorOf(makedev(0x123abcn, 0xdeffn))).toBe(`${0x123abc}:${0xdeff}`);
    expect(majorMinorOf(makedev(259n, 1048575n))).toBe('259:1048575');
  });

  it('finds the deepest mount holding a path, the topmost of stacked mounts, prefers the device', () => {
    const stacked = '50 36 0:60 / /mnt/nas rw - tmpfs tmpfs rw';
    const mounts = parseMountInfo([ROOT, NFS, stacked, ESCAPED].join('\n'));
    expect(findMountFor(mounts, '/mnt/nas/project/a')?.mountId).toBe(50);
    expect(findMountFor(mounts, '/mnt/nas/project/a', '0:52')?.mountId).toBe(36);
    expect(findMountFor(mounts, '/mnt/nasty')?.mountId).toBe(27);
    expect(findMountFor(mounts, '/mnt/my nas\ttab\nnl/x')?.mountId).toBe(40);
  });
});

describe('MountGuard without mounting', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-guard-'));
    dirs.push(d);
    return d;
  };

  it('records the device and mount, and passes while nothing changes', () => {
    const root = path.join(tmp(), 'root');
    fs.mkdirSync(root);
    const guard = new MountGuard(root);
    expect(guard.expectedDev).toBe(fs.lstatSync(root, { bigint: true }).dev);
    expect(guard.mount).not.toBeNull();
    guard.check();
    guard.checkDev();
  });

  it('reports a vanished root', () => {
    const root = path.join(tmp(), 'root');
    fs.mkdirSync(root);
    const guard = new MountGuard(Buffer.from(root));
    fs.rmdirSync(root);
    expect(() => guard.check()).toThrow(FsError);
    try {
      guard.check();
    } catch (err) {
      expect((err as FsError).code).toBe('mount-lost');
      expect((err as FsError).message).toBe(`The destination ${root} no longer exists. Ferry stopped writing. Remount it and resume the task.`);
    }
  });

  it('checkDevRecent trusts a passed check for RECENT_MS only, and never a failed one', async () => {
    const root = path.join(tmp(), 'root');
    fs.mkdirSync(root);
    const guard = new MountGuard(root);
    guard.checkDev();
    fs.renameSync(root, `${root}.old`);
    fs.mkdirSync(root); // same path and device, another directory: what a lost mount's path can show
    await new Promise((r) => setTimeout(r, RECENT_MS + 5));
    expect(() => guard.checkDevRecent()).toThrow(/is no longer the directory it was/);
    fs.rmdirSync(root);
    fs.renameSync(`${root}.old`, root);
    guard.checkDev();
    fs.rmdirSync(root);
    expect(() => guard.checkDev()).toThrow(/no longer exists/);
    expect(() => guard.checkDevRecent()).toThrow(/no longer exists/); // a failure is never trusted
  });

  it('reports a mount that left mountinfo, and the periodic check calls back once', async () => {
    const dir = tmp();
    const root = path.join(dir, 'root');
    fs.mkdirSync(root);
    const fake = path.join(dir, 'mountinfo');
    const real = fs.readFileSync('/proc/self/mountinfo', 'latin1');
    fs.writeFileSync(fake, real);
    const guard = new MountGuard(root, { mountInfoPath: fake, role: 'source' });
    const mount = guard.mount;
    expect(mount).not.toBeNull();
    guard.check();
    fs.writeFileSync(fake, real.split('\n').filter((l) => !l.startsWith(`${mount?.mountId} `)).join('\n'));
    expect(() => guard.check()).toThrow(/is no longer mounted .*Ferry stopped reading\. Remount it and resume the task\./);
    const lost: FsError[] = [];
    guard.start(10, (e) => lost.push(e));
    await new Promise((r) => setTimeout(r, 80));
    guard.stop();
    expect(lost).toHaveLength(1);
    expect(lost[0]?.code).toBe('mount-lost');
  });

  it('refuses a root that is not a directory', () => {
    const file = path.join(tmp(), 'f');
    fs.writeFileSync(file, '');
    expect(() => new MountGuard(file)).toThrow(expect.objectContaining({ code: 'not-a-directory' }));
  });
});
