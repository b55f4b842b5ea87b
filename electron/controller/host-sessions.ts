/**
 * HostSessions: the one owner of the SSH connection to each host in the inventory. Connects on
 * demand (through the host's jump host, whose own connection it also owns), reuses an open
 * connection, closes idle ones, and drops a connection when its host is edited or removed. It keeps
 * each host's live status (connection, facts, agent, running operation, last failure) and pushes
 * the whole snapshot through `onStatus` on every change. One operation at a time per host.
 *
 * Secrets (passwords, key passphrases) come from the SecretStore; a secret given with a call is
 * kept there only after it worked. Never writes a secret anywhere else, never accepts a host key
 * on its own (see trustKey), and maps every failure to a HostFailure with a stable code.
 */
import type { AgentState, DeployProgress, Host, HostFacts, HostFailure, HostOperation, HostSecret, HostStatus, PresentedHostKey } from '../contract/console.ts';
import type { SshAuth } from '../ssh/auth.ts';
import { connect } from '../ssh/connect.ts';
import { isSshError } from '../ssh/errors.ts';
import { HostKeyStore } from '../ssh/host-key-store.ts';
import { readHostKey } from '../ssh/host-key-probe.ts';
import type { SshSession } from '../ssh/session.ts';
import { asJumpFailure, hostFailure, HostOpError, toHostFailure } from './host-failures.ts';
import { ControllerError } from './errors.ts';
import type { SecretStore } from './secrets.ts';

/** TCP connect, SSH handshake and login together, per hop. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** Reading a host key for hosts.trustKey (handshake only). */
export const KEY_READ_TIMEOUT_MS = 10_000;
/**
 * An unused connection is closed after this long; the next operation connects again. The time
 * counts from the end of the last operation: a connection is never closed while an operation runs
 * on it, or on a host reached through it.
 */
export const SESSION_IDLE_MS = 10 * 60_000;
/** SSH keepalives: a dead connection is noticed after interval × count. */
export const KEEPALIVE_INTERVAL_MS = 10_000;
export const KEEPALIVE_COUNT_MAX = 3;

export type OpResult<T> = ({ ok: true } & T) | { ok: false; failure: HostFailure };

interface Entry {
  session: SshSession | null;
  connecting: Promise<SshSession> | null;
  idleTimer: NodeJS.Timeout | null;
  /** The id of the jump host the open session goes through, or null. */
  via: string | null;
  /** The spec the open session was made for; another spec means reconnect. */
  specKey: string;
  status: HostStatus;
}

export interface HostSessionsOptions {
  dataDir: string;
  /** The user's known_hosts (read only); null to ignore it. Default ~/.ssh/known_hosts. */
  userKnownHostsFile?: string | null;
  secrets: SecretStore;
  hosts: () => Promise<Host[]>;
  onStatus: (statuses: HostStatus[]) => void;
  /** How long an unused connection stays open; default SESSION_IDLE_MS (tests give a short one). */
  idleMs?: number;
}

/** The fields of a host that change how Ferry connects to it. */
function specKey(host: Host): string {
  return JSON.stringify([host.address, host.port, host.user, host.auth, host.jumpHost]);
}

export class HostSessions {
  readonly keys: HostKeyStore;
  private readonly entries = new Map<string, Entry>();
  private known: Host[] = [];
  /** The connection-relevant spec of each host as last seen, to notice edits. */
  private readonly specs = new Map<string, string>();

  constructor(private readonly options: HostSessionsOptions) {
    this.keys = new HostKeyStore(options.userKnownHostsFile === undefined ? { dataDir: options.dataDir } : { dataDir: options.dataDir, userKnownHostsFile: options.userKnownHostsFile });
  }

  /** The status of every host in `hosts` (hosts never touched are 'unknown'). */
  statuses(hosts: Host[] = this.known): HostStatus[] {
    this.known = hosts;
    return hosts.map((h) => this.entries.get(h.id)?.status ?? emptyStatus(h.id));
  }

  /** Called with every inventory snapshot: forgets removed hosts and reconnects edited ones. */
  hostsChanged(hosts: Host[]): void {
    this.known = hosts;
    const byId = new Map(hosts.map((h) => [h.id, h]));
    for (const [id, entry] of this.entries) {
      const host = byId.get(id);
      if (!host) {
        this.entries.delete(id);
        void this.options.secrets.forget(id);
        void this.closeEntry(entry);
      } else if (this.specs.get(id) !== specKey(host)) {
        // Edited: what Ferry knew was about the old address, user or login.
        void this.closeEntry(entry);
        entry.status = { ...entry.status, connection: 'unknown', facts: null, agent: null, failure: null };
      }
    }
    for (const id of [...this.specs.keys()]) if (!byId.has(id)) this.specs.delete(id);
    for (const host of hosts) this.specs.set(host.id, specKey(host));
    this.publish();
  }

