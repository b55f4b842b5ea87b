/**
 * The console's host operations through the Controller's dispatch, against real sshd hosts of the
 * lab: an unknown key comes back with its fingerprint, trusting it lets the test pass with facts;
 * a changed key is refused; a wrong password gets a clear failure; the agent is deployed, runs,
 * shows its log, stops and is uninstalled; a private host is reached through its jump host; an
 * OpenSSH config is previewed and imported. Every result is parsed with the contract's schemas.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleCalls, type CallName, type CallRequest, type CallResponse, type EventEnvelope, type Host, type HostStatus } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { MemorySecretStore } from '../../electron/controller/secrets.ts';
import { runAgentFiles } from '../../electron/controller/task-runs-service.ts';
import { agentVersionLabel } from '../../electron/remote/agent-files.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

/** The agent labels this build deploys under: app version + 8 hex of the files' hashes. */
const THIS_AGENT = expect.stringMatching(/^0\.1\.0-test\+[0-9a-f]{8}$/);
const OLD_AGENT = expect.stringMatching(/^0\.0\.9-old\+[0-9a-f]{8}$/);

let lab: TestLab;
let dataDir: string;
let controller: Controller;
const events: EventEnvelope[] = [];
const hostIds: Record<string, string> = {};
const secrets = new MemorySecretStore();

async function call<N extends CallName>(name: N, req: CallRequest<N>): Promise<CallResponse<N>> {
  const result = await controller.dispatch(name, req);
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
  return consoleCalls[name].res.parse(result.result) as CallResponse<N>;
}

async function addHost(name: string, spec: Partial<CallRequest<'hosts.add'>> = {}): Promise<Host> {
  const labHost = lab.host(name);
  const host = await call('hosts.add', { name, address: labHost.address, auth: { kind: 'key', keyFile: lab.clientKey.path }, ...spec });
  hostIds[name] = host.id;
  return host;
}

function lastStatus(id: string): HostStatus | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.event === 'hosts.status') {
      const found = (e.payload as HostStatus[]).find((s) => s.hostId === id);
      if (found) return found;
    }
  }
  return undefined;
}

async function trustAndTest(name: string): Promise<CallResponse<'hosts.test'>> {
  const first = await call('hosts.test', { id: hostIds[name] as string });
  if (first.ok) return first;
  expect(first.failure.code).toBe('host-key-unknown');
  const target = first.failure.hostId;
  const trusted = await call('hosts.trustKey', { id: target, fingerprint: first.failure.hostKey?.fingerprint as string });
  expect(trusted.ok).toBe(true);
  return call('hosts.test', { id: hostIds[name] as string });
}

beforeAll(async () => {
  dataDir = await tempDir('ferry-console-hosts-');
  lab = await createTestLab({ hosts: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }], jump: { name: 'jump', privateHosts: [{ name: 'p1' }] } });
  controller = await Controller.open({ dataDir, appVersion: '0.1.0-test', shell: 'web', userKnownHostsFile: null, secrets });
  controller.subscribe((e) => events.push(e));
}, 120_000);

