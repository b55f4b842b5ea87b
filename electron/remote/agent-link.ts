/**
 * AgentLink: the one owner of Ferry's connection to the agent on one migration host. It owns the
 * SSH session (and the jump session inside it), the local port forward to the agent's loopback
 * control port and the control client; nothing else opens, closes or reconnects them.
 *
 * State machine:
 *   idle --open()--> connecting --ok--> ready
 *   connecting --error--> failed                 (the first connection: errors go to the caller)
 *   ready --SSH drop / control error / call timeout--> lost
 *   lost --backoff (RECONNECT_BACKOFF_MS)--> reconnecting --ok--> ready
 *   reconnecting --error--> lost (next backoff), or failed after RECONNECT_GIVE_UP_MS or on a
 *                            host-key / login refusal (retrying cannot fix those)
 *   any --close()--> closed
 * Opening deploys the agent when missing or outdated (deployAgent uploads nothing when the right
 * version is there), starts it detached (it outlives the SSH session, so tasks keep running while
 * the link is down), reads its token over SSH, forwards its control port and checks the handshake
 * version. Reconnecting starts the agent again only if it is no longer running.
 */
import { EventEmitter } from 'node:events';
import { CONTROL_PROTOCOL_VERSION, type AgentInfo, type ControlMethod, type ControlParams, type ControlResult, type ReadyLine } from '../../agent/protocol/control.ts';
import { FERRY_VERSION } from '../../agent/version.ts';
import type { PlanHost } from '../contract/plan.ts';
import { AgentCallError, ControlClient } from '../engine-host/control-client.ts';
import { startAgent } from '../hosts/agent-control.ts';
import { DEFAULT_AGENT_HOME } from '../hosts/agent-layout.ts';
import { deployAgent, type AgentLocalFiles, type DeployResult } from '../hosts/deploy.ts';
import { SshError, isSshError } from '../ssh/errors.ts';
import type { ForwardHandle } from '../ssh/forward.ts';
import type { ByteCounters, SshSession } from '../ssh/session.ts';
import { shPath } from '../ssh/shell.ts';

/** Waits between reconnect attempts; the last value repeats. */
export const RECONNECT_BACKOFF_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15_000];
/** A link that stays down this long is given up (the task keeps running on the hosts). */
export const RECONNECT_GIVE_UP_MS = 10 * 60_000;
/** A control call that gets no answer within this is treated as a dead link. */
export const CONTROL_CALL_TIMEOUT_MS = 20_000;
/** The agents' data-plane port on every host (open it between the hosts, not to the workstation). */
export const DEFAULT_AGENT_DATA_PORT = 7471;

export type LinkState = 'idle' | 'connecting' | 'ready' | 'lost' | 'reconnecting' | 'failed' | 'closed';

export interface AgentLinkOptions {
  host: PlanHost;
  /** Opens a new SSH session to the host (HostConnector.connect). */
  connect: () => Promise<SshSession>;
  version: string;
  localFiles: AgentLocalFiles;
  home?: string;
  dataPort?: number;
  backoffMs?: readonly number[];
  giveUpMs?: number;
  callTimeoutMs?: number;
}

export type LinkEvent =
  | { type: 'deployed'; host: string; deploy: DeployResult }
  | { type: 'agent-started'; host: string; pid: number; alreadyRunning: boolean; replacedVersion?: string }
  | { type: 'lost'; host: string; reason: string }
  | { type: 'restored'; host: string; pid: number; agentRestarted: boolean; attempts: number }
  | { type: 'failed'; host: string; reason: string };

export class LinkFailedError extends Error {
  override name = 'LinkFailedError';
}

interface Connected {
  session: SshSession;
  forward: ForwardHandle;
  client: ControlClient;
  ready: ReadyLine;
  info: AgentInfo;
}

const FATAL_SSH_CODES = new Set(['host-key-changed', 'host-key-revoked', 'host-key-unknown', 'auth-failed', 'key-passphrase-wrong', 'key-file-unreadable', 'key-passphrase-needed']);

export class AgentLink extends EventEmitter {
  readonly name: string;
  private readonly opts: AgentLinkOptions;
  private stateValue: LinkState = 'idle';
  private current: Connected | null = null;
  private waiters: Array<{ resolve: (c: Connected) => void; reject: (e: Error) => void }> = [];
  private failure: Error | null = null;
  /** Bytes of sessions already closed (a link's total survives reconnects). */
  private closedBytes: ByteCounters = { sent: 0, received: 0 };
  private lostAt = 0;
  private reconnecting = false;
  private lastAgentId: string | null = null;
  reconnects = 0;

