// The mount command the console shows and mounts.apply runs: the recommended options, plain
// values as they are (the same string as recommendedMountCommand), odd ones quoted for sh.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { consoleCalls, mountCommandFor, mountPointCommandFor, recommendedMountCommand } from '../../electron/contract/console.ts';

describe('mountCommandFor', () => {
  it('is the recommended command for ordinary values', () => {
    const spec = { server: 'nas-1a2b.example.com', export: '/share/data', directory: '/mnt/nas' };
    expect(mountCommandFor(spec)).toBe(recommendedMountCommand(spec.server, spec.export, spec.directory));
    expect(mountCommandFor({ server: '[fd00::5]', export: '/export', directory: '/mnt/x' })).toBe(recommendedMountCommand('[fd00::5]', '/export', '/mnt/x'));
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