  private entry(hostId: string): Entry {
    let entry = this.entries.get(hostId);
    if (!entry) {
      entry = { session: null, connecting: null, idleTimer: null, via: null, specKey: '', status: emptyStatus(hostId) };
      this.entries.set(hostId, entry);
    }
    return entry;
  }

  private update(hostId: string, patch: Partial<Omit<HostStatus, 'hostId'>>): void {
    const entry = this.entry(hostId);
    entry.status = { ...entry.status, ...patch, updatedAt: new Date().toISOString() };
    this.publish();
  }

  private publish(): void {
    this.options.onStatus(this.statuses());
  }

  recordFacts(hostId: string, facts: HostFacts): void {
    this.update(hostId, { facts });
  }

  recordAgent(hostId: string, agent: AgentState | null): void {
    this.update(hostId, { agent });
  }

  recordProgress(hostId: string, progress: DeployProgress | null): void {
    this.update(hostId, { progress });
  }

  private async host(id: string): Promise<{ host: Host; all: Host[] }> {
    const all = await this.options.hosts();
    this.known = all;
    for (const h of all) if (!this.specs.has(h.id)) this.specs.set(h.id, specKey(h));
    const host = all.find((h) => h.id === id);
    if (!host) throw new ControllerError('not-found', `No host with id ${id}. Reload the host list.`);
    return { host, all };
  }

  /**
   * Runs one operation on a host with its (reused or new) connection. Refuses with 'busy' while
   * another runs; any thrown error becomes `{ok:false, failure}` and is recorded in the status.
   * A reused connection that turns out dead is replaced and the operation run once more (every
   * operation here may run twice: probes and status reads only read, deploy and the agent's
   * lifecycle steps are idempotent).
   */
  async run<T extends object>(id: string, op: HostOperation, work: (ctx: { host: Host; session: SshSession }) => Promise<T>, secret?: HostSecret): Promise<OpResult<T>> {
    // An unknown id is a call error (the console's list is stale), not a host failure.
    const found = await this.host(id);
    const entry = this.entry(id);
    if (entry.status.busy) return { ok: false, failure: busyFailure(found.host, entry.status.busy) };
    this.update(id, { busy: op });
    // No idle close under a running operation: the timer starts again when it has ended.
    this.stopIdle(entry);
    let host: Host | null = null;
    try {
      host = found.host;
      const reused = entry.session !== null && !entry.session.closed && !secret;
      const session = await this.session(found.host, found.all, secret);
      let value: T;
      try {
        value = await work({ host: found.host, session });
      } catch (err) {
        if (!reused || !isSshError(err, 'connection-lost')) throw err;
        if (entry.session === session) await this.closeEntry(entry);
        value = await work({ host: found.host, session: await this.session(found.host, found.all) });
      }
      this.update(id, { busy: null, progress: null, failure: null });
      return { ok: true, ...value };
    } catch (err) {
      const failure = toHostFailure(err, host ?? { id, name: id, auth: { kind: 'agent' } }, { probing: op === 'testing' });
      const lost = failure.code === 'connection-lost' || failure.stage === 'jump' || isConnectFailure(failure);
      this.update(id, { busy: null, progress: null, failure, ...(lost ? { connection: 'failed' as const } : {}) });
      return { ok: false, failure };
    } finally {
      if (entry.session && !entry.session.closed) this.touch(entry);
    }
  }

  /** An open session to `host`, connecting (and through its jump host) when needed. */
  private async session(host: Host, all: Host[], secret?: HostSecret, via: Host[] = []): Promise<SshSession> {
    const entry = this.entry(host.id);
    const key = specKey(host);
    if (entry.session && !entry.session.closed && entry.specKey === key && !secret) {
      this.touch(entry);
      return entry.session;
    }
    if (entry.connecting && !secret) return entry.connecting;
    if (entry.session) await this.closeEntry(entry);
    const connecting = this.open(host, all, secret, via);
    entry.connecting = connecting;
    try {
      const session = await connecting;
      entry.session = session;
      entry.specKey = key;
      entry.via = host.jumpHost ? (all.find((h) => h.name === host.jumpHost)?.id ?? null) : null;
      this.touch(entry);
      session.once('close', () => {
        if (entry.session !== session) return;
        entry.session = null;
        if (entry.idleTimer) clearTimeout(entry.idleTimer);
        this.update(host.id, { connection: 'disconnected' });
      });
      this.update(host.id, { connection: 'connected', secretHeld: await this.holdsSecret(host) });
      return session;
    } catch (err) {
      const failure = toHostFailure(err, host);
      this.update(host.id, { connection: 'failed', failure });
      throw new HostOpError(failure);
    } finally {
      if (entry.connecting === connecting) entry.connecting = null;
    }
  }