  constructor(opts: AgentLinkOptions) {
    super();
    this.opts = opts;
    this.name = opts.host.name;
  }

  override emit(event: 'event', e: LinkEvent): boolean {
    return super.emit(event, e);
  }

  /** A method, not a narrowed field read: close() may run while an await is pending. */
  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  get state(): LinkState {
    return this.stateValue;
  }

  /** The agent's pid as last seen. */
  get agentPid(): number | null {
    return this.current?.ready.pid ?? null;
  }

  /** The agent's id as last seen (it survives agent restarts: the identity is on the host). */
  get agentId(): string | null {
    return this.current?.ready.agentId ?? this.lastAgentId;
  }

  /** The agent's data port as last seen. */
  get dataPort(): number | null {
    return this.current?.ready.dataPort ?? null;
  }

  /**
   * Bytes over this host's SSH transport so far, across reconnects. For a host behind a jump host
   * this is the jump host's TCP connection: what actually crossed the workstation's network.
   */
  bytes(): ByteCounters {
    const live = this.current ? wireBytes(this.current.session) : { sent: 0, received: 0 };
    return { sent: this.closedBytes.sent + live.sent, received: this.closedBytes.received + live.received };
  }

  /** First connection: deploys, starts, forwards, checks the version. Throws what went wrong. */
  async open(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error(`The link to ${this.name} was opened already.`);
    this.stateValue = 'connecting';
    try {
      const c = await this.establish(true);
      if (this.isClosed()) {
        this.closedBytes = addBytes(this.closedBytes, wireBytes(c.session));
        await this.dispose(c);
        throw new LinkFailedError(`The link to ${this.name} was closed while it connected.`);
      }
      this.becomeReady(c);
    } catch (err) {
      if (this.isClosed()) throw err;
      this.stateValue = 'failed';
      this.failure = err as Error;
      throw err;
    }
  }

