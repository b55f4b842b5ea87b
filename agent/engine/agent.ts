/**
 * One agent process: its identity (home), its control API (127.0.0.1) and its TLS listener, which
 * serves both coordinator channels (workers dialing a coordinator hosted here) and data channels
 * (sources streaming to a destination worker here), told apart by the HELLO. Hosts any number of
 * task roles; on start it resumes every task found in its home (coordinator journals, saved joins),
 * so `kill -9` and a restart with the same --home picks up where it stopped.
 * Never decides what to copy (coordinator) nor touches files itself (workers).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { Connection, serverHandshake } from '../net/connection.ts';
import { createTlsServer } from '../net/tls.ts';
import { WireError } from '../net/wire-error.ts';
import { WIRE_PROTOCOL_VERSION } from '../protocol/wire.ts';
import type { Hello, Welcome } from '../protocol/wire.ts';
import { CONTROL_PROTOCOL_VERSION } from '../protocol/control.ts';
import type { AgentInfo, ReadyLine } from '../protocol/control.ts';
import { TaskSpec } from '../protocol/task.ts';
import { ControlFailure, startControlServer } from '../control/server.ts';
import type { ControlHandlers } from '../control/server.ts';
import { loadOrCreateAgentIdentity } from '../control/identity.ts';
import type { AgentIdentity } from '../control/identity.ts';
import { isNativeAvailable } from '../fs/native.ts';
import { FERRY_VERSION } from '../version.ts';
import { Coordinator } from './coordinator.ts';
import { Worker, readJoinFile } from './worker.ts';
import type { JoinInfo } from './worker.ts';

export interface AgentOptions {
  home: string;
  controlPort: number;
  dataHost: string;
  dataPort: number;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Constant-time comparison: the time a wrong token takes to refuse says nothing about the right one. */