  private async open(host: Host, all: Host[], secret: HostSecret | undefined, via: Host[]): Promise<SshSession> {
    this.update(host.id, { connection: 'connecting' });
    let jump: SshSession | undefined;
    if (host.jumpHost) {
      const jumpHost = all.find((h) => h.name === host.jumpHost);
      if (!jumpHost || jumpHost.id === host.id || via.some((v) => v.id === jumpHost.id)) {
        throw new HostOpError(hostFailure(host, 'jump-host-missing', jumpHost ? `The jump host chain of ${host.name} loops back to ${jumpHost.name}. Choose a jump host that reaches ${host.name} directly.` : `${host.name} goes through the jump host "${host.jumpHost}", which is not in the inventory. Add it, or edit ${host.name}.`));
      }
      try {
        jump = await this.session(jumpHost, all, undefined, [...via, host]);
      } catch (err) {
        throw new HostOpError(asJumpFailure(toHostFailure(err, jumpHost), host));
      }
    }
    const auth = await this.authFor(host, secret);
    try {
      const session = await connect(
        { host: host.address, port: host.port, user: host.user, label: host.name },
        {
          auth,
          hostKeys: this.keys,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
          keepaliveCountMax: KEEPALIVE_COUNT_MAX,
          ...(jump ? { jump } : {}),
        },
      );
      if (secret) await this.keepSecret(host, secret);
      return session;
    } catch (err) {
      const failure = toHostFailure(err, host);
      // A held secret that was refused is wrong now: forget it so the console asks again.
      if (!secret && (failure.code === 'auth-failed' || failure.code === 'passphrase-wrong')) await this.options.secrets.forget(host.id);
      throw new HostOpError(failure);
    }
  }

  private async authFor(host: Host, secret: HostSecret | undefined): Promise<SshAuth> {
    switch (host.auth.kind) {
      case 'agent':
        return { kind: 'agent' };
      case 'key': {
        const passphrase = secret && 'passphrase' in secret ? secret.passphrase : await this.options.secrets.get(host.id, 'passphrase');
        return passphrase ? { kind: 'key', keyFile: host.auth.keyFile, passphrase } : { kind: 'key', keyFile: host.auth.keyFile };
      }
      case 'password': {
        const password = secret && 'password' in secret ? secret.password : await this.options.secrets.get(host.id, 'password');
        if (!password) {
          throw new HostOpError(hostFailure(host, 'password-needed', `${host.name} logs in with a password. Enter the password for ${host.user}; Ferry keeps it in memory until it stops.`, { authMethod: 'password' }));
        }
        return { kind: 'password', password };
      }
    }
  }

  private async keepSecret(host: Host, secret: HostSecret): Promise<void> {
    if ('password' in secret) await this.options.secrets.set(host.id, 'password', secret.password);
    else await this.options.secrets.set(host.id, 'passphrase', secret.passphrase);
  }

  private async holdsSecret(host: Host): Promise<boolean> {
    return (await this.options.secrets.get(host.id, 'password')) !== null || (await this.options.secrets.get(host.id, 'passphrase')) !== null;
  }

  /** Forgets a host's secrets and closes its connection. */
  async forgetSecret(id: string): Promise<boolean> {
    const entry = this.entry(id);
    const held = entry.status.secretHeld || (await this.options.secrets.get(id, 'password')) !== null || (await this.options.secrets.get(id, 'passphrase')) !== null;
    await this.options.secrets.forget(id);
    await this.closeEntry(entry);
    this.update(id, { secretHeld: false, connection: 'disconnected' });
    return held;
  }

