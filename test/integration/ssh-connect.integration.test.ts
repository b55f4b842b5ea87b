/**
 * Ferry's SSH connect() against real OpenSSH servers in the test lab: every way to log in, every
 * host key verdict, jump hosts, and drops. No mocks.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ConnectOptions } from '../../electron/ssh/connect.ts';
import { HostKeyStore } from '../../electron/ssh/host-key-store.ts';
import type { SessionCloseInfo, SshSession } from '../../electron/ssh/session.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { mustRun } from '../helpers/test-hosts/run.ts';
import { expectSshError, startSshAgent, tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

let lab: TestLab;
let work: string;
/** A data dir whose Ferry known_hosts already knows every lab host. */
let trusting: { dataDir: string; userKnownHostsFile: string | null };

beforeAll(async () => {
  lab = await createTestLab({
    hosts: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }],
    jump: { name: 'jump', privateHosts: [{ name: 'p1' }] },
  });
  work = await tempDir('ferry-ssh-connect-');
  const dataDir = path.join(work, 'trusting');
  await fs.mkdir(dataDir);
  await fs.writeFile(path.join(dataDir, 'known_hosts'), Object.keys(lab.hosts).map((n) => lab.knownHostsLine(n)).join('\n') + '\n');
  trusting = { dataDir, userKnownHostsFile: null };
});