afterAll(async () => {
  await controller?.close();
  await lab?.destroy();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('hosts.test and hosts.trustKey', () => {
  it('reports an unknown key with its fingerprint, trusts exactly that key, then returns the facts', async () => {
    const host = await addHost('h1');
    const first = await call('hosts.test', { id: host.id });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.failure.code).toBe('host-key-unknown');
    expect(first.failure.hostId).toBe(host.id);
    expect(first.failure.hostKey?.fingerprint).toBe(lab.host('h1').hostKeyFingerprint);
    expect(first.failure.hostKey?.keyType).toBe('ssh-ed25519');
    expect(first.failure.message).toMatch(/ssh-keygen -lf \/etc\/ssh\/ssh_host_ed25519_key\.pub/);
    expect(await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8').catch(() => '')).toBe('');

    // A fingerprint other than the presented one is refused and nothing is written.
    const wrong = await call('hosts.trustKey', { id: host.id, fingerprint: lab.host('h2').hostKeyFingerprint });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.failure.code).toBe('fingerprint-mismatch');
    expect(await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8').catch(() => '')).toBe('');

    const trusted = await call('hosts.trustKey', { id: host.id, fingerprint: lab.host('h1').hostKeyFingerprint });
    expect(trusted).toMatchObject({ ok: true, alreadyKnown: false, hostKey: { fingerprint: lab.host('h1').hostKeyFingerprint } });
    expect(await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8')).toContain(`${lab.host('h1').address} ssh-ed25519 `);

    const tested = await call('hosts.test', { id: host.id });
    expect(tested.ok).toBe(true);
    if (!tested.ok) return;
    expect(tested.facts.os).toBe('Linux');
    expect(tested.facts.cpuCores).toBe(os.cpus().length);
    expect(tested.facts.isRoot).toBe(true);
    expect(tested.facts.prerequisites.find((p) => p.code === 'cpu-cores')?.ok).toBe(os.cpus().length >= 4);
    expect(tested.agent?.running).toBe(false);
    const status = lastStatus(host.id);
    expect(status).toMatchObject({ connection: 'connected', busy: null, failure: null });
    expect(status?.facts?.hostname).toBe(tested.facts.hostname);
    expect((await call('hosts.statusList', {})).find((s) => s.hostId === host.id)?.connection).toBe('connected');
  });

  it('reconnects when the connection it would reuse has just died', async () => {
    const id = hostIds.h1 as string;
    for (let round = 0; round < 3; round++) {
      await lab.dropConnections('h1', { how: 'kill' });
      const again = await call('hosts.test', { id });
      expect(again.ok, again.ok ? '' : again.failure.message).toBe(true);
    }
    expect(lastStatus(id)?.connection).toBe('connected');
  });

  it('refuses a changed host key, with an explanation, and does not let trustKey replace it', async () => {
    const host = await addHost('h2');
    expect((await trustAndTest('h2')).ok).toBe(true);
    const before = await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8');
    // The host is rebuilt: its connections end and sshd comes back with a new key.
    await lab.dropConnections('h2', { how: 'kill' });
    await waitFor(() => lastStatus(host.id)?.connection === 'disconnected', 20_000);
    await lab.restartSshd('h2', { newHostKey: true });
    const result = await call('hosts.test', { id: host.id });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.code).toBe('host-key-changed');
    expect(result.failure.hostKey?.fingerprint).toBe(lab.host('h2').hostKeyFingerprint);
    expect(result.failure.hostKey?.knownAt[0]).toMatch(/known_hosts:\d+$/);
    expect(result.failure.message).toMatch(/CHANGED.*attack/s);
    const trust = await call('hosts.trustKey', { id: host.id, fingerprint: lab.host('h2').hostKeyFingerprint });
    expect(trust.ok).toBe(false);
    if (!trust.ok) expect(trust.failure.code).toBe('host-key-changed');
    expect(await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8')).toBe(before);
  });

  it('asks for a password, says clearly when it is wrong, and keeps a right one for the session', async () => {
    const host = await addHost('h3', { user: lab.passwordUser, auth: { kind: 'password' } });
    const needed = await call('hosts.test', { id: host.id });
    expect(needed).toMatchObject({ ok: false, failure: { code: 'password-needed', authMethod: 'password' } });

    // Trust the key first (no login needed for that), then try a wrong password.
    const key = await call('hosts.trustKey', { id: host.id, fingerprint: lab.host('h3').hostKeyFingerprint });
    expect(key.ok).toBe(true);
    const wrong = await call('hosts.test', { id: host.id, secret: { password: 'not-the-password' } });
    // A refused password is not kept.
    expect(await secrets.get(host.id, 'password')).toBeNull();
    expect(wrong.ok).toBe(false);
    if (wrong.ok) return;
    expect(wrong.failure.code).toBe('auth-failed');
    expect(wrong.failure.authMethod).toBe('password');
    expect(wrong.failure.message).toMatch(/refused the password for user ferrytest/);
    expect(JSON.stringify(events)).not.toContain('not-the-password');

    const right = await call('hosts.test', { id: host.id, secret: { password: lab.password } });
    expect(right.ok).toBe(true);
    if (right.ok) expect(right.facts.isRoot).toBe(false);
    expect(lastStatus(host.id)?.secretHeld).toBe(true);
    // Held in memory: the next test needs no password; nothing of it reached the data directory.
    await call('hosts.forgetSecret', { id: host.id }).then((r) => expect(r.forgotten).toBe(true));
    expect(await call('hosts.test', { id: host.id })).toMatchObject({ ok: false, failure: { code: 'password-needed' } });
    const onDisk = await Promise.all((await fs.readdir(dataDir)).map((f) => fs.readFile(path.join(dataDir, f), 'utf8').catch(() => '')));
    expect(onDisk.join('\n')).not.toContain(lab.password);
  });

  it('asks for a key passphrase, says when it is wrong, and uses the right one', async () => {
    const host = await call('hosts.add', { name: 'h1-passphrase', address: lab.host('h1').address, auth: { kind: 'key', keyFile: lab.clientKey.passphraseProtectedPath } });
    expect(await call('hosts.test', { id: host.id })).toMatchObject({ ok: false, failure: { code: 'passphrase-needed' } });
    const wrong = await call('hosts.test', { id: host.id, secret: { passphrase: 'not it' } });
    expect(wrong).toMatchObject({ ok: false, failure: { code: 'passphrase-wrong' } });
    const right = await call('hosts.test', { id: host.id, secret: { passphrase: lab.clientKey.passphrase } });
    expect(right.ok).toBe(true);
    expect(lastStatus(host.id)?.secretHeld).toBe(true);
    expect(await secrets.get(host.id, 'passphrase')).toBe(lab.clientKey.passphrase);
    await call('hosts.remove', { id: host.id });
    // Removing the host forgets its secret with it.
    expect(await secrets.get(host.id, 'passphrase')).toBeNull();
  });

  it('reaches a private host through its jump host, trusting the jump host key first', async () => {
    await addHost('jump');
    const p1 = await addHost('p1', { jumpHost: 'jump' });
    const first = await call('hosts.test', { id: p1.id });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.failure).toMatchObject({ code: 'host-key-unknown', stage: 'jump', hostId: hostIds.jump, hostName: 'jump' });
    expect(first.failure.hostKey?.fingerprint).toBe(lab.host('jump').hostKeyFingerprint);
    expect((await call('hosts.trustKey', { id: first.failure.hostId, fingerprint: lab.host('jump').hostKeyFingerprint })).ok).toBe(true);

    const second = await call('hosts.test', { id: p1.id });
    expect(second).toMatchObject({ ok: false, failure: { code: 'host-key-unknown', stage: 'target', hostId: p1.id } });
    if (second.ok) return;
    expect(second.failure.hostKey?.fingerprint).toBe(lab.host('p1').hostKeyFingerprint);
    // Trusting a key behind a jump host reads it through the jump host.
    expect((await call('hosts.trustKey', { id: p1.id, fingerprint: lab.host('p1').hostKeyFingerprint })).ok).toBe(true);
    const third = await call('hosts.test', { id: p1.id });
    expect(third.ok).toBe(true);
    expect(lastStatus(hostIds.jump as string)?.connection).toBe('connected');
  });

  it('names a jump host failure as such', async () => {
    const p = await call('hosts.add', { name: 'behind-nothing', address: lab.host('p1').address, auth: { kind: 'key', keyFile: lab.clientKey.path }, jumpHost: 'h2' });
    const result = await call('hosts.test', { id: p.id });
    expect(result).toMatchObject({ ok: false, failure: { code: 'host-key-changed', stage: 'jump', hostName: 'h2' } });
    if (!result.ok) expect(result.failure.message).toMatch(/^Jump host h2 \(for behind-nothing\)/);
    await call('hosts.remove', { id: p.id });
  });

  it('reports an unreachable host with its stable code', async () => {
    const dead = await call('hosts.add', { name: 'dead', address: lab.host('h1').address, port: 2, auth: { kind: 'key', keyFile: lab.clientKey.path } });
    const result = await call('hosts.test', { id: dead.id });
    expect(result).toMatchObject({ ok: false, failure: { code: 'unreachable' } });
    if (!result.ok) expect(result.failure.message).toMatch(/refused the connection/);
    await call('hosts.remove', { id: dead.id });
    // A host id the inventory does not have is a call error: the console's list is stale.
    expect(await controller.dispatch('agents.status', { id: dead.id })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('agents', () => {
  it('deploys, runs, shows its log, stops and uninstalls the agent', async () => {
    const id = hostIds.h1 as string;
    const deploying = call('agents.deploy', { id });
    // One operation at a time per host: a test while deploying is refused, not interleaved.
    await waitFor(() => lastStatus(id)?.busy === 'deploying', 10_000);
    expect(await call('hosts.test', { id })).toMatchObject({ ok: false, failure: { code: 'busy' } });
    const deployed = await deploying;
    expect(deployed.ok, deployed.ok ? '' : deployed.failure.message).toBe(true);
    if (!deployed.ok) return;
    // Labelled app version + hash of the build's files, as runs and scans label it: one agent serves all.
    expect(deployed.deploy).toMatchObject({ version: THIS_AGENT, arch: process.arch, alreadyInstalled: false });
    expect(deployed.deploy.uploaded).toEqual(expect.arrayContaining(['agent/agent.mjs', 'runtime/bin/node']));
    // Exactly the label a run of this console computes for its agents (runAgentFiles + the app version).
    expect(deployed.deploy.version).toBe(await agentVersionLabel({ ...runAgentFiles(path.resolve('dist')), versionBase: '0.1.0-test' }));
    expect(deployed.agent).toMatchObject({ running: true, runningVersion: deployed.deploy.version, appVersion: deployed.deploy.version, upgradeAvailable: false, mode: 'nohup' });
    expect(deployed.agent.pid).toBeGreaterThan(0);
    expect(deployed.agent.controlPort).toBeGreaterThan(0);
    console.log(`deploy to h1: ${(deployed.deploy.bytesSent / 1e6).toFixed(1)} MB sent in ${deployed.deploy.ms} ms`);
    expect(lastStatus(id)?.agent?.running).toBe(true);
    // The console saw the deployment's steps live, and the last status has none left.
    const steps = events.flatMap((e) => (e.event === 'hosts.status' ? (e.payload as HostStatus[]) : [])).filter((s) => s.hostId === id && s.progress).map((s) => `${s.progress?.step} ${s.progress?.file}`);
    expect(steps).toEqual(expect.arrayContaining(['uploading runtime/bin/node', 'uploading agent/agent.mjs', 'starting agent/agent.mjs']));
    expect(lastStatus(id)?.progress).toBeNull();

    const status = await call('agents.status', { id });
    expect(status).toMatchObject({ ok: true, agent: { running: true, pid: deployed.agent.pid } });
    const again = await call('agents.deploy', { id });
    expect(again).toMatchObject({ ok: true, deploy: { alreadyInstalled: true, uploaded: [] }, agent: { running: true, pid: deployed.agent.pid } });

    const log = await call('agents.logTail', { id, lines: 50 });
    expect(log.ok).toBe(true);
    if (log.ok) expect(log.text).toContain('"ready":true');

    const restarted = await call('agents.restart', { id });
    expect(restarted).toMatchObject({ ok: true, agent: { running: true } });
    if (restarted.ok) expect(restarted.agent.pid).not.toBe(deployed.agent.pid);

    const stopped = await call('agents.stop', { id });
    expect(stopped).toMatchObject({ ok: true, agent: { running: false, pid: null, installedVersions: [deployed.deploy.version] } });

    const removed = await call('agents.uninstall', { id });
    expect(removed.ok).toBe(true);
    if (removed.ok) {
      expect(removed.removed).toContain('/root/.ferry/agent');
      expect(removed.agent.installedVersions).toEqual([]);
    }
    expect(await call('agents.restart', { id })).toMatchObject({ ok: false, failure: { code: 'agent-not-installed' } });
  }, 180_000);

  it('says which build part is missing: the agent bundle, or the runtime for the host\'s architecture', async () => {
    const empty = await tempDir('ferry-empty-dist-');
    const dist = path.join(empty, 'dist');
    const other = await Controller.open({ dataDir: path.join(empty, 'data'), appVersion: '0.1.0-test', shell: 'web', userKnownHostsFile: null, distDir: dist });
    const deploy = async (id: string) => consoleCalls['agents.deploy'].res.parse(((await other.dispatch('agents.deploy', { id })) as { result: unknown }).result);
    try {
      await fs.copyFile(path.join(dataDir, 'known_hosts'), path.join(empty, 'data', 'known_hosts'));
      const host = await other.dispatch('hosts.add', { name: 'h1', address: lab.host('h1').address, auth: { kind: 'key', keyFile: lab.clientKey.path } });
      const id = (host as { result: Host }).result.id;
      const noBundle = await deploy(id);
      expect(noBundle).toMatchObject({ ok: false, failure: { code: 'runtime-missing' } });
      if (!noBundle.ok) expect(noBundle.failure.message).toMatch(/agent\/agent\.mjs is missing.*node build\/build\.mjs/);

      // A build with the agent bundle but without this host's runtime (as on a machine of another arch).
      await fs.mkdir(path.join(dist, 'agent'), { recursive: true });
      await fs.copyFile(path.resolve('dist/agent/agent.mjs'), path.join(dist, 'agent', 'agent.mjs'));
      const noRuntime = await deploy(id);
      expect(noRuntime).toMatchObject({ ok: false, failure: { code: 'runtime-missing' } });
      if (!noRuntime.ok) expect(noRuntime.failure.message).toMatch(new RegExp(`no agent runtime for ${process.arch}.*fetch-runtime\\.mjs --all`));
    } finally {
      await other.close();
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('shows an older running agent as upgradable, and deploying replaces it', async () => {
    const id = hostIds.h1 as string;
    const older = await Controller.open({ dataDir, appVersion: '0.0.9-old', shell: 'web', userKnownHostsFile: null });
    try {
      const first = consoleCalls['agents.deploy'].res.parse(((await older.dispatch('agents.deploy', { id })) as { result: unknown }).result);
      expect(first).toMatchObject({ ok: true, agent: { running: true, runningVersion: OLD_AGENT } });
    } finally {
      await older.close();
    }
    const seen = await call('agents.status', { id });
    expect(seen).toMatchObject({ ok: true, agent: { running: true, runningVersion: OLD_AGENT, appVersion: THIS_AGENT, upgradeAvailable: true } });
    const upgraded = await call('agents.deploy', { id });
    expect(upgraded).toMatchObject({ ok: true, deploy: { version: THIS_AGENT, replacedVersion: OLD_AGENT }, agent: { runningVersion: THIS_AGENT, upgradeAvailable: false } });
    // The runtime was on the host already: only what differs crossed the wire.
    if (upgraded.ok) expect(upgraded.deploy.uploaded).not.toContain('runtime/bin/node');
    await call('agents.uninstall', { id });
  }, 180_000);
});

describe('hosts.importSshConfig', () => {
  const config = [
    'Host *',
    '  User admin',
    '  ServerAliveInterval 30',
    'Host bastion',
    '  HostName 198.18.99.1',
    'Host app-1 app-2',
    '  HostName %h.internal',
    '  Port 2222',
    '  IdentityFile ~/.ssh/id_app',
    '  ProxyJump bastion',
    'Host h1',
    '  HostName 198.18.99.2',
    'Host far',
    '  ProxyJump a,b',
    'Match host x',
    '  User y',
  ].join('\n');

  it('previews the hosts with notes, and adds the chosen ones, jump host first, skipping existing names', async () => {
    const preview = await call('hosts.importSshConfig', { text: config });
    expect(preview.path).toBeNull();
    const byName = Object.fromEntries(preview.hosts.map((h) => [h.name, h]));
    expect(byName['app-1']).toMatchObject({ address: 'app-1.internal', port: 2222, user: 'admin', auth: { kind: 'key', keyFile: path.join(os.homedir(), '.ssh/id_app') }, jumpHost: 'bastion', importable: true });
    expect(byName.h1).toMatchObject({ exists: true, importable: false });
    expect(byName.far?.importable).toBe(true);
    expect(byName.far?.notes.join(' ')).toMatch(/one jump host/);
    expect(preview.notes.map((n) => n.directive)).toEqual(expect.arrayContaining(['ServerAliveInterval', 'Match host x']));

    const applied = await call('hosts.importSshConfigApply', { text: config, names: ['app-1', 'bastion', 'h1'] });
    expect(applied.added).toEqual(['bastion', 'app-1']);
    expect(applied.skipped.map((s) => s.name)).toEqual(['h1']);
    const hosts = await call('hosts.list', {});
    expect(hosts.find((h) => h.name === 'app-1')?.jumpHost).toBe('bastion');
  });

  it('reads a config file and says clearly when it cannot', async () => {
    const file = path.join(dataDir, 'ssh_config');
    await fs.writeFile(file, 'Host filehost\n  HostName 198.18.99.3\n');
    const preview = await call('hosts.importSshConfig', { path: file });
    expect(preview).toMatchObject({ path: file, hosts: [{ name: 'filehost', address: '198.18.99.3', importable: true }] });
    const missing = await controller.dispatch('hosts.importSshConfig', { path: path.join(dataDir, 'nope') });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
    if (!missing.ok) expect(missing.error.message).toMatch(/does not exist/);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
