/**
 * mounts.check and mounts.apply through the Controller's dispatch, against real sshd hosts of the
 * lab. A tmpfs stands in for the NAS (its source string is the spec's server:/export; this kernel
 * has no NFS): bound into both hosts it is the same mount, mounted on each host separately it is
 * not. Apply refuses another mount and a directory with files without changing anything, reports
 * the real mount error for an NFS mount that cannot work here, and a non-root user without
 * passwordless sudo gets 'sudo-password-needed' from the real sudo, while one with the sudoers line
 * Ferry's message suggests gets exactly those commands run as root, and no others. A host whose key Ferry has not accepted is
 * that host's failure, not the call's. Every result is parsed with the contract's schemas.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountCommandFor } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { MemorySecretStore } from '../../electron/controller/secrets.ts';
import { contractCaller, findingCodes, reachedHost } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

/** A lab address nothing listens on: the NAS of the specs (never contacted: no NFS here). */
const NAS = '198.18.255.254';
/** A user given passwordless sudo by the sudoers line Ferry's message suggests (none at first). */
const SUDO_USER = 'ferrysudo';
const SUDOERS_FILE = '/etc/sudoers.d/ferry-mount-test';
const SUDO_PASSWORD = randomBytes(12).toString('hex');

let lab: TestLab;
let work: string;
let nasDir: string;
let dataDir: string;
let controller: Controller;
const ids: Record<string, string> = {};

const call = contractCaller(() => controller);
const reached = reachedHost;
const codes = findingCodes;

async function mountsOn(host: string): Promise<string> {
  return (await lab.host(host).exec('cat /proc/self/mountinfo')).stdout;
}

async function saveMount(tunnel: string, directory: string, exportPath: string): Promise<void> {
  await call('mounts.save', { mount: { tunnel, nasType: 'general', server: NAS, export: exportPath, directory } });
}