  /** Calls the agent; waits while the link reconnects; rejects when the link failed or closed. */
  async call<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    const c = await this.connected();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        c.client.call(method, params),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new SshError('timeout', `The agent on ${this.name} did not answer ${method} within ${Math.round((this.opts.callTimeoutMs ?? CONTROL_CALL_TIMEOUT_MS) / 1000)} s.`)), this.opts.callTimeoutMs ?? CONTROL_CALL_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      // The agent's own answer (unknown task, bad request…) is not a broken link.
      if (!(err instanceof AgentCallError)) this.markLost(c, err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads a file of the host over the link's SSH session (SFTP), e.g. the task's report. */
  async readFile(remotePath: string): Promise<Buffer> {
    const c = await this.connected();
    const sftp = await c.session.sftp();
    return new Promise((resolve, reject) => {
      sftp.readFile(remotePath, (err: Error | null | undefined, data: Buffer) => {
        if (err) reject(new Error(`Ferry could not read ${remotePath} on ${this.name} (${err.message}).`));
        else resolve(data);
      });
    });
  }

  /** Closes the SSH session (the agent keeps running on the host). */
  async close(): Promise<void> {
    const c = this.current;
    this.stateValue = 'closed';
    this.current = null;
    this.rejectWaiters(new LinkFailedError(`The link to ${this.name} is closed.`));
    if (c) {
      await this.dispose(c);
      this.closedBytes = addBytes(this.closedBytes, wireBytes(c.session));
    }
  }

  private connected(): Promise<Connected> {
    if (this.stateValue === 'ready' && this.current) return Promise.resolve(this.current);
    if (this.stateValue === 'failed' || this.stateValue === 'closed' || this.stateValue === 'idle') {
      return Promise.reject(this.failure ?? new LinkFailedError(`The link to ${this.name} is ${this.stateValue}.`));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private becomeReady(c: Connected): void {
    this.current = c;
    this.lastAgentId = c.ready.agentId;
    this.stateValue = 'ready';
    c.session.once('close', (info) => {
      if (!info.expected) this.markLost(c, info.error?.message ?? 'the SSH connection closed');
    });
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(c);
  }

  private rejectWaiters(err: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private markLost(c: Connected, reason: string): void {
    if (this.current !== c || this.stateValue !== 'ready') return;
    this.current = null;
    this.stateValue = 'lost';
    this.lostAt = Date.now();
    this.closedBytes = addBytes(this.closedBytes, wireBytes(c.session));
    this.emit('event', { type: 'lost', host: this.name, reason });
    void this.dispose(c);
    void this.reconnectLoop(c.ready.pid);
  }

  private async reconnectLoop(previousPid: number): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const backoff = this.opts.backoffMs ?? RECONNECT_BACKOFF_MS;
    const giveUp = this.opts.giveUpMs ?? RECONNECT_GIVE_UP_MS;
    try {
      for (let attempt = 1; ; attempt++) {
        await new Promise((r) => setTimeout(r, backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1000));
        if (this.stateValue === 'closed') return;
        this.stateValue = 'reconnecting';
        try {
          const c = await this.establish(false);
          if (this.stateValue !== 'reconnecting') {
            this.closedBytes = addBytes(this.closedBytes, wireBytes(c.session));
            await this.dispose(c);
            return;
          }
          this.reconnects++;
          this.becomeReady(c);
          this.emit('event', { type: 'restored', host: this.name, pid: c.ready.pid, agentRestarted: c.ready.pid !== previousPid, attempts: attempt });
          return;
        } catch (err) {
          if (this.stateValue !== 'reconnecting') return;
          const message = err instanceof Error ? err.message : String(err);
          const fatal = isSshError(err) && FATAL_SSH_CODES.has(err.code);
          if (fatal || Date.now() - this.lostAt > giveUp) {
            const reason = fatal ? message : `${this.name} stayed unreachable for ${Math.round((Date.now() - this.lostAt) / 1000)} s (last error: ${message}). The task keeps running on the hosts; run the same command again to reattach.`;
            this.stateValue = 'failed';
            this.failure = new LinkFailedError(reason);
            this.emit('event', { type: 'failed', host: this.name, reason });
            this.rejectWaiters(this.failure);
            return;
          }
          this.stateValue = 'lost';
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** SSH session → (deploy) → start → token → forward → control client → version check. */
  private async establish(deploy: boolean): Promise<Connected> {
    const { opts } = this;
    const home = opts.home ?? DEFAULT_AGENT_HOME;
    const session = await opts.connect();
    let forward: ForwardHandle | null = null;
    let client: ControlClient | null = null;
    try {
      if (deploy) {
        const deployed = await deployAgent(session, { version: opts.version, localFiles: opts.localFiles, home });
        this.emit('event', { type: 'deployed', host: this.name, deploy: deployed });
      }
      const started = await startAgent(session, { version: opts.version, home, dataListen: `0.0.0.0:${opts.dataPort ?? DEFAULT_AGENT_DATA_PORT}` });
      if (deploy || !started.alreadyRunning) {
        const event: LinkEvent = { type: 'agent-started', host: this.name, pid: started.pid, alreadyRunning: started.alreadyRunning };
        if (started.replacedVersion) event.replacedVersion = started.replacedVersion;
        this.emit('event', event);
      }
      const token = await readAgentToken(session, home);
      forward = await session.forwardLocal('127.0.0.1', started.ready.controlPort);
      client = await ControlClient.connect(forward.port, token);
      const info = await client.call('agent.info', {});
      if (info.protocolVersion !== CONTROL_PROTOCOL_VERSION || info.version !== FERRY_VERSION) {
        throw new LinkFailedError(
          `The agent on ${this.name} is version ${info.version} (control protocol ${info.protocolVersion}); this Ferry is ${FERRY_VERSION} (protocol ${CONTROL_PROTOCOL_VERSION}). Stop the old agent on the host (or let Ferry upgrade it by deploying again), then retry.`,
        );
      }
      return { session, forward, client, ready: started.ready, info };
    } catch (err) {
      client?.close();
      await forward?.close().catch(() => undefined);
      this.closedBytes = addBytes(this.closedBytes, wireBytes(session));
      await session.close().catch(() => undefined);
      throw err;
    }
  }

  private async dispose(c: Connected): Promise<void> {
    c.client.close();
    await c.forward.close().catch(() => undefined);
    await c.session.close().catch(() => undefined);
  }
}

/** What crossed the workstation's own network for this session (its jump session's socket when it has one). */
function wireBytes(session: SshSession): ByteCounters {
  return session.jump ? session.jump.bytes : session.bytes;
}

function addBytes(a: ByteCounters, b: ByteCounters): ByteCounters {
  return { sent: a.sent + b.sent, received: a.received + b.received };
}

async function readAgentToken(session: SshSession, home: string): Promise<string> {
  const r = await session.exec(`cat ${shPath(`${home}/agent.json`)}`, { timeoutMs: 15_000 });
  try {
    const token = (JSON.parse(r.stdout.toString('utf8')) as { token?: unknown }).token;
    if (typeof token === 'string' && token.length >= 16) return token;
  } catch {
    // fall through
  }
  throw new LinkFailedError(`Ferry could not read the agent's token from ${home}/agent.json on ${session.label} (${r.stderr.toString('utf8').trim() || 'not a valid agent file'}). Check that the agent started there, or remove the file so the agent creates a new identity.`);
}