  /**
   * Trusts the host's key: reads the key it presents now (no login) and remembers it only when
   * its fingerprint is the one the operator accepted and Ferry knows no other key for the host.
   */
  async trustKey(id: string, fingerprint: string): Promise<OpResult<{ hostKey: PresentedHostKey; alreadyKnown: boolean }>> {
    return this.runWithoutSession(id, 'trusting', async (host, all) => {
      let jump: SshSession | undefined;
      if (host.jumpHost) {
        const jumpHost = all.find((h) => h.name === host.jumpHost && h.id !== host.id);
        if (!jumpHost) throw new HostOpError(hostFailure(host, 'jump-host-missing', `${host.name} goes through the jump host "${host.jumpHost}", which is not in the inventory. Add it, or edit ${host.name}.`));
        try {
          jump = await this.session(jumpHost, all, undefined, [host]);
        } catch (err) {
          throw new HostOpError(asJumpFailure(toHostFailure(err, jumpHost), host));
        }
      }
      const presented = await readHostKey(host.address, host.port, {
        algorithms: await this.keys.algorithmsFor(host.address, host.port),
        timeoutMs: KEY_READ_TIMEOUT_MS,
        label: host.name,
        ...(jump ? { jump } : {}),
      });
      const hostKey = { keyType: presented.keyType, fingerprint: presented.fingerprint, knownAt: [] };
      if (presented.fingerprint !== fingerprint) {
        throw new HostOpError(
          hostFailure(host, 'fingerprint-mismatch', `${host.name} now presents ${presented.keyType} ${presented.fingerprint}, not the fingerprint you accepted (${fingerprint}). Ferry did not trust anything. Compare the new fingerprint with the host before you accept it.`, { hostKey }),
        );
      }
      const verdict = await this.keys.verify(host.address, host.port, presented.keyType, presented.blob);
      switch (verdict.status) {
        case 'known':
          return { hostKey, alreadyKnown: true };
        case 'revoked':
          throw new HostOpError(hostFailure(host, 'host-key-revoked', `The key ${presented.fingerprint} of ${host.name} is marked revoked (${verdict.source}). Ferry will not trust it.`, { hostKey }));
        case 'changed':
          throw new HostOpError(
            hostFailure(
              host,
              'host-key-changed',
              `Ferry already has another key for ${host.name} (${verdict.knownAt.join(', ')}); it does not replace a recorded key from the console. If the host was rebuilt, confirm the new fingerprint with its administrator and remove the old key from that file first.`,
              { hostKey: { ...hostKey, knownAt: verdict.knownAt } },
            ),
          );
        case 'unknown':
          await this.keys.remember(host.address, host.port, presented.keyType, presented.blob);
          return { hostKey, alreadyKnown: false };
      }
    });
  }

  private async runWithoutSession<T extends object>(id: string, op: HostOperation, work: (host: Host, all: Host[]) => Promise<T>): Promise<OpResult<T>> {
    const found = await this.host(id);
    const entry = this.entry(id);
    if (entry.status.busy) return { ok: false, failure: busyFailure(found.host, entry.status.busy) };
    this.update(id, { busy: op });
    let host: Host | null = null;
    try {
      host = found.host;
      const value = await work(found.host, found.all);
      this.update(id, { busy: null, failure: null });
      return { ok: true, ...value };
    } catch (err) {
      const failure = toHostFailure(err, host ?? { id, name: id, auth: { kind: 'agent' } });
      this.update(id, { busy: null, failure });
      return { ok: false, failure };
    }
  }

  /** (Re)starts the idle timer of an entry; none runs while an operation is running on it. */
  private touch(entry: Entry): void {
    this.stopIdle(entry);
    if (entry.status.busy) return;
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null;
      // A jump host's connection carries the sessions of the hosts behind it.
      if (this.carriesBusyHost(entry.status.hostId)) this.touch(entry);
      else void this.closeIdle(entry);
    }, this.options.idleMs ?? SESSION_IDLE_MS);
    entry.idleTimer.unref();
  }

  /** Closes an idle connection and says so in the status (closeEntry alone leaves it to its caller). */
  private async closeIdle(entry: Entry): Promise<void> {
    if (!entry.session) return;
    await this.closeEntry(entry);
    const id = entry.status.hostId;
    if (this.entries.get(id) === entry && !entry.session && !entry.connecting) this.update(id, { connection: 'disconnected' });
  }

  private stopIdle(entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
  }

  /** Whether an operation runs on a host reached through `jumpId` (directly or further down a chain). */
  private carriesBusyHost(jumpId: string, seen = new Set<string>()): boolean {
    seen.add(jumpId);
    for (const e of this.entries.values()) {
      if (e.via !== jumpId || !e.session || e.session.closed || seen.has(e.status.hostId)) continue;
      if (e.status.busy || this.carriesBusyHost(e.status.hostId, seen)) return true;
    }
    return false;
  }

  private async closeEntry(entry: Entry): Promise<void> {
    this.stopIdle(entry);
    const session = entry.session;
    entry.session = null;
    if (session) await session.close().catch(() => undefined);
  }

  /** Closes every connection (on shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.closeEntry(e)));
  }
}

function busyFailure(host: Host, busy: HostOperation): HostFailure {
  return hostFailure(host, 'busy', `Ferry is still ${busy} on ${host.name}. Wait until it has finished, then try again.`);
}

function emptyStatus(hostId: string): HostStatus {
  return { hostId, connection: 'unknown', busy: null, progress: null, failure: null, facts: null, agent: null, secretHeld: false, updatedAt: new Date(0).toISOString() };
}

function isConnectFailure(f: HostFailure): boolean {
  return ['host-key-unknown', 'host-key-changed', 'host-key-revoked', 'auth-failed', 'password-needed', 'passphrase-needed', 'passphrase-wrong', 'key-file-unreadable', 'agent-unavailable', 'unreachable', 'timeout', 'jump-host-missing', 'known-hosts-unusable', 'protocol'].includes(f.code);
}
