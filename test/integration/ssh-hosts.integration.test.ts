/**
 * Host probing and agent deployment over real SSH in the lab: facts match the machine; deploying
 * twice uploads nothing the second time (byte counters); a new version reuses the runtime already
 * on the host; the agent outlives the SSH session, answers through forwardLocal, stops, uninstalls.
 * Uses dist/agent/agent.mjs when built (or FERRY_REAL_AGENT=1), else the stand-in agent.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostFacts } from '../../agent/protocol/facts.ts';
import { agentLogTail, agentStatus, startAgent, stopAgent, uninstallAgent } from '../../electron/hosts/agent-control.ts';
import { deployAgent, type AgentLocalFiles } from '../../electron/hosts/deploy.ts';
import { AgentError } from '../../electron/hosts/errors.ts';
import { probeOverSsh } from '../../electron/hosts/probe.ts';
import { connect, type ConnectOptions } from '../../electron/ssh/connect.ts';
import type { SshSession } from '../../electron/ssh/session.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { agentBundleFor, RUNTIME_X64, useRealAgent, writeBrokenAgent } from '../helpers/test-hosts/agent-bundle.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

let lab: TestLab;
let work: string;
let nas: string;
let options: ConnectOptions;
const real = useRealAgent();

beforeAll(async () => {
  work = await tempDir('ferry-ssh-hosts-');
  nas = path.join(work, 'nas');
  await fs.mkdir(nas);
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: nas, target: '/mnt/src' }] }, { name: 'src2' }] });
  await fs.writeFile(path.join(work, 'known_hosts'), ['src1', 'src2'].map((n) => lab.knownHostsLine(n)).join('\n') + '\n');
  options = { auth: { kind: 'key', keyFile: lab.clientKey.path }, hostKeys: { dataDir: work, userKnownHostsFile: null } };
});

afterAll(async () => {
  await lab?.destroy();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function open(name: string, user = 'root', auth?: ConnectOptions['auth']): Promise<SshSession> {
  return connect({ host: lab.host(name).address, user, label: name }, auth ? { ...options, auth } : options);
}

async function files(version: string): Promise<AgentLocalFiles> {
  return { runtimeByArch: { x64: RUNTIME_X64 }, bundle: await agentBundleFor(work, version) };
}

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('ping\n'));
    socket.once('data', (c: Buffer) => {
      socket.destroy();
      resolve(c.toString().trim());
    });
    socket.once('error', reject);
  });
}

describe('probeOverSsh', () => {
  it('returns facts of the host that match this machine, with its mounts', async () => {
    const session = await open('src1');
    try {
      const facts = HostFacts.parse(await probeOverSsh(session));
      expect(facts.cpuCores).toBe(os.cpus().length);
      expect(facts.memoryBytes).toBe(os.totalmem());
      expect(facts.os).toBe('Linux');
      expect(facts.platform).toBe('linux');
      expect(facts.arch).toBe(process.arch);
      expect(facts.release).toBe(os.release());
      expect(facts.hostname).toBe(os.hostname());
      expect(facts.isRoot).toBe(true);
      expect(facts.disk.path).toBe('/root/.ferry');
      expect(facts.disk.totalBytes).toBeGreaterThan(facts.disk.freeBytes);
      expect(facts.mountsReadable).toBe(true);
      expect(facts.mounts.some((m) => m.mountPoint === '/mnt/src')).toBe(true);
      expect(facts.prerequisites.map((p) => p.code)).toEqual(['cpu-cores', 'memory', 'disk-free']);
      expect(facts.cpuModel).not.toBe('');
      // It created Ferry's directory in this host's own /root.
      expect((await fs.stat(path.join(lab.host('src1').rootDir, '.ferry'))).isDirectory()).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('works for a non-root user', async () => {
    const session = await open('src2', lab.passwordUser, { kind: 'password', password: lab.password });
    try {
      const facts = await probeOverSsh(session);
      expect(facts.isRoot).toBe(false);
      expect(facts.disk.path).toBe(`/home/${lab.passwordUser}/.ferry`);
    } finally {
      await session.close();
    }
  });
});

describe('agent deployment', () => {
  it('deploys, then deploys again without uploading anything', async () => {
    const session = await open('src1');
    try {
      const first = await deployAgent(session, { version: '1.0.0', localFiles: await files('1.0.0') });
      expect(first.alreadyInstalled).toBe(false);
      expect(first.arch).toBe('x64');
      expect(first.dir).toBe('/root/.ferry/agent/1.0.0');
      expect(first.uploaded.sort()).toEqual(['agent/agent.mjs', 'runtime/bin/node']);
      // Compressed: well under the runtime's size crossed the wire.
      const runtimeSize = (await fs.stat(RUNTIME_X64)).size;
      expect(first.bytesSent).toBeLessThan(runtimeSize * 0.6);
      console.log(`first deploy: ${(first.bytesSent / 1e6).toFixed(1)} MB sent in ${first.ms} ms`);

      const second = await deployAgent(session, { version: '1.0.0', localFiles: await files('1.0.0') });
      expect(second.alreadyInstalled).toBe(true);
      expect(second.uploaded).toEqual([]);
      expect(second.linked).toEqual([]);
      expect(second.bytesSent).toBeLessThan(32 * 1024);
      console.log(`second deploy: ${second.bytesSent} bytes sent in ${second.ms} ms`);
      const manifest = await fs.readFile(path.join(lab.host('src1').rootDir, '.ferry/agent/1.0.0/MANIFEST'), 'utf8');
      expect(manifest).toMatch(/^ferry-agent-manifest 1 1\.0\.0 x64\n[0-9a-f]{64} \d+ 644 agent\/agent\.mjs\n[0-9a-f]{64} \d+ 755 runtime\/bin\/node\n$/);
      expect(await fs.readdir(path.join(lab.host('src1').rootDir, '.ferry/agent'))).toEqual(['1.0.0']);
    } finally {
      await session.close();
    }
  });

  it('starts the agent detached: it outlives the SSH session and answers through forwardLocal', async () => {
    let session = await open('src1');
    const started = await startAgent(session, { version: '1.0.0', dataListen: `${lab.host('src1').address}:0` });
    expect(started.alreadyRunning).toBe(false);
    expect(started.mode).toBe('nohup');
    if (!real) expect(started.ready.version).toBe('1.0.0');
    await session.close();

    session = await open('src1');
    try {
      const status = await agentStatus(session);
      expect(status).toMatchObject({ running: true, pid: started.pid, runningVersion: '1.0.0', currentVersion: '1.0.0', installedVersions: ['1.0.0'] });
      expect(status.ready).toEqual(started.ready);
      expect((await lab.host('src1').exec(`cat /root/.ferry/agent.pid`)).stdout.trim()).toBe(String(started.pid));
      // The data port listens on the host's own address.
      expect((await lab.host('src1').exec(`ss -ltn | grep -c '${lab.host('src1').address}:${started.ready.dataPort} ' || true`)).stdout.trim()).toBe('1');
      if (!real) {
        const forward = await session.forwardLocal('127.0.0.1', started.ready.controlPort);
        expect(await ping(forward.port)).toBe('pong 1.0.0');
        await forward.close();
      }
      const again = await startAgent(session, { version: '1.0.0' });
      expect(again).toMatchObject({ alreadyRunning: true, pid: started.pid });
      expect(await agentLogTail(session, 5)).toContain('"ready":true');
    } finally {
      await session.close();
    }
  });

  it('upgrades to a new version in place, reusing the runtime already on the host', async () => {
    const session = await open('src1');
    try {
      const before = await agentStatus(session);
      const deployed = await deployAgent(session, { version: '1.1.0', localFiles: await files('1.1.0') });
      expect(deployed.linked).toContain('runtime/bin/node');
      expect(deployed.uploaded).not.toContain('runtime/bin/node');
      expect(deployed.bytesSent).toBeLessThan(2 * 1024 * 1024);
      expect(deployed.removedVersions).toEqual([]);
      const started = await startAgent(session, { version: '1.1.0' });
      expect(started.replacedVersion).toBe('1.0.0');
      expect(started.pid).not.toBe(before.pid);
      if (!real) expect(started.ready.version).toBe('1.1.0');
      expect((await lab.host('src1').exec(`kill -0 ${before.pid} 2>/dev/null && echo alive || echo gone`)).stdout.trim()).toBe('gone');
      const status = await agentStatus(session);
      expect(status).toMatchObject({ running: true, runningVersion: '1.1.0', currentVersion: '1.1.0' });
      expect(status.installedVersions.sort()).toEqual(['1.0.0', '1.1.0']);

      // A third version prunes the first (neither current nor running).
      const third = await deployAgent(session, { version: '1.2.0', localFiles: await files('1.2.0') });
      expect(third.removedVersions).toEqual(['1.0.0']);
      expect((await agentStatus(session)).installedVersions.sort()).toEqual(['1.1.0', '1.2.0']);
    } finally {
      await session.close();
    }
  });

  it('repairs a damaged installation on the next deploy', async () => {
    const session = await open('src1');
    try {
      await lab.host('src1').exec('printf "garbage" >> /root/.ferry/agent/1.2.0/agent/agent.mjs');
      const repaired = await deployAgent(session, { version: '1.2.0', localFiles: await files('1.2.0') });
      expect(repaired.alreadyInstalled).toBe(false);
      expect(repaired.uploaded).toEqual(['agent/agent.mjs']);
      // Same size, different bytes: caught by the checksum of the installed files. (The runtime cannot
      // be damaged this way while an agent runs it: the kernel refuses writes to a running binary.)
      const damage = await lab.host('src1').exec("printf '@@' | dd of=/root/.ferry/agent/1.2.0/agent/agent.mjs bs=1 seek=10 conv=notrunc");
      expect(damage.code, damage.stderr).toBe(0);
      const rewritten = await deployAgent(session, { version: '1.2.0', localFiles: await files('1.2.0') });
      expect(rewritten.alreadyInstalled).toBe(false);
      expect(rewritten.uploaded).toEqual(['agent/agent.mjs']);
      expect(rewritten.linked).toEqual(['runtime/bin/node']);
      const again = await deployAgent(session, { version: '1.2.0', localFiles: await files('1.2.0') });
      expect(again.alreadyInstalled).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('two deploys of the same files at once: the later one keeps the copy the first installed', async () => {
    const [a, b] = await Promise.all([open('src2'), open('src2')]);
    const inode = async () => (await lab.host('src2').exec('stat -c %i /root/.ferry/agent/2.0.0')).stdout.trim();
    try {
      const local = await files('2.0.0');
      let firstInode = '';
      const deploys = [a, b].map((session) =>
        deployAgent(session, { version: '2.0.0', localFiles: local }).then(async (r) => {
          firstInode ||= await inode();
          return r;
        }),
      );
      const results = await Promise.all(deploys);
      expect(results.every((r) => r.version === '2.0.0')).toBe(true);
      // Whatever the order, no commit replaced a directory another had installed (an agent may be
      // starting from it): the directory seen after the first finished is the one that stays.
      expect(firstInode).not.toBe('');
      expect(await inode()).toBe(firstInode);
      expect((await lab.host('src2').exec('ls -a /root/.ferry/agent | grep -c "^\\.tmp-" || true')).stdout.trim()).toBe('0');
      const again = await deployAgent(a, { version: '2.0.0', localFiles: local });
      expect(again.alreadyInstalled).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('says when the agent fails at start, with its log', async () => {
    const session = await open('src2');
    try {
      const broken = await writeBrokenAgent(work);
      await deployAgent(session, { version: 'broken', localFiles: { runtimeByArch: { x64: RUNTIME_X64 }, bundle: broken } });
      let caught: unknown;
      await startAgent(session, { version: 'broken' }).catch((err: unknown) => (caught = err));
      expect(caught).toBeInstanceOf(AgentError);
      expect((caught as AgentError).code).toBe('agent-start-failed');
      expect((caught as AgentError).message).toContain('cannot open the journal');
      let notInstalled: unknown;
      await startAgent(session, { version: '9.9.9' }).catch((err: unknown) => (notInstalled = err));
      expect((notInstalled as AgentError).code).toBe('agent-not-installed');
    } finally {
      await session.close();
    }
  });

  it('falls back from systemd where the host has none, stops, and uninstalls without touching agent data', async () => {
    const session = await open('src1');
    try {
      const started = await startAgent(session, { version: '1.2.0', systemd: true });
      expect(started.mode).toBe('nohup');
      expect(started.systemdUnavailable).toMatch(/systemd/);
      const stopped = await stopAgent(session);
      expect(stopped).toEqual({ stopped: true, pid: started.pid });
      expect((await agentStatus(session)).running).toBe(false);
      expect((await lab.host('src1').exec(`kill -0 ${started.pid} 2>/dev/null && echo alive || echo gone`)).stdout.trim()).toBe('gone');
      expect(await stopAgent(session)).toEqual({ stopped: false, pid: null });

      await fs.writeFile(path.join(lab.host('src1').rootDir, '.ferry', 'agent.json'), '{"identity":"kept"}');
      const { removed } = await uninstallAgent(session);
      expect(removed).toEqual(['/root/.ferry/agent', '/root/.ferry/agent.log']);
      const left = await fs.readdir(path.join(lab.host('src1').rootDir, '.ferry'));
      expect(left).toContain('agent.json');
      expect(left.filter((f) => f.startsWith('agent') && f !== 'agent.json')).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
