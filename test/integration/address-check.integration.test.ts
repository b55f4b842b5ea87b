/**
 * addresses.check through the Controller's dispatch, against real sshd hosts of the lab. A tmpfs
 * whose source is the mount spec's server:/export stands in for the NAS (this kernel has no NFS),
 * bound at /mnt/nas into both hosts: a data address below it is on the planned mount (readable on
 * a source host, writable on destination hosts, nothing left behind). A directory bound into one
 * host only is missing on the other; a 0555 directory is not writable for a non-root login; a
 * read-only bind is read-only; two hosts with different directories bound at the same path do not
 * see the same storage, and per-host symbolic links to two directories of the NAS are not the same
 * directory; a mount of another export than the spec's is a spec mismatch; a host whose
 * key Ferry has not accepted is that host's failure while the other is checked. Every result is
 * parsed with the contract's schemas.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../electron/controller/controller.ts';
import { MemorySecretStore } from '../../electron/controller/secrets.ts';
import { contractCaller, findingCodes, reachedHost } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

/** A lab address nothing listens on: the NAS of the mount specs (never contacted). */
const NAS = '198.18.255.254';

let lab: TestLab;
let work: string;
let nasDir: string;
let controller: Controller;
const ids: Record<string, string> = {};

const call = contractCaller(() => controller);
const reached = reachedHost;
const codes = findingCodes;

async function saveAddress(name: string, tunnel: string, directory: string, agents?: string[]): Promise<void> {
  await call('addresses.save', { address: { name, tunnel, directory, ...(agents ? { agents } : {}) } });
}

