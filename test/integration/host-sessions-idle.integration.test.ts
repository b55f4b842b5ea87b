/**
 * HostSessions' idle close against real sshd hosts of the lab, with a short idle time: an
 * operation that runs longer than the idle time (a remote `sleep`) completes on the session it
 * started with, also on a host reached through a jump host (whose connection carries it); once the
 * operation has ended and the idle time has passed, the connection is closed.
 */
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, type HostStatus } from '../../electron/contract/console.ts';
import { HostSessions } from '../../electron/controller/host-sessions.ts';
import { MemorySecretStore } from '../../electron/controller/secrets.ts';
import type { SshSession } from '../../electron/ssh/session.ts';
import { waitFor } from '../helpers/lab-controller.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

const IDLE_MS = 1500;
/** Longer than the idle time by a margin that a loaded machine cannot eat. */
const OPERATION_SECONDS = 4;

let lab: TestLab;
let dataDir: string;
let sessions: HostSessions;
let hosts: Host[] = [];
let statuses: HostStatus[] = [];

function labHost(name: string, jumpHost: string | null = null): Host {
  const now = new Date().toISOString();
  return Host.parse({ id: `id-${name}`, name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path }, jumpHost, createdAt: now, updatedAt: now });
}

const connection = (name: string) => statuses.find((s) => s.hostId === `id-${name}`)?.connection;

/** Runs `sleep` on the host through HostSessions.run and says whether it ended on the session it started on. */
async function longOperation(name: string): Promise<{ ok: boolean; sameSession: boolean; message: string; session: SshSession | null }> {
  let used = null as SshSession | null;
  const result = await sessions.run(`id-${name}`, 'checking', async ({ session }) => {
    used ??= session;
    const out = await session.exec(`sleep ${OPERATION_SECONDS}; echo slept`, { timeoutMs: 60_000 });
    return { out: out.stdout.toString('utf8').trim(), session };
  });
  if (!result.ok) return { ok: false, sameSession: false, message: `${result.failure.code}: ${result.failure.message}`, session: null };
  return { ok: result.out === 'slept', sameSession: result.session === used && !result.session.closed, message: result.out, session: result.session };
}

beforeAll(async () => {
  dataDir = await tempDir('ferry-idle-');
  lab = await createTestLab({ hosts: [{ name: 'h1' }], jump: { name: 'jump', privateHosts: [{ name: 'p1' }] } });
  hosts = [labHost('h1'), labHost('jump'), labHost('p1', 'jump')];
  sessions = new HostSessions({ dataDir, userKnownHostsFile: null, secrets: new MemorySecretStore(), hosts: async () => hosts, onStatus: (s) => (statuses = s), idleMs: IDLE_MS });
  for (const name of ['h1', 'jump', 'p1']) {
    const trusted = await sessions.trustKey(`id-${name}`, lab.host(name).hostKeyFingerprint);
    expect(trusted.ok, trusted.ok ? '' : trusted.failure.message).toBe(true);
  }
}, 120_000);

afterAll(async () => {
  await sessions?.closeAll();
  await lab?.destroy();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('HostSessions idle close', () => {
  it('keeps the session of an operation longer than the idle time, and closes it once idle', async () => {
    const first = await longOperation('h1');
    expect(first.message).toBe('slept');
    expect(first).toMatchObject({ ok: true, sameSession: true });
    expect(connection('h1')).toBe('connected');
    // A reused session: its idle timer was running before this operation picked it up.
    const second = await longOperation('h1');
    expect(second).toMatchObject({ ok: true, sameSession: true });
    expect(statuses.find((s) => s.hostId === 'id-h1')?.failure).toBeNull();
    expect(second.session).toBe(first.session);
    await waitFor('h1 to be closed once idle', () => connection('h1') === 'disconnected', IDLE_MS * 4);
    expect(second.session?.closed).toBe(true);
  }, 60_000);

  it('keeps the jump host connection that carries a long operation on the host behind it', async () => {
    const behind = await longOperation('p1');
    expect(behind.message).toBe('slept');
    expect(behind).toMatchObject({ ok: true, sameSession: true });
    expect(connection('jump')).toBe('connected');
    await waitFor('the jump host to be closed once idle', () => connection('jump') === 'disconnected', IDLE_MS * 4);
    expect(behind.session?.closed).toBe(true);
  }, 60_000);
});
