// The mount command the console shows and mounts.apply runs: the recommended options, plain
// values as they are (the same string as recommendedMountCommand), odd ones quoted for sh.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleCalls, mountArgvFor, mountCommandFor, mountPointArgvFor, mountPointCommandFor, recommendedMountCommand, sudoersCommandFor } from '../../electron/contract/console.ts';
import { MountSpec } from '../../electron/contract/plan.ts';

describe('mountCommandFor', () => {
  it('is the recommended command for ordinary values', () => {
    const spec = { server: 'nas-1a2b.example.com', export: '/share/data', directory: '/mnt/nas' };
    expect(mountCommandFor(spec)).toBe(recommendedMountCommand(spec.server, spec.export, spec.directory));
  });

  it('quotes "[" and "]", so sh never globs a directory such as /mnt/nas[1] into another one', async () => {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-glob-'));
    try {
      // With /x/nas1 present, an unquoted /x/nas[1] names /x/nas1: the wrong directory.
      await fs.mkdir(path.join(work, 'nas1'));
      const directory = path.join(work, 'nas[1]');
      const argv = (command: string) => execFileSync('sh', ['-c', `set -- ${command}; for a; do printf '%s\\n' "$a"; done`], { encoding: 'utf8' }).trimEnd().split('\n');
      expect(argv(mountPointCommandFor(directory))).toEqual(['mkdir', '-p', directory]);
      expect(argv(mountCommandFor({ server: '[fd00::5]', export: '/export', directory })).slice(-2)).toEqual(['[fd00::5]:/export', directory]);
      expect(mountCommandFor({ server: '[fd00::5]', export: '/export', directory: '/mnt/x' })).toBe(`mount -t nfs -o vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576 '[fd00::5]:/export' /mnt/x`);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });

  it('quotes values a shell would split or expand, so sh sees them as one word each', () => {
    const spec = { server: 'nas', export: "/share/it's $HOME", directory: '/mnt/my nas' };
    const command = mountCommandFor(spec);
    expect(command).toBe(`mount -t nfs -o vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576 'nas:/share/it'\\''s $HOME' '/mnt/my nas'`);
    // sh itself splits it back into exactly these arguments.
    const argv = execFileSync('sh', ['-c', `set -- ${command}; for a; do printf '%s\\n' "$a"; done`], { encoding: 'utf8' }).trimEnd().split('\n');
    expect(argv).toEqual(['mount', '-t', 'nfs', '-o', 'vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576', "nas:/share/it's $HOME", '/mnt/my nas']);
    expect(mountPointCommandFor('/mnt/my nas')).toBe(`mkdir -p '/mnt/my nas'`);
  });
});

describe('mounts.apply request', () => {
  it('needs confirm: true and at least one host', () => {
    const req = consoleCalls['mounts.apply'].req;
    expect(req.safeParse({ tunnel: 't', directory: '/mnt/x', hostIds: ['h'], useSudo: false, confirm: true }).success).toBe(true);
    const unconfirmed = req.safeParse({ tunnel: 't', directory: '/mnt/x', hostIds: ['h'], useSudo: false, confirm: false });
    expect(unconfirmed.error?.issues[0]?.message).toBe('Confirm the mount: Ferry runs commands as root on these hosts.');
    expect(req.safeParse({ tunnel: 't', directory: '/mnt/x', hostIds: [], useSudo: false, confirm: true }).error?.issues[0]?.message).toBe('Choose at least one host to mount on.');
  });
});

describe('MountSpec server', () => {
  it('refuses a server starting with "-", which mount would read as an option', () => {
    const spec = { tunnel: 't', server: '-oremount', export: '/export', directory: '/mnt/x' };
    expect(MountSpec.safeParse(spec).error?.issues[0]).toMatchObject({ path: ['server'], message: expect.stringContaining('cannot start with "-"') });
    expect(MountSpec.safeParse({ ...spec, server: ' -x' }).success).toBe(false);
    expect(MountSpec.safeParse({ ...spec, server: 'nas-1' }).success).toBe(true);
    expect(consoleCalls['mounts.save'].req.safeParse({ mount: spec }).success).toBe(false);
  });
});

describe('sudoersCommandFor', () => {
  it('names exactly the arguments, escaped for sudoers, and gives up where sudoers cannot say them', () => {
    expect(sudoersCommandFor('/usr/bin/mkdir', mountPointArgvFor('/mnt/nas'))).toBe('/usr/bin/mkdir -p /mnt/nas');
    expect(sudoersCommandFor('/bin/mount', mountArgvFor({ server: 'nas', export: '/x', directory: '/mnt/nas' }))).toBe(
      '/bin/mount -t nfs -o vers\\=3\\,hard\\,timeo\\=600\\,retrans\\=2\\,noresvport\\,rsize\\=1048576\\,wsize\\=1048576 nas\\:/x /mnt/nas',
    );
    // Blanks split sudoers arguments and brackets are globs there: no exact line exists.
    expect(sudoersCommandFor('/usr/bin/mkdir', mountPointArgvFor('/mnt/my nas'))).toBeNull();
    expect(sudoersCommandFor('/usr/bin/mount', mountArgvFor({ server: '[fd00::5]', export: '/x', directory: '/mnt/nas' }))).toBeNull();
  });
});
