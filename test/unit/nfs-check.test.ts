// The mount checker against real /proc/self/mountinfo lines, as Linux writes them for NFS v3,
// NFS v4 and ordinary filesystems.
import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../agent/fs/mountinfo.ts';
import { checkNfsOptions, recommendedMountCommand } from '../../agent/probe/nfs-check.ts';
import { toMountEntry } from '../../agent/probe/host-facts.ts';

const GOOD_V3 =
  '412 29 0:61 / /mnt/src rw,relatime shared:221 - nfs 192.0.2.10:/share/data rw,vers=3,rsize=1048576,wsize=1048576,namlen=255,hard,noresvport,proto=tcp,timeo=600,retrans=2,sec=sys,mountaddr=192.0.2.10,mountvers=3,mountport=635,mountproto=tcp,local_lock=none,addr=192.0.2.10';
const SOFT_V3 =
  '413 29 0:62 / /mnt/legacy\\040nas rw,relatime shared:222 - nfs 192.0.2.11:/vol/x rw,vers=3,rsize=65536,wsize=65536,namlen=255,soft,proto=tcp,timeo=100,retrans=1,sec=sys,mountaddr=192.0.2.11,mountvers=3,mountport=635,mountproto=tcp,local_lock=none,addr=192.0.2.11';
const DEFAULT_V4 =
  '414 29 0:63 / /mnt/v4 rw,relatime shared:223 - nfs4 192.0.2.12:/export rw,vers=4.1,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=192.0.2.50,local_lock=none,addr=192.0.2.12';
const EXT4 = '29 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro';
const TMPFS = '88 29 0:45 / /tmp/ferry\\040test rw,nosuid,nodev - tmpfs tmpfs rw,size=1048576k,inode64';

const codes = (line: string) => {
  const m = parseMountInfo(line)[0];
  if (!m) throw new Error('line did not parse');
  return checkNfsOptions(m.fsType, m.superOptions).map((w) => w.code);
};

describe('mountinfo parsing', () => {
  it('reads the fields and unescapes spaces', () => {
    const [ext4, tmpfs, soft] = parseMountInfo([EXT4, TMPFS, SOFT_V3, 'garbage line', ''].join('\n'));
    expect(ext4).toMatchObject({ mountId: 29, parentId: 1, majorMinor: '254:1', mountPoint: '/', fsType: 'ext4', source: '/dev/vda1' });
    expect(tmpfs?.mountPoint).toBe('/tmp/ferry test');
    expect(tmpfs?.optionalFields).toEqual([]);
    expect(soft?.mountPoint).toBe('/mnt/legacy nas');
    expect(soft?.optionalFields).toEqual(['shared:222']);
    expect(parseMountInfo('garbage line')).toEqual([]);
  });

  it('parses this machine\'s own mountinfo', async () => {
    const { readFile } = await import('node:fs/promises');
    const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
    expect(mounts.length).toBeGreaterThan(0);
    expect(mounts.some((m) => m.mountPoint === '/')).toBe(true);
    expect(mounts.some((m) => m.fsType === 'proc')).toBe(true);
  });
});

describe('NFS option check', () => {
  it('passes the recommended NFS v3 mount', () => {
    expect(codes(GOOD_V3)).toEqual([]);
  });

  it('flags every deviation of a soft, small-block mount with plain advice', () => {
    expect(codes(SOFT_V3).sort()).toEqual(['nfs-resvport', 'nfs-retrans', 'nfs-rsize', 'nfs-soft', 'nfs-timeo', 'nfs-wsize'].sort());
    const m = parseMountInfo(SOFT_V3)[0]!;
    const soft = checkNfsOptions(m.fsType, m.superOptions).find((w) => w.code === 'nfs-soft');
    expect(soft?.message).toMatch(/Remount with "hard"/);
    const rsize = checkNfsOptions(m.fsType, m.superOptions).find((w) => w.code === 'nfs-rsize');
    expect(rsize).toMatchObject({ found: '65536', recommended: '1048576' });
  });

  it('flags NFS v4 and a missing noresvport', () => {
    expect(codes(DEFAULT_V4).sort()).toEqual(['nfs-resvport', 'nfs-version']);
  });

  it('accepts timeo at the threshold and flags below it', () => {
    const base = ['vers=3', 'hard', 'noresvport', 'rsize=1048576', 'wsize=1048576', 'retrans=2'];
    expect(checkNfsOptions('nfs', [...base, 'timeo=150'])).toEqual([]);
    expect(checkNfsOptions('nfs', [...base, 'timeo=149']).map((w) => w.code)).toEqual(['nfs-timeo']);
    expect(checkNfsOptions('nfs', base).map((w) => w.code)).toEqual(['nfs-timeo']);
    expect(checkNfsOptions('nfs', [...base.filter((o) => o !== 'hard'), 'timeo=600']).map((w) => w.code)).toEqual(['nfs-not-hard']);
  });

  it('lists non-NFS mounts without warnings', () => {
    const m = parseMountInfo(EXT4)[0]!;
    expect(toMountEntry(m.mountPoint, m.fsType, m.source, m.superOptions)).toMatchObject({ isNfs: false, warnings: [] });
    const nfs = parseMountInfo(SOFT_V3)[0]!;
    expect(toMountEntry(nfs.mountPoint, nfs.fsType, nfs.source, nfs.superOptions).warnings.length).toBe(6);
  });

  it('recommends the documented mount command', () => {
    expect(recommendedMountCommand('192.0.2.10', '/share/data', '/mnt/src')).toBe(
      'mount -t nfs -o vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576 192.0.2.10:/share/data /mnt/src',
    );
  });
});