function tokensMatch(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One stderr line for a peer that broke the wire protocol (the operator's only trace of it). */
function logWireError(socket: tls.TLSSocket, err: unknown): void {
  if (!(err instanceof WireError)) return;
  process.stderr.write(`ferry agent: refused a connection from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: ${err.code}: ${err.message}\n`);
}

export class Agent {
  readonly id: AgentIdentity;
  private readonly opts: AgentOptions;
  private readonly coordinators = new Map<string, Coordinator>();
  private readonly workers = new Map<string, Worker>();
  private dataServer: tls.Server | null = null;
  private controlServer: net.Server | null = null;
  private dataPort = 0;

  constructor(opts: AgentOptions) {
    this.opts = opts;
    this.id = loadOrCreateAgentIdentity(opts.home);
  }

  private tasksDir(): string {
    return path.join(this.opts.home, 'tasks');
  }

  private joinsDir(): string {
    return path.join(this.opts.home, 'joins');
  }

  async start(): Promise<ReadyLine> {
    this.dataServer = createTlsServer(this.id.tls, (socket) => this.onDataSocket(socket));
    await new Promise<void>((resolve, reject) => {
      const server = this.dataServer as tls.Server;
      server.once('error', reject);
      server.listen(this.opts.dataPort, this.opts.dataHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = this.dataServer.address();
    this.dataPort = typeof addr === 'object' && addr ? addr.port : 0;
    this.resumeTasks();
    this.controlServer = await startControlServer(this.opts.controlPort, this.id.token, { version: FERRY_VERSION, agentId: this.id.agentId }, this.handlers());
    const caddr = this.controlServer.address();
    return {
      ready: true,
      controlPort: typeof caddr === 'object' && caddr ? caddr.port : 0,
      dataPort: this.dataPort,
      fingerprint: this.id.tls.fingerprint,
      version: FERRY_VERSION,
      agentId: this.id.agentId,
      pid: process.pid,
    };
  }

  async stop(): Promise<void> {
    for (const w of this.workers.values()) w.stop();
    for (const c of this.coordinators.values()) c.close();
    this.controlServer?.close();
    this.dataServer?.close();
  }

  /** Reopens coordinator journals and saved joins found in the home. */
  private resumeTasks(): void {
    for (const dir of safeReaddir(this.tasksDir())) {
      const specFile = path.join(this.tasksDir(), dir, 'task.json');
      try {
        const saved = JSON.parse(fs.readFileSync(specFile, 'utf8')) as { spec: unknown; token: string };
        const spec = TaskSpec.parse(saved.spec);
        this.openCoordinator(spec, saved.token);
      } catch {
        // not a task directory (or an archived one)
      }
    }
    for (const file of safeReaddir(this.joinsDir())) {
      const join = readJoinFile(path.join(this.joinsDir(), file));
      if (join) this.startWorker(join);
    }
  }

  private openCoordinator(spec: TaskSpec, token: string): Coordinator {
    const c = new Coordinator({ dir: path.join(this.tasksDir(), spec.taskId), spec, token });
    this.coordinators.set(spec.taskId, c);
    setImmediate(() => c.pump());
    return c;
  }

  private startWorker(join: JoinInfo): void {
    const key = `${join.taskId}/${join.role}`;
    this.workers.get(key)?.stop();
    const w = new Worker(
      { agentId: this.id.agentId, version: FERRY_VERSION, tls: this.id.tls, dataPort: () => this.dataPort, isRoot },
      join,
      () => this.leave(join.taskId, join.role),
    );
    this.workers.set(key, w);
    w.start();
  }

  private leave(taskId: string, role: string): void {
    const key = `${taskId}/${role}`;
    this.workers.get(key)?.stop();
    this.workers.delete(key);
    fs.rmSync(path.join(this.joinsDir(), `${taskId}.${role}.json`), { force: true });
  }

  // ------------------------------------------------------------------ TLS listener

  private onDataSocket(socket: tls.TLSSocket): void {
    const conn = new Connection(socket);
    socket.on('error', () => undefined);
    serverHandshake(conn, (hello) => this.admit(hello)).then(
      (hello) => {
        conn.onClose((err) => logWireError(socket, err));
        if (hello.channel === 'worker') this.coordinators.get(hello.taskId)?.attachWorker(conn, hello);
        else this.workers.get(`${hello.taskId}/destination`)?.acceptData(conn);
      },
      (err: unknown) => logWireError(socket, err), // the peer got a REJECT with the reason too
    );
  }

  private admit(hello: Hello): Welcome {
    if (hello.channel === 'worker') {
      const c = this.coordinators.get(hello.taskId);
      if (!c) throw new WireError('unknown-task', `This agent coordinates no task "${hello.taskId}".`);
      if (!tokensMatch(hello.token, c.token)) throw new WireError('bad-token', `Wrong task token for task "${hello.taskId}".`);
      if (!hello.role) throw new WireError('bad-hello', 'A worker HELLO must say its role.');
    } else {
      const w = this.workers.get(`${hello.taskId}/destination`);
      if (!w || !w.acceptsData) throw new WireError('unknown-task', `This agent is not a destination of task "${hello.taskId}" (or it stopped).`);
      if (!tokensMatch(hello.token, w.join.token)) throw new WireError('bad-token', `Wrong task token for task "${hello.taskId}".`);
    }
    return { protocolVersion: WIRE_PROTOCOL_VERSION, agentId: this.id.agentId, agentVersion: FERRY_VERSION };
  }

  // ------------------------------------------------------------------ control API

  private coordinator(taskId: string): Coordinator {
    const c = this.coordinators.get(taskId);
    if (!c) throw new ControlFailure('unknown-task', `This agent coordinates no task "${taskId}".`);
    return c;
  }

  info(): AgentInfo {
    return {
      agentId: this.id.agentId,
      version: FERRY_VERSION,
      protocolVersion: CONTROL_PROTOCOL_VERSION,
      dataPort: this.dataPort,
      fingerprint: this.id.tls.fingerprint,
      pid: process.pid,
      isRoot,
      maxRss: peakRss(),
      nativeAddon: isNativeAvailable(),
      tasks: [
        ...[...this.coordinators.keys()].map((taskId) => ({ taskId, role: 'coordinator' as const })),
        ...[...this.workers.values()].map((w) => ({ taskId: w.join.taskId, role: w.join.role })),
      ],
    };
  }

  private handlers(): ControlHandlers {
    return {
      'agent.info': () => this.info(),
      'agent.shutdown': () => {
        setTimeout(() => {
          void this.stop().then(() => process.exit(0));
        }, 20);
        return {};
      },
      'task.create': ({ spec, token, restartIfDone }) => {
        let c = this.coordinators.get(spec.taskId);
        let resumed = true;
        if (c && !c.sameSpec(spec)) throw new ControlFailure('task-exists', `A different task "${spec.taskId}" already exists on this agent.`);
        if (c && c.finished && restartIfDone) {
          c.close();
          this.coordinators.delete(spec.taskId);
          const dir = path.join(this.tasksDir(), spec.taskId);
          fs.renameSync(dir, `${dir}.done-${new Date().toISOString().replace(/[:.]/g, '-')}`);
          c = undefined;
        }
        if (!c) {
          resumed = false;
          const dir = path.join(this.tasksDir(), spec.taskId);
          fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
          const t = token ?? randomBytes(24).toString('hex');
          const specFile = path.join(dir, 'task.json');
          if (!fs.existsSync(specFile)) fs.writeFileSync(specFile, JSON.stringify({ spec, token: t }), { mode: 0o600 });
          const saved = JSON.parse(fs.readFileSync(specFile, 'utf8')) as { token: string };
          c = this.openCoordinator(spec, saved.token);
        } else if (c.isFinal() && !c.finished) {
          c.resume(); // failed or cancelled: running the same task again retries it
        }
        return {
          taskId: spec.taskId,
          token: c.token,
          coordinator: { host: this.opts.dataHost === '0.0.0.0' ? '127.0.0.1' : this.opts.dataHost, port: this.dataPort, fingerprint: this.id.tls.fingerprint },
          resumed,
          finished: c.finished,
        };
      },
      'task.join': (p) => {
        const join: JoinInfo = { taskId: p.taskId, role: p.role, root: p.root, coordinator: p.coordinator, token: p.token, advertiseHost: p.advertiseHost };
        fs.mkdirSync(this.joinsDir(), { recursive: true, mode: 0o700 });
        const file = path.join(this.joinsDir(), `${p.taskId}.${p.role}.json`);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(join), { mode: 0o600 });
        fs.renameSync(`${file}.tmp`, file);
        const existing = this.workers.get(`${p.taskId}/${p.role}`);
        if (!existing || JSON.stringify(existing.join) !== JSON.stringify(join)) this.startWorker(join);
        return { ok: true as const };
      },
      'task.leave': ({ taskId }) => {
        this.leave(taskId, 'source');
        this.leave(taskId, 'destination');
        return { ok: true as const };
      },
      'task.status': ({ taskId }) => this.coordinator(taskId).status(),
      'task.wait': async ({ taskId, waitMs }) => {
        const c = this.coordinator(taskId);
        await c.untilFinal(waitMs);
        return c.status();
      },
      'task.pause': ({ taskId }) => {
        const c = this.coordinator(taskId);
        c.pause();
        return c.status();
      },
      'task.resume': ({ taskId }) => {
        const c = this.coordinator(taskId);
        c.resume();
        return c.status();
      },
      'task.cancel': ({ taskId }) => {
        const c = this.coordinator(taskId);
        c.cancel();
        return c.status();
      },
      'task.report': ({ taskId }) => {
        const c = this.coordinator(taskId);
        if (!fs.existsSync(c.reportFile)) throw new ControlFailure('invalid-state', `Task "${taskId}" has no report yet (state ${c.status().state}).`);
        return { path: c.reportFile, ...c.reportSummary() };
      },
    };
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * This process's own peak RSS in bytes: VmHWM, which exec resets. getrusage's maxrss is not used on
 * Linux because a child starts with its parent's peak, so every agent of a big launcher looked big.
 */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}
