/**
 * Proves the test lab itself with the system's OpenSSH client (not Ferry's SSH layer): hosts are
 * reachable, private hosts only through the jump host, each host has its own /root, and binds show
 * the shared directory at the same path everywhere.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { runCommand } from '../helpers/test-hosts/run.ts';
import { lockPath, reapStaleSlots } from '../helpers/test-hosts/slots.ts';
import { spawnSync } from 'node:child_process';

let lab: TestLab;
let shared: string;
let sshConfig: string;
let setupMs = 0;

function tcpConnect(host: string, port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function ssh(host: string, command: string) {
  return runCommand('ssh', ['-F', sshConfig, host, command], { timeoutMs: 15_000 });
}

beforeAll(async () => {
  shared = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-lab-test-nas-'));
  await fs.writeFile(path.join(shared, 'hello.txt'), 'from the NAS\n');
  const started = Date.now();
  lab = await createTestLab({
    hosts: [
      { name: 'src1', binds: [{ source: shared, target: '/mnt/src' }] },
      { name: 'src2', binds: [{ source: shared, target: '/mnt/src' }] },
    ],
    jump: { name: 'jump', privateHosts: [{ name: 'priv1' }] },
  });
  setupMs = Date.now() - started;
  console.log(`lab with 5 hosts (2 public, jump, private) ready in ${setupMs} ms`);
  const knownHosts = path.join(lab.dir, 'openssh_known_hosts');
  await fs.writeFile(knownHosts, Object.keys(lab.hosts).map((n) => lab.knownHostsLine(n)).join('\n') + '\n');
  sshConfig = path.join(lab.dir, 'openssh_config');
  const common = [`  User root`, `  IdentityFile ${lab.clientKey.path}`, `  IdentitiesOnly yes`, `  UserKnownHostsFile ${knownHosts}`, `  StrictHostKeyChecking yes`, `  BatchMode yes`, `  ConnectTimeout 3`];
  const blocks = Object.values(lab.hosts).map((h) =>
    [`Host ${h.name}`, `  HostName ${h.address}`, ...common, ...(h.kind === 'private' ? ['  ProxyJump jump'] : [])].join('\n'),
  );
  await fs.writeFile(sshConfig, blocks.join('\n') + '\n');
});

afterAll(async () => {
  await lab?.destroy();
  await fs.rm(shared, { recursive: true, force: true });
});

describe('test lab', () => {
  it('starts in under 5 s with hosts on the lab subnets only', () => {
    expect(setupMs).toBeLessThan(5000);
    for (const h of Object.values(lab.hosts)) expect(h.address).toMatch(/^198\.1[89]\./);
    expect(lab.host('jump').privateAddress).toMatch(/^198\.19\./);
    expect(lab.host('src1').hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(lab.host('src1').hostKeyFingerprint).not.toBe(lab.host('src2').hostKeyFingerprint);
  });

  it('lets the workstation reach a public host over SSH', async () => {
    const result = await ssh('src1', 'hostname -I; id -u');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(lab.host('src1').address);
    expect(result.stdout.trim().endsWith('0')).toBe(true);
  });

  it('keeps private hosts unreachable directly, reachable through the jump host', async () => {
    expect(await tcpConnect(lab.host('priv1').address, 22)).toMatch(/EHOSTUNREACH|ENETUNREACH|timeout/);
    const result = await ssh('priv1', 'hostname -I');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(lab.host('priv1').address);
  });

  it('gives each host its own /root', async () => {
    await lab.host('src1').exec('echo one > /root/marker');
    expect((await lab.host('src2').exec('cat /root/marker')).code).not.toBe(0);
    expect(await fs.readFile(path.join(lab.host('src1').rootDir, 'marker'), 'utf8')).toBe('one\n');
    const viaSsh = await ssh('src1', 'cat ~/marker');
    expect(viaSsh.stdout).toBe('one\n');
  });

  it('shows the shared directory at the same path on every host that binds it', async () => {
    for (const name of ['src1', 'src2']) {
      const result = await ssh(name, 'cat /mnt/src/hello.txt && grep " /mnt/src " /proc/self/mountinfo | wc -l');
      expect(result.stdout).toBe('from the NAS\n1\n');
    }
    await lab.host('src2').exec('echo written-on-src2 > /mnt/src/w.txt');
    expect((await ssh('src1', 'cat /mnt/src/w.txt')).stdout).toBe('written-on-src2\n');
    expect((await lab.host('priv1').exec('ls /mnt/src 2>&1')).code).not.toBe(0);
  });

  it('restarts sshd with a new host key, and drops connections', async () => {
    const before = lab.host('src2').hostKeyFingerprint;
    await lab.restartSshd('src2', { newHostKey: true });
    expect(lab.host('src2').hostKeyFingerprint).not.toBe(before);
    const refused = await ssh('src2', 'true');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);

    const long = ssh('src1', 'sleep 30');
    await new Promise((r) => setTimeout(r, 700));
    const t0 = Date.now();
    await lab.dropConnections('src1');
    const ended = await long;
    expect(ended.code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await ssh('src1', 'echo back')).stdout).toBe('back\n');
  });

  it('removes what a crashed lab left behind', async () => {
    const crashed = await createTestLab({ hosts: [{ name: 'crashy' }] });
    const ns = crashed.host('crashy').namespace;
    // Pretend its process died: the lock now names a pid that has exited.
    const deadPid = spawnSync('true').pid;
    await fs.writeFile(lockPath(crashed.slot), `${deadPid} crashed\n`);
    expect(await reapStaleSlots()).toContain(crashed.slot);
    expect((await runCommand('ip', ['netns', 'list'])).stdout).not.toContain(ns);
    expect((await runCommand('ip', ['link', 'show', `fbr${2 * crashed.slot}`])).code).not.toBe(0);
    await expect(fs.stat(crashed.dir)).rejects.toThrow();
    await crashed.destroy();
    // The lab that is still running is untouched.
    expect((await ssh('src1', 'echo alive')).stdout).toBe('alive\n');
  });
});