afterAll(async () => {
  await lab?.destroy();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function target(name: string, user = 'root') {
  return { host: lab.host(name).address, user, label: name };
}
function keyAuth(): ConnectOptions['auth'] {
  return { kind: 'key', keyFile: lab.clientKey.path };
}
async function whoami(session: SshSession): Promise<string> {
  const result = await session.exec('id -un');
  return result.stdout.toString().trim();
}

describe('logging in', () => {
  it('logs in with a key file', async () => {
    const session = await connect(target('h1'), { auth: keyAuth(), hostKeys: trusting });
    expect(await whoami(session)).toBe('root');
    expect(session.hostKey.fingerprint).toBe(lab.host('h1').hostKeyFingerprint);
    await session.close();
  });

  it('logs in with a passphrase-protected key, and says when the passphrase is missing or wrong', async () => {
    const keyFile = lab.clientKey.passphraseProtectedPath;
    const needed = await expectSshError(connect(target('h1'), { auth: { kind: 'key', keyFile }, hostKeys: trusting }), 'key-passphrase-needed');
    expect(needed.message).toContain(keyFile);
    const wrong = await expectSshError(connect(target('h1'), { auth: { kind: 'key', keyFile, passphrase: 'not it' }, hostKeys: trusting }), 'key-passphrase-wrong');
    expect(wrong.message).not.toContain('not it');
    const session = await connect(target('h1'), { auth: { kind: 'key', keyFile, passphrase: lab.clientKey.passphrase }, hostKeys: trusting });
    expect(await whoami(session)).toBe('root');
    await session.close();
  });

  it('logs in with a password; a wrong one is auth-failed with a message that names the user', async () => {
    const session = await connect(target('h1', lab.passwordUser), { auth: { kind: 'password', password: lab.password }, hostKeys: trusting });
    expect(await whoami(session)).toBe(lab.passwordUser);
    await session.close();
    const err = await expectSshError(connect(target('h1', lab.passwordUser), { auth: { kind: 'password', password: 'wrong-password' }, hostKeys: trusting }), 'auth-failed');
    expect(err.message).toMatch(/refused the password for user ferrytest on h1\. Check/);
    expect(err.message).not.toContain('wrong-password');
  });

  it('refuses a key the host does not know with auth-failed', async () => {
    const err = await expectSshError(connect(target('h1'), { auth: { kind: 'key', keyFile: lab.clientKey.unauthorizedPath }, hostKeys: trusting }), 'auth-failed');
    expect(err.message).toContain(lab.clientKey.unauthorizedPath);
    expect(err.message).toContain('authorized_keys');
  });

  it('says when a key file is missing or is the public half', async () => {
    await expectSshError(connect(target('h1'), { auth: { kind: 'key', keyFile: path.join(work, 'nope') }, hostKeys: trusting }), 'key-file-unreadable');
    const pub = await expectSshError(connect(target('h1'), { auth: { kind: 'key', keyFile: `${lab.clientKey.path}.pub` }, hostKeys: trusting }), 'key-file-unreadable');
    expect(pub.message).toMatch(/public key/);
  });

  it('logs in with the keys of an ssh-agent, and says when there is no agent', async () => {
    const agent = await startSshAgent(work, [lab.clientKey.path]);
    try {
      const session = await connect(target('h2'), { auth: { kind: 'agent', socket: agent.socket }, hostKeys: trusting });
      expect(await whoami(session)).toBe('root');
      await session.close();
    } finally {
      await agent.stop();
    }
    await expectSshError(connect(target('h2'), { auth: { kind: 'agent', socket: path.join(work, 'no-agent.sock') }, hostKeys: trusting }), 'agent-unavailable');
  });
});

describe('host keys', () => {
  it('refuses an unknown host key with its fingerprint; accepting it remembers it', async () => {
    const dataDir = path.join(work, 'fresh');
    await fs.mkdir(dataDir);
    const hostKeys = { dataDir, userKnownHostsFile: null };
    const err = await expectSshError(connect(target('h3'), { auth: keyAuth(), hostKeys }), 'host-key-unknown');
    expect(err.details.hostKey?.fingerprint).toBe(lab.host('h3').hostKeyFingerprint);
    expect(err.details.hostKey?.keyType).toBe('ssh-ed25519');
    expect(err.message).toContain(lab.host('h3').hostKeyFingerprint);

    await expectSshError(connect(target('h3'), { auth: keyAuth(), hostKeys, acceptFingerprint: 'SHA256:somethingElse' }), 'host-key-unknown');
    const first = await connect(target('h3'), { auth: keyAuth(), hostKeys, acceptFingerprint: err.details.hostKey?.fingerprint });
    await first.close();
    expect(await fs.readFile(path.join(dataDir, 'known_hosts'), 'utf8')).toBe(lab.knownHostsLine('h3') + '\n');
    const second = await connect(target('h3'), { auth: keyAuth(), hostKeys });
    expect(await whoami(second)).toBe('root');
    await second.close();
  });

  it('trusts keys in the user known_hosts, plain or hashed', async () => {
    const dataDir = path.join(work, 'user-file');
    await fs.mkdir(dataDir);
    const userFile = path.join(work, 'user_known_hosts');
    await fs.writeFile(userFile, `# comment\n${lab.knownHostsLine('h1')}\n${lab.knownHostsLine('h2')}\n`);
    await mustRun('ssh-keygen', ['-q', '-H', '-f', userFile]);
    const hashed = await fs.readFile(userFile, 'utf8');
    expect(hashed).toContain('|1|');
    expect(hashed).not.toContain(lab.host('h1').address);
    for (const name of ['h1', 'h2']) {
      const session = await connect(target(name), { auth: keyAuth(), hostKeys: { dataDir, userKnownHostsFile: userFile } });
      await session.close();
    }
    await expectSshError(connect(target('h3'), { auth: keyAuth(), hostKeys: { dataDir, userKnownHostsFile: userFile } }), 'host-key-unknown');
    // Ferry never writes the user's file.
    expect(await fs.readFile(userFile, 'utf8')).toBe(hashed);
  });

  it('refuses a changed host key, even with the new fingerprint "accepted", until the old key is forgotten', async () => {
    const dataDir = path.join(work, 'changed');
    await fs.mkdir(dataDir);
    await fs.writeFile(path.join(dataDir, 'known_hosts'), lab.knownHostsLine('h2') + '\n');
    const hostKeys = new HostKeyStore({ dataDir, userKnownHostsFile: null });
    await lab.restartSshd('h2', { newHostKey: true });
    const err = await expectSshError(connect(target('h2'), { auth: keyAuth(), hostKeys }), 'host-key-changed');
    expect(err.details.hostKey?.fingerprint).toBe(lab.host('h2').hostKeyFingerprint);
    expect(err.details.hostKey?.knownAt?.[0]).toMatch(/known_hosts:1$/);
    expect(err.message).toMatch(/attack/);
    expect(err.message).toMatch(/reinstalled/);
    expect(err.message).toContain(`ssh-keygen -R '${lab.host('h2').address}'`);
    await expectSshError(connect(target('h2'), { auth: keyAuth(), hostKeys, acceptFingerprint: lab.host('h2').hostKeyFingerprint }), 'host-key-changed');

    expect(await hostKeys.forget(lab.host('h2').address, 22)).toBe(1);
    const session = await connect(target('h2'), { auth: keyAuth(), hostKeys, acceptFingerprint: lab.host('h2').hostKeyFingerprint });
    await session.close();
    // Keep the trusting data dir right for the other tests.
    await fs.writeFile(path.join(trusting.dataDir, 'known_hosts'), Object.keys(lab.hosts).map((n) => lab.knownHostsLine(n)).join('\n') + '\n');
  });
});

describe('jump hosts and reachability', () => {
  it('reaches a private host through the jump host, and not directly', async () => {
    const direct = await expectSshError(connect(target('p1'), { auth: keyAuth(), hostKeys: trusting, connectTimeoutMs: 3000 }), 'host-unreachable');
    expect(direct.message).toMatch(/jump host/);
    const session = await connect(target('p1'), { auth: keyAuth(), hostKeys: trusting, jump: { target: target('jump'), auth: keyAuth() } });
    expect((await session.exec('hostname -I')).stdout.toString().trim()).toBe(lab.host('p1').address);
    expect(session.jump?.label).toBe('jump');
    await session.close();
    expect(session.jump?.closed).toBe(true);
  });

  it('verifies the jump host key too, and says which host it is about', async () => {
    const dataDir = path.join(work, 'jump-fresh');
    await fs.mkdir(dataDir);
    await fs.writeFile(path.join(dataDir, 'known_hosts'), lab.knownHostsLine('p1') + '\n');
    const err = await expectSshError(connect(target('p1'), { auth: keyAuth(), hostKeys: { dataDir, userKnownHostsFile: null }, jump: { target: target('jump'), auth: keyAuth() } }), 'host-key-unknown');
    expect(err.details.stage).toBe('jump');
    expect(err.details.hostKey?.fingerprint).toBe(lab.host('jump').hostKeyFingerprint);
    expect(err.message).toMatch(/^Jump host: /);
  });

  it('reuses an open jump session for several private connections', async () => {
    const jump = await connect(target('jump'), { auth: keyAuth(), hostKeys: trusting });
    const a = await connect(target('p1'), { auth: keyAuth(), hostKeys: trusting, jump });
    const b = await connect(target('p1'), { auth: keyAuth(), hostKeys: trusting, jump });
    await a.close();
    expect(jump.closed).toBe(false);
    expect(await whoami(b)).toBe('root');
    await b.close();
    await jump.close();
  });

  it('says host-unreachable for a refused port and timeout for silence', async () => {
    const refused = await expectSshError(connect({ ...target('h1'), port: 2222 }, { auth: keyAuth(), hostKeys: trusting }), 'host-unreachable');
    expect(refused.message).toMatch(/refused/);
    const silent = `198.18.${lab.slot}.250`;
    const started = Date.now();
    await expectSshError(connect({ host: silent, user: 'root' }, { auth: keyAuth(), hostKeys: trusting, connectTimeoutMs: 1000 }), 'timeout');
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('drops', () => {
  it('reports a connection the host ends as an unexpected close', async () => {
    const session = await connect(target('h1'), { auth: keyAuth(), hostKeys: trusting });
    const closed = new Promise<SessionCloseInfo>((resolve) => session.once('close', resolve));
    // Its outcome is awaited from the start: the drop rejects it while dropConnections still runs.
    const running = expectSshError(session.exec('sleep 30'), 'connection-lost');
    await new Promise((r) => setTimeout(r, 300));
    await lab.dropConnections('h1');
    const info = await closed;
    expect(info.expected).toBe(false);
    expect(info.error?.code).toBe('connection-lost');
    await running;
    await expectSshError(session.exec('true'), 'connection-lost');
  });

  it('notices a silent network with keepalives', async () => {
    const session = await connect(target('h1'), { auth: keyAuth(), hostKeys: trusting, keepaliveIntervalMs: 300, keepaliveCountMax: 2 });
    const closed = session.whenClosed();
    const started = Date.now();
    await lab.dropConnections('h1', { how: 'link-down', durationMs: 2500 });
    const info = await closed;
    expect(info.expected).toBe(false);
    expect(info.error?.message).toMatch(/keepalive/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports close() as expected', async () => {
    const session = await connect(target('h1'), { auth: keyAuth(), hostKeys: trusting });
    const closed = session.whenClosed();
    await session.close();
    expect(await closed).toEqual({ expected: true, error: null });
  });
});