beforeAll(async () => {
  work = await tempDir('ferry-address-check-');
  nasDir = path.join(work, 'nas');
  await fs.mkdir(nasDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', `${NAS}:/share/data`, nasDir]);
  await fs.mkdir(path.join(nasDir, 'projects'));
  await fs.writeFile(path.join(nasDir, 'projects', 'a.txt'), 'a');
  await fs.mkdir(path.join(nasDir, 'locked'), { mode: 0o555 });
  const [onlyOne, otherA, otherB] = ['only-one', 'other-a', 'other-b'].map((d) => path.join(work, d));
  for (const d of [onlyOne, otherA, otherB]) await fs.mkdir(d as string);
  lab = await createTestLab({
    hosts: [
      { name: 'a1', binds: [{ source: nasDir, target: '/mnt/nas' }, { source: onlyOne as string, target: '/mnt/only' }, { source: otherA as string, target: '/mnt/other' }] },
      { name: 'a2', binds: [{ source: nasDir, target: '/mnt/nas' }, { source: otherB as string, target: '/mnt/other' }, { source: nasDir, target: '/mnt/ro', readOnly: true }] },
      { name: 'a3' },
    ],
  });
  controller = await Controller.open({ dataDir: path.join(work, 'data'), appVersion: '0.1.0-test', shell: 'web', userKnownHostsFile: null, secrets: new MemorySecretStore() });
  for (const name of ['a1', 'a2']) {
    const host = await call('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } });
    ids[name] = host.id;
    await call('hosts.trustKey', { id: host.id, fingerprint: lab.host(name).hostKeyFingerprint });
  }
  // The lab's password user on a1: not root.
  const user = await call('hosts.add', { name: 'a1-user', address: lab.host('a1').address, user: lab.passwordUser, auth: { kind: 'password' } });
  const tested = await call('hosts.test', { id: user.id, secret: { password: lab.password } });
  expect(tested.ok, tested.ok ? '' : tested.failure.message).toBe(true);
  // a3's key is never accepted.
  ids.a3 = (await call('hosts.add', { name: 'a3', address: lab.host('a3').address, auth: { kind: 'key', keyFile: lab.clientKey.path } })).id;
  await call('tunnels.save', { tunnel: { name: 'old', role: 'source', hosts: ['a1', 'a2'] } });
  await call('tunnels.save', { tunnel: { name: 'new', role: 'destination', hosts: ['a1', 'a2'] } });
  await call('tunnels.save', { tunnel: { name: 'by-user', role: 'destination', hosts: ['a1-user'] } });
  await call('tunnels.save', { tunnel: { name: 'wrong', role: 'source', hosts: ['a2'] } });
  await call('tunnels.save', { tunnel: { name: 'mixed', role: 'destination', hosts: ['a1', 'a3'] } });
  for (const tunnel of ['old', 'new', 'by-user', 'mixed']) await call('mounts.save', { mount: { tunnel, nasType: 'general', server: NAS, export: '/share/data', directory: '/mnt/nas' } });
  await call('mounts.save', { mount: { tunnel: 'wrong', nasType: 'general', server: NAS, export: '/share/elsewhere', directory: '/mnt/nas' } });
}, 120_000);

afterAll(async () => {
  await controller?.close();
  await lab?.destroy();
  if (nasDir) execFileSync('umount', ['-l', nasDir]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('addresses.check', () => {
  it('finds a subdirectory of the planned NAS mount readable on the source agent, naming the mount', async () => {
    await saveAddress('src-projects', 'old', '/mnt/nas/projects', ['a1']);
    const result = await call('addresses.check', { name: 'src-projects' });
    expect(result).toMatchObject({ address: 'src-projects', tunnel: 'old', directory: '/mnt/nas/projects', role: 'source' });
    // Only the address's agents are asked.
    expect(result.hosts.map((h) => h.hostName)).toEqual(['a1']);
    const a1 = reached(result, 'a1');
    expect(a1).toMatchObject({ state: 'present', isMount: false, matchesSpec: true, readable: true, writable: null, verdict: 'ok', findings: [] });
    expect(a1.mount).toMatchObject({ source: `${NAS}:/share/data`, fsType: 'tmpfs', mountPoint: '/mnt/nas' });
    expect(result.sameMount).toBeNull();
    expect(result.ok).toBe(true);
  });

  it('checks that every destination host can write there and sees the same storage, leaving nothing behind', async () => {
    await saveAddress('dst-projects', 'new', '/mnt/nas/projects');
    const started = performance.now();
    const result = await call('addresses.check', { name: 'dst-projects' });
    const ms = performance.now() - started;
    for (const name of ['a1', 'a2']) expect(reached(result, name)).toMatchObject({ state: 'present', matchesSpec: true, readable: true, writable: true, findings: [] });
    expect(result.sameMount).toBe(true);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(await fs.readdir(path.join(nasDir, 'projects'))).toEqual(['a.txt']);
    const again = performance.now();
    await call('addresses.check', { name: 'dst-projects' });
    console.log(`addresses.check on 2 hosts: ${ms.toFixed(0)} ms (a2 connecting first), ${(performance.now() - again).toFixed(0)} ms (open connections)`);
  });

  it('reports a directory missing on one host of two, with the command to mount it', async () => {
    await saveAddress('only-one', 'old', '/mnt/only');
    const result = await call('addresses.check', { name: 'only-one' });
    expect(reached(result, 'a1')).toMatchObject({ state: 'present', isMount: true, readable: true });
    const a2 = reached(result, 'a2');
    expect(a2).toMatchObject({ state: 'missing', mount: null, matchesSpec: null, readable: null, verdict: 'findings' });
    expect(codes(a2)).toEqual(['dir-missing']);
    expect(a2.findings[0]?.message).toContain('/mnt/only does not exist on a2');
    expect(a2.findings[0]?.message).toContain('data address "only-one"');
    expect(result.sameMount).toBeNull();
    expect(result.ok).toBe(false);
  });

  it('finds a 0555 directory not writable for a non-root login, and a read-only bind read-only', async () => {
    await saveAddress('locked', 'by-user', '/mnt/nas/locked');
    const locked = await call('addresses.check', { name: 'locked' });
    const user = reached(locked, 'a1-user');
    expect(user).toMatchObject({ state: 'present', matchesSpec: true, readable: true, writable: false });
    expect(codes(user)).toEqual(['not-writable']);
    expect(user.findings[0]?.message).toMatch(/Ferry cannot create a file in \/mnt\/nas\/locked on a1-user \(.*Permission denied.*\)/);
    expect(locked.ok).toBe(false);

    await saveAddress('ro', 'new', '/mnt/ro', ['a2']);
    const ro = await call('addresses.check', { name: 'ro' });
    const a2 = reached(ro, 'a2');
    expect(a2).toMatchObject({ isMount: true, readable: true, writable: false });
    expect(codes(a2)).toContain('read-only');
    expect(a2.mount?.mountOptions).toContain('ro');
    expect(await fs.readdir(nasDir)).toEqual(['locked', 'projects']);
  });

  it('tells when two hosts see different storage at the same path', async () => {
    await saveAddress('other', 'old', '/mnt/other');
    const result = await call('addresses.check', { name: 'other' });
    expect(reached(result, 'a1').state).toBe('present');
    expect(reached(result, 'a2').state).toBe('present');
    expect(result.sameMount).toBe(false);
    expect(result.findings.map((f) => f.code)).toEqual(['different-mounts']);
    expect(result.findings[0]?.message).toMatch(/do not see the same storage at \/mnt\/other \(a1: .*; a2: .*\)/);
    expect(result.ok).toBe(false);
  });

  it('tells when two hosts see the same storage but different directories of it (per-host symbolic links)', async () => {
    await lab.host('a1').exec('ln -sfn /mnt/nas/projects /mnt/linked');
    await lab.host('a2').exec('ln -sfn /mnt/nas/locked /mnt/linked');
    await saveAddress('linked', 'old', '/mnt/linked');
    const result = await call('addresses.check', { name: 'linked' });
    for (const name of ['a1', 'a2']) expect(reached(result, name)).toMatchObject({ state: 'present', matchesSpec: true, findings: [] });
    expect(result.sameMount).toBe(false);
    expect(result.findings.map((f) => f.code)).toEqual(['different-directories']);
    expect(result.findings[0]?.message).toContain('different directories of it at /mnt/linked (a1: /mnt/nas/projects; a2: /mnt/nas/locked)');
    expect(result.ok).toBe(false);
  });

  it("says when the mount below the address is another export than the tunnel's mount spec", async () => {
    await saveAddress('wrong-export', 'wrong', '/mnt/nas/projects');
    const result = await call('addresses.check', { name: 'wrong-export' });
    const a2 = reached(result, 'a2');
    expect(a2).toMatchObject({ isMount: false, matchesSpec: false });
    expect(codes(a2)).toEqual(['spec-mismatch']);
    expect(a2.findings[0]?.message).toContain(`is on ${NAS}:/share/data (tmpfs) on /mnt/nas, but the mount spec of tunnel "wrong" says ${NAS}:/share/elsewhere is mounted at /mnt/nas`);
    expect(result.ok).toBe(false);
  });

  it("reports a host whose key Ferry has not accepted as that host's failure, and checks the other", async () => {
    await saveAddress('mixed-dst', 'mixed', '/mnt/nas/projects');
    const result = await call('addresses.check', { name: 'mixed-dst' });
    expect(reached(result, 'a1')).toMatchObject({ writable: true, findings: [] });
    expect(result.hosts.find((h) => h.hostName === 'a3')).toMatchObject({ ok: false, hostId: ids.a3, failure: { code: 'host-key-unknown' } });
    expect(result.ok).toBe(false);
  });

  it('answers an unknown address with not-found', async () => {
    const r = await controller.dispatch('addresses.check', { name: 'never-saved' });
    expect(r).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining('There is no data address "never-saved"') } });
  });
});