beforeAll(async () => {
  work = await tempDir('ferry-mount-ops-');
  dataDir = path.join(work, 'data');
  nasDir = path.join(work, 'nas');
  await fs.mkdir(nasDir);
  // One "NAS" export, bound at /mnt/nas into both hosts: the same storage on each.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', `${NAS}:/share/src`, nasDir]);
  await fs.writeFile(path.join(nasDir, 'hello.txt'), 'hi');
  lab = await createTestLab({ hosts: [{ name: 'm1', binds: [{ source: nasDir, target: '/mnt/nas' }] }, { name: 'm2', binds: [{ source: nasDir, target: '/mnt/nas' }] }, { name: 'm3' }] });
  if (spawnSync('id', ['-u', SUDO_USER]).status !== 0) execFileSync('useradd', ['-m', '-s', '/bin/sh', SUDO_USER]);
  execFileSync('chpasswd', [], { input: `${SUDO_USER}:${SUDO_PASSWORD}\n` });
  controller = await Controller.open({ dataDir, appVersion: '0.1.0-test', shell: 'web', userKnownHostsFile: null, secrets: new MemorySecretStore() });
  for (const name of ['m1', 'm2']) {
    const host = await call('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } });
    ids[name] = host.id;
    await call('hosts.trustKey', { id: host.id, fingerprint: lab.host(name).hostKeyFingerprint });
  }
  // The lab's password user on m1: not root, no sudoers entry.
  const user = await call('hosts.add', { name: 'm1-user', address: lab.host('m1').address, user: lab.passwordUser, auth: { kind: 'password' } });
  ids['m1-user'] = user.id;
  const tested = await call('hosts.test', { id: user.id, secret: { password: lab.password } });
  expect(tested.ok, tested.ok ? '' : tested.failure.message).toBe(true);
  const sudoer = await call('hosts.add', { name: 'm1-sudo', address: lab.host('m1').address, user: SUDO_USER, auth: { kind: 'password' } });
  ids['m1-sudo'] = sudoer.id;
  const sudoTested = await call('hosts.test', { id: sudoer.id, secret: { password: SUDO_PASSWORD } });
  expect(sudoTested.ok, sudoTested.ok ? '' : sudoTested.failure.message).toBe(true);
  // m3's key is never accepted.
  ids.m3 = (await call('hosts.add', { name: 'm3', address: lab.host('m3').address, auth: { kind: 'key', keyFile: lab.clientKey.path } })).id;
  await call('tunnels.save', { tunnel: { name: 'old', role: 'source', hosts: ['m1', 'm2'] } });
  await call('tunnels.save', { tunnel: { name: 'new', role: 'destination', hosts: ['m1', 'm2'] } });
  await call('tunnels.save', { tunnel: { name: 'by-user', role: 'source', hosts: ['m1-user'] } });
  await call('tunnels.save', { tunnel: { name: 'by-sudo', role: 'source', hosts: ['m1-sudo'] } });
  await call('tunnels.save', { tunnel: { name: 'mixed', role: 'destination', hosts: ['m1', 'm3'] } });
}, 120_000);

afterAll(async () => {
  await controller?.close();
  await lab?.destroy();
  await fs.rm(SUDOERS_FILE, { force: true });
  spawnSync('userdel', ['-r', SUDO_USER]);
  if (nasDir) execFileSync('umount', ['-l', nasDir]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('mounts.check', () => {
  it('finds the same mount on every host of a source tunnel, matching the spec, readable', async () => {
    await saveMount('old', '/mnt/nas', '/share/src');
    const result = await call('mounts.check', { tunnel: 'old', directory: '/mnt/nas' });
    expect(result.command).toBe(`mount -t nfs -o vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576 ${NAS}:/share/src /mnt/nas`);
    expect(result.hosts.map((h) => h.hostName)).toEqual(['m1', 'm2']);
    for (const name of ['m1', 'm2']) {
      const h = reached(result, name);
      expect(h).toMatchObject({ state: 'present', isMount: true, matchesSpec: true, readable: true, writable: null, verdict: 'findings' });
      expect(h.mount).toMatchObject({ source: `${NAS}:/share/src`, fsType: 'tmpfs', mountPoint: '/mnt/nas' });
      // A tmpfs is not NFS: a warning that says so, not an error.
      expect(codes(h)).toEqual(['not-nfs']);
    }
    expect(result.findings).toEqual([]);
    expect(result.sameMount).toBe(true);
    expect(result.ok).toBe(true);
  });

  it('checks that a destination tunnel can write there, leaving nothing behind', async () => {
    await saveMount('new', '/mnt/nas', '/share/src');
    const result = await call('mounts.check', { tunnel: 'new', directory: '/mnt/nas' });
    expect(reached(result, 'm1')).toMatchObject({ writable: true, readable: true });
    expect(reached(result, 'm2')).toMatchObject({ writable: true });
    expect(await fs.readdir(nasDir)).toEqual(['hello.txt']);
    expect(result.ok).toBe(true);
  });

  it('reports a missing directory on every host, with the command to mount it', async () => {
    await saveMount('old', '/mnt/absent', '/share/absent');
    const result = await call('mounts.check', { tunnel: 'old', directory: '/mnt/absent' });
    for (const name of ['m1', 'm2']) {
      const h = reached(result, name);
      expect(h).toMatchObject({ state: 'missing', isMount: false, mount: null, matchesSpec: null });
      expect(codes(h)).toEqual(['dir-missing']);
      expect(h.findings[0]?.message).toContain(`/mnt/absent does not exist on ${name}`);
      expect(h.findings[0]?.message).toContain(mountCommandFor({ server: NAS, export: '/share/absent', directory: '/mnt/absent' }));
    }
    expect(result.sameMount).toBeNull();
    expect(result.ok).toBe(false);
  });

  it('tells two hosts with different storage at the same path apart, and a mount of another export', async () => {
    await lab.host('m1').exec(`mkdir -p /mnt/odd && mount -t tmpfs -o size=1m ${NAS}:/share/odd /mnt/odd`);
    await lab.host('m2').exec(`mkdir -p /mnt/odd && mount -t tmpfs -o size=1m ${NAS}:/share/other /mnt/odd`);
    await saveMount('old', '/mnt/odd', '/share/odd');
    const result = await call('mounts.check', { tunnel: 'old', directory: '/mnt/odd' });
    expect(reached(result, 'm1')).toMatchObject({ isMount: true, matchesSpec: true });
    const m2 = reached(result, 'm2');
    expect(m2).toMatchObject({ isMount: true, matchesSpec: false });
    expect(codes(m2)).toEqual(['not-nfs', 'spec-mismatch']);
    expect(m2.findings.find((f) => f.code === 'spec-mismatch')?.message).toContain(`is a mount of ${NAS}:/share/other (tmpfs), not of ${NAS}:/share/odd`);
    expect(result.findings.map((f) => f.code)).toEqual(['different-mounts']);
    expect(result.sameMount).toBe(false);
    expect(result.findings[0]?.message).toMatch(/The hosts of tunnel "old" do not see the same storage at \/mnt\/odd \(m1: .*; m2: .*\)/);
    expect(result.ok).toBe(false);
  });

  it("reports a host whose key Ferry has not accepted as that host's failure, and checks the others", async () => {
    await saveMount('mixed', '/mnt/nas', '/share/src');
    const result = await call('mounts.check', { tunnel: 'mixed', directory: '/mnt/nas' });
    expect(reached(result, 'm1')).toMatchObject({ isMount: true, writable: true });
    const m3 = result.hosts.find((h) => h.hostName === 'm3');
    expect(m3).toMatchObject({ ok: false, hostId: ids.m3, failure: { code: 'host-key-unknown', hostKey: { fingerprint: lab.host('m3').hostKeyFingerprint } } });
    expect(result.ok).toBe(false);
  });

  it('answers an unknown mount spec with not-found', async () => {
    const r = await controller.dispatch('mounts.check', { tunnel: 'old', directory: '/mnt/never-saved' });
    expect(r).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('mounts.apply', () => {
  it('needs the confirmation and only takes hosts of the tunnel', async () => {
    const unconfirmed = await controller.dispatch('mounts.apply', { tunnel: 'old', directory: '/mnt/nas', hostIds: [ids.m1], useSudo: false });
    expect(unconfirmed).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const stranger = await controller.dispatch('mounts.apply', { tunnel: 'old', directory: '/mnt/nas', hostIds: [ids['m1-user']], useSudo: false, confirm: true });
    expect(stranger).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('does nothing where the spec is already mounted', async () => {
    const before = await mountsOn('m1');
    const result = await call('mounts.apply', { tunnel: 'old', directory: '/mnt/nas', hostIds: [ids.m1 as string], useSudo: false, confirm: true });
    expect(result.hosts).toEqual([expect.objectContaining({ ok: true, hostName: 'm1', outcome: 'already-mounted', command: null, exitCode: null })]);
    expect(await mountsOn('m1')).toBe(before);
    expect(result.check.ok).toBe(true);
  });

  it('refuses to mount over another mount, changing nothing', async () => {
    const before = await mountsOn('m2');
    const result = await call('mounts.apply', { tunnel: 'old', directory: '/mnt/odd', hostIds: [ids.m2 as string], useSudo: false, confirm: true });
    const m2 = result.hosts[0];
    expect(m2).toMatchObject({ ok: true, outcome: 'other-mount', command: null });
    if (m2?.ok) expect(m2.message).toContain(`already is a mount of something else: ${NAS}:/share/other (tmpfs) on /mnt/odd. Ferry never mounts over another mount.`);
    expect(await mountsOn('m2')).toBe(before);
  });

  it('refuses a directory that has files and is not a mount, changing nothing', async () => {
    await lab.host('m1').exec('mkdir -p /mnt/full && echo keep > /mnt/full/precious.txt');
    await saveMount('old', '/mnt/full', '/share/full');
    const before = await mountsOn('m1');
    const result = await call('mounts.apply', { tunnel: 'old', directory: '/mnt/full', hostIds: [ids.m1 as string], useSudo: false, confirm: true });
    expect(result.hosts[0]).toMatchObject({ ok: true, outcome: 'directory-not-empty', command: null });
    expect(await mountsOn('m1')).toBe(before);
    expect((await lab.host('m1').exec('cat /mnt/full/precious.txt')).stdout).toBe('keep\n');
    expect(codes(reached(result.check, 'm1'))).toEqual(['not-a-mount']);
  });

  it('creates the directory, runs the exact mount command, and reports the real mount error', async () => {
    await saveMount('old', '/mnt/new', '/share/new');
    const result = await call('mounts.apply', { tunnel: 'old', directory: '/mnt/new', hostIds: [ids.m1 as string, ids.m2 as string], useSudo: false, confirm: true });
    const command = mountCommandFor({ server: NAS, export: '/share/new', directory: '/mnt/new' });
    expect(result.command).toBe(command);
    for (const h of result.hosts) {
      expect(h.ok).toBe(true);
      if (!h.ok) continue;
      expect(h.outcome).toBe('mount-failed');
      expect(h.command).toBe(`mkdir -p /mnt/new && ${command}`);
      expect(h.exitCode).not.toBe(0);
      // What mount itself said on this kernel (no NFS).
      expect(h.stderrTail).toMatch(/unknown filesystem type 'nfs'|mount\.nfs/);
      expect(h.message).toMatch(new RegExp(`^The mount command failed on ${h.hostName} \\(exit \\d+\\): .*NFS client`));
    }
    // mkdir ran; the check afterwards finds a plain directory, not a mount.
    for (const name of ['m1', 'm2']) {
      expect(reached(result.check, name)).toMatchObject({ state: 'present', isMount: false });
      expect(codes(reached(result.check, name))).toEqual(['not-a-mount']);
    }
  });

  it('as a user who is not root: asks for sudo, and reports that sudo wants a password', async () => {
    await saveMount('by-user', '/mnt/user-nas', '/share/user');
    const id = ids['m1-user'] as string;
    const plain = await call('mounts.apply', { tunnel: 'by-user', directory: '/mnt/user-nas', hostIds: [id], useSudo: false, confirm: true });
    expect(plain.hosts[0]).toMatchObject({ ok: true, outcome: 'root-needed', command: null });

    const sudo = await call('mounts.apply', { tunnel: 'by-user', directory: '/mnt/user-nas', hostIds: [id], useSudo: true, confirm: true });
    const h = sudo.hosts[0];
    expect(h).toMatchObject({ ok: true, outcome: 'sudo-password-needed', command: 'sudo -n mkdir -p /mnt/user-nas', exitCode: 1 });
    if (h?.ok) {
      expect(h.stderrTail).toContain('sudo: a password is required');
      expect(h.message).toContain('Ferry never types one over SSH');
      expect(h.message).toContain('NOPASSWD');
    }
    expect((await lab.host('m1').exec('test -e /mnt/user-nas; echo $?')).stdout.trim()).toBe('1');
  });

  describe('where the SSH user cannot look but root can (the mount runs through sudo)', () => {
    const applyAsSudoer = async (directory: string, exportPath: string) => {
      await saveMount('by-sudo', directory, exportPath);
      const before = await mountsOn('m1');
      const result = await call('mounts.apply', { tunnel: 'by-sudo', directory, hostIds: [ids['m1-sudo'] as string], useSudo: true, confirm: true });
      // Refused before anything ran: the mount table is as it was.
      expect(await mountsOn('m1')).toBe(before);
      const h = result.hosts[0];
      if (!h?.ok) throw new Error(`m1-sudo was not reached: ${JSON.stringify(h)}`);
      expect(h).toMatchObject({ command: null, exitCode: null });
      return { h, check: reached(result.check, 'm1-sudo') };
    };

    beforeAll(async () => {
      // /mnt/locked is root's 0700 directory: the SSH user cannot see what is inside; root can.
      await lab.host('m1').exec(
        [
          'mkdir -p /mnt/locked/full /mnt/locked/mounted /mnt/locked/own /mnt/private /mnt/secret',
          'echo keep > /mnt/locked/full/precious.txt',
          `mount -t tmpfs -o size=1m ${NAS}:/share/other /mnt/locked/mounted`,
          `mount -t tmpfs -o size=1m ${NAS}:/share/own /mnt/locked/own`,
          `mount -t tmpfs -o size=1m,mode=700 ${NAS}:/share/secret /mnt/secret`,
          'chmod 700 /mnt/locked /mnt/private',
        ].join(' && '),
      );
      expect((await lab.host('m1').exec(`su -s /bin/sh ${SUDO_USER} -c 'test -e /mnt/locked/full; echo $?'`)).stdout.trim()).toBe('1');
    });

    it('refuses a directory with files under a directory the user cannot search, rather than reading it as missing', async () => {
      const { h, check } = await applyAsSudoer('/mnt/locked/full', '/share/full');
      expect(h.outcome).toBe('cannot-inspect');
      expect(h.message).toContain('cannot look into /mnt/locked (on the way to /mnt/locked/full)');
      expect((await lab.host('m1').exec('cat /mnt/locked/full/precious.txt')).stdout).toBe('keep\n');
      // The check says the same, not "does not exist".
      expect(check).toMatchObject({ state: 'cannot-inspect', mount: null });
      expect(codes(check)).toEqual(['cannot-inspect']);
      expect(check.findings[0]?.message).toContain('cannot search /mnt/locked, on the way to it');
    });

    it('refuses another mount there, and leaves the spec\'s own mount alone, from /proc/self/mountinfo', async () => {
      const other = await applyAsSudoer('/mnt/locked/mounted', '/share/mine');
      expect(other.h.outcome).toBe('other-mount');
      expect(other.h.message).toContain(`already is a mount of something else: ${NAS}:/share/other (tmpfs) on /mnt/locked/mounted`);
      const own = await applyAsSudoer('/mnt/locked/own', '/share/own');
      expect(own.h.outcome).toBe('already-mounted');
    });

    it('does not call a directory the user cannot search "not empty", nor a mount of its own export "not a mount"', async () => {
      const empty = await applyAsSudoer('/mnt/private', '/share/private');
      expect(empty.h.outcome).toBe('cannot-inspect');
      expect(empty.h.message).toContain('cannot look into /mnt/private,');
      expect(empty.check).toMatchObject({ state: 'cannot-inspect' });
      const secret = await applyAsSudoer('/mnt/secret', '/share/secret');
      expect(secret.h.outcome).toBe('already-mounted');
    });
  });

  it('with the sudoers line Ferry suggests: runs exactly mkdir and this mount through sudo -n as root, and nothing else', async () => {
    await saveMount('by-sudo', '/mnt/sudo-nas', '/share/sudo');
    const apply = () => call('mounts.apply', { tunnel: 'by-sudo', directory: '/mnt/sudo-nas', hostIds: [ids['m1-sudo'] as string], useSudo: true, confirm: true });
    const asked = (await apply()).hosts[0];
    expect(asked).toMatchObject({ ok: true, outcome: 'sudo-password-needed' });
    const line = asked?.ok ? /"([^"]*NOPASSWD[^"]*)"/.exec(asked.message)?.[1] : undefined;
    expect(line).toBe(`${SUDO_USER} ALL=(root) NOPASSWD: /usr/bin/mkdir -p /mnt/sudo-nas, /usr/bin/mount -t nfs -o vers\\=3\\,hard\\,timeo\\=600\\,retrans\\=2\\,noresvport\\,rsize\\=1048576\\,wsize\\=1048576 ${NAS}\\:/share/sudo /mnt/sudo-nas`);
    await fs.writeFile(SUDOERS_FILE, `${line}\n`, { mode: 0o440 });
    execFileSync('visudo', ['-cf', SUDOERS_FILE]);

    const h = (await apply()).hosts[0];
    const command = mountCommandFor({ server: NAS, export: '/share/sudo', directory: '/mnt/sudo-nas' });
    expect(h).toMatchObject({ ok: true, outcome: 'mount-failed', command: `sudo -n mkdir -p /mnt/sudo-nas && sudo -n ${command}` });
    // mount itself ran as root and failed on this kernel, not on permissions.
    if (h?.ok) expect(h.stderrTail).toMatch(/unknown filesystem type 'nfs'|mount\.nfs/);
    expect((await lab.host('m1').exec('stat -c %U /mnt/sudo-nas')).stdout.trim()).toBe('root');

    // The line grants no other mount nor directory: a bind over /etc stays impossible.
    const before = await mountsOn('m1');
    const other = await lab.host('m1').exec(`su -s /bin/sh ${SUDO_USER} -c 'sudo -n mount --bind /tmp /mnt/sudo-nas; echo "exit $?"; sudo -n mkdir -p /mnt/elsewhere; echo "exit $?"'`);
    expect(other.stdout).toBe('exit 1\nexit 1\n');
    expect(await mountsOn('m1')).toBe(before);
    expect((await lab.host('m1').exec('test -e /mnt/elsewhere; echo $?')).stdout.trim()).toBe('1');
  });
});
