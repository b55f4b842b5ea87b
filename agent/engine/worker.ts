/**
 * A source or destination worker of one task on this agent. Keeps a channel to the task's coordinator
 * (pinned TLS, task token; reconnects with backoff for as long as the task is joined), runs the jobs it
 * is given and reports their results:
 *   source:      list directories (optionally with SHA-256 for full verification), copy batches to a
 *                destination over pooled data connections;
 *   destination: accept data connections (DestSession), probe, hard-link, commit large files whose
 *                ranges are all verified, finish directories, delete
 *                extras, list directories for mirror and verification.
 * The task's root is guarded (MountGuard) before every job and every 2 s; when it stops being the
 * mount it was, the worker stops at once and tells the coordinator (fatal 'mount-lost').
 */
import fs from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Connection, clientHandshake } from '../net/connection.ts';
import { dialPinned } from '../net/tls.ts';
import { WireError } from '../net/wire-error.ts';
import type { TlsIdentity } from '../net/tls.ts';
import { CoordinatorMessage, FrameType, WIRE_PROTOCOL_VERSION } from '../protocol/wire.ts';
import type { DataTarget, ItemResult, ProbeResult, StagingRef, WireEntry, WireEntryError, WorkerMessage } from '../protocol/wire.ts';
import { parseJsonPayload } from '../net/connection.ts';
import { MountGuard } from '../fs/mount-guard.ts';
import { statEntry } from '../fs/meta.ts';
import { listDirSync } from '../fs/walk.ts';
import { sha256File } from '../fs/hash.ts';
import { classify } from '../fs/errors.ts';
import { joinRel } from '../fs/relpath.ts';
import { TokenBucket } from './bandwidth.ts';
import { DataPool } from './data-pool.ts';
import { DestSession } from './dest-session.ts';
import { DestTree } from './dest-tree.ts';
import { describeError } from './errors.ts';
import { BatchSender } from './source-sender.ts';
import { b64, metaFromWire, metaToWire, unb64 } from './wire-meta.ts';

export interface JoinInfo {
  taskId: string;
  role: 'source' | 'destination';
  root: string;
  coordinator: { host: string; port: number; fingerprint: string };
  token: string;
  advertiseHost?: string | undefined;
}

export interface AgentContext {
  agentId: string;
  version: string;
  tls: TlsIdentity;
  dataPort: () => number;
  isRoot: boolean;
}

type Settings = Extract<CoordinatorMessage, { t: 'setup' }>['settings'];

const LIST_CHUNK = 1000;
const GUARD_INTERVAL_MS = 2000;

export class Worker {
  readonly join: JoinInfo;
  private readonly ctx: AgentContext;
  private guard: MountGuard | null = null;
  private tree: DestTree | null = null;
  private channel: Connection | null = null;
  private settings: Settings | null = null;
  private pool: DataPool;
  private bucket = new TokenBucket(null);
  private readonly sessions = new Set<DestSession>();
  private stopped = false;
  private fatal: { code: string; message: string } | null = null;
  private backoff = 250;
  private batchSeq = 1;
  private readonly onEnded: () => void;

  constructor(ctx: AgentContext, join: JoinInfo, onEnded: () => void) {
    this.ctx = ctx;
    this.join = join;
    this.onEnded = onEnded;
    this.pool = new DataPool({ taskId: join.taskId, token: join.token, agentId: ctx.agentId, agentVersion: ctx.version });
  }

  start(): void {
    try {
      this.guard = new MountGuard(this.join.root, { role: this.join.role });
      if (this.join.role === 'destination') this.tree = new DestTree(this.guard, this.join.taskId);
      this.guard.start(GUARD_INTERVAL_MS, (err) => this.raiseFatal('mount-lost', err.message));
    } catch (err) {
      const e = classify(err);
      this.fatal = { code: 'root-unusable', message: `The ${this.join.role} root ${this.join.root} cannot be used: ${e.message}` };
    }
    void this.connectLoop();
  }

  /** Leaves the task: no reconnects, sessions closed. */
  stop(): void {
    this.stopped = true;
    this.guard?.stop();
    this.channel?.close(null);
    for (const s of this.sessions) s.stop();
    this.sessions.clear();
    this.pool.closeAll();
  }

  /** Whether a data connection for this task may be accepted (destination, not stopped). */
  get acceptsData(): boolean {
    return this.join.role === 'destination' && !this.stopped && !this.fatal && this.tree !== null;
  }

  acceptData(conn: Connection): void {
    if (!this.tree || !this.acceptsData) {
      conn.close(new Error('not accepting data'));
      return;
    }
    const s: DestSession = new DestSession(this.tree, conn, {
      owner: this.settings?.preserveOwner ?? true,
      fsync: this.settings?.fsync ?? true,
      readBack: (this.settings?.verify ?? 'transferred') === 'transferred',
      onFatal: (code, message) => this.raiseFatal(code, message),
    });
    this.sessions.add(s);
    conn.onClose(() => this.sessions.delete(s));
  }

  private raiseFatal(code: string, message: string): void {
    if (this.fatal) return;
    // The guard words a lost mount best (role and root, what changed): prefer its message.
    if (code === 'mount-lost') message = this.guardMessage() ?? message;
    this.fatal = { code, message };
    for (const s of this.sessions) s.stop();
    this.sessions.clear();
    this.pool.closeAll();
    this.sendMsg({ t: 'fatal', code, message });
  }

  /** The guard's own message when the root is not the mount it was, else null. */
  private guardMessage(): string | null {
    try {
      this.guard?.check();
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : null;
    }
  }

  private sendMsg(msg: WorkerMessage): void {
    this.channel?.sendJson(msg);
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connectOnce();
        this.backoff = 250;
      } catch (err) {
        if (err instanceof WireError && (err.code === 'protocol-mismatch' || err.code === 'wrong-certificate' || err.code === 'bad-token')) {
          // Not transient: keep trying slowly (the operator may upgrade or re-pair), but say why.
          process.stderr.write(`ferry agent: task ${this.join.taskId}: ${err.message}\n`);
          this.backoff = 10_000;
        }
      }
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, this.backoff));
      this.backoff = Math.min(this.backoff * 2, 5000);
    }
  }

  /** One session with the coordinator; resolves when it ends. */
  private async connectOnce(): Promise<void> {
    const socket = await dialPinned(this.join.coordinator);
    const conn = new Connection(socket);
    const hello = {
      protocolVersion: WIRE_PROTOCOL_VERSION,
      channel: 'worker' as const,
      taskId: this.join.taskId,
      token: this.join.token,
      agentId: this.ctx.agentId,
      agentVersion: this.ctx.version,
      role: this.join.role,
      isRoot: this.ctx.isRoot,
      ...(this.join.role === 'destination'
        ? { dataAddress: { host: this.join.advertiseHost ?? '127.0.0.1', port: this.ctx.dataPort(), fingerprint: this.ctx.tls.fingerprint } }
        : {}),
    };
    await clientHandshake(conn, hello);
    this.channel = conn;
    this.backoff = 250;
    const ended = new Promise<void>((resolve) => conn.onClose(() => resolve()));
    conn.onFrame((f) => {
      if (f.type !== FrameType.json) throw new WireError('bad-frame', `Unexpected frame type ${f.type} from the coordinator.`);
      const msg = CoordinatorMessage.safeParse(parseJsonPayload(f.payload));
      if (!msg.success) throw new WireError('bad-frame', 'A malformed coordinator message.');
      this.onMessage(msg.data);
    });
    if (this.fatal) this.sendMsg({ t: 'fatal', ...this.fatal });
    await ended;
    if (this.channel === conn) this.channel = null;
  }

  private onMessage(msg: CoordinatorMessage): void {
    switch (msg.t) {
      case 'setup':
        this.settings = msg.settings;
        this.bucket = new TokenBucket(msg.settings.bwlimit);
        return;
      case 'stop':
        this.stop();
        if (msg.discard) this.removeStaging(msg.discard);
        this.onEnded();
        return;
      case 'pause':
        return;
      default:
        void this.runJob(msg);
    }
  }

  private async runJob(msg: Exclude<CoordinatorMessage, { t: 'setup' | 'stop' | 'pause' }>): Promise<void> {
    if (this.fatal) return;
    try {
      this.guard?.checkDev();
      switch (msg.t) {
        case 'list':
          return await this.runList(msg.job, msg.dirs, msg.hash);
        case 'copy':
          return await this.runCopy(msg.job, msg.dest, msg.items);
        case 'probe':
          return this.sendMsg({ t: 'probed', job: msg.job, results: msg.items.map((i) => this.probeOne(unb64(i.rel), i.id, i.hash, i.size)) });
        case 'link':
          return this.sendMsg({ t: 'applied', job: msg.job, results: msg.items.map((i) => this.apply(i.id, () => this.destTree().makeHardLink(unb64(i.rel), unb64(i.target)))) });
        case 'dirs': {
          const owner = this.settings?.preserveOwner ?? true;
          return this.sendMsg({ t: 'applied', job: msg.job, results: msg.items.map((i) => this.apply(i.id, () => this.destTree().finishDir(unb64(i.rel), metaFromWire(i.meta), owner))) });
        }
        case 'commit': {
          const opts = { owner: this.settings?.preserveOwner ?? true, fsync: this.settings?.fsync ?? true };
          const results: ItemResult[] = [];
          for (const i of msg.items) results.push(await this.applyAsync(i.id, () => this.destTree().commitStaged(unb64(i.rel), i, metaFromWire(i.meta), opts)));
          return this.sendMsg({ t: 'applied', job: msg.job, results });
        }
        case 'discard':
          return this.sendMsg({ t: 'applied', job: msg.job, results: msg.items.map((i, idx) => this.apply(idx, () => this.destTree().discardStaged(unb64(i.rel), i.stage))) });
        case 'delete':
          return this.sendMsg({ t: 'applied', job: msg.job, results: msg.items.map((i, idx) => this.apply(idx, () => this.destTree().remove(unb64(i.rel)))) });
      }
    } catch (err) {
      const e = describeError(err);
      if (e.scope === 'task') this.raiseFatal(e.code, e.message);
      else this.sendMsg({ t: 'retry', job: msg.job, code: e.code, message: e.message });
    }
  }

  private destTree(): DestTree {
    if (!this.tree) throw new Error('This worker is not a destination.');
    return this.tree;
  }

  /** A cancelled task's staging files, once this destination's own writing has stopped (best effort). */
  private removeStaging(items: StagingRef[]): void {
    if (!this.tree) return;
    for (const i of items) {
      try {
        this.tree.discardStaged(unb64(i.rel), i.stage);
      } catch {
        // e.g. the mount is gone: the next run's final sweep of that directory removes it
      }
    }
  }

  /** Runs one item; per-item failures become results, a lost mount propagates. */
  private apply(id: number, fn: () => void): ItemResult {
    try {
      fn();
      return { id, status: 'ok' };
    } catch (err) {
      return this.itemFailure(id, err);
    }
  }

  private async applyAsync(id: number, fn: () => Promise<void>): Promise<ItemResult> {
    try {
      await fn();
      return { id, status: 'ok' };
    } catch (err) {
      return this.itemFailure(id, err);
    }
  }

  private itemFailure(id: number, err: unknown): ItemResult {
    const e = describeError(err);
    if (e.scope === 'task') throw err;
    this.guard?.checkDev();
    return { id, status: 'failed', code: e.code, reason: e.message };
  }

  private probeOne(rel: Buffer, id: number, wantHash: boolean, size: number): ProbeResult {
    try {
      const st = this.destTree().statRel(rel);
      if (!st) return { id, exists: false };
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      const r: ProbeResult = { id, exists: true, kind, size: kind === 'symlink' ? Number(st.size) : Number(st.size), mtimeNs: st.mtimeNs.toString() };
      if (wantHash && kind === 'file' && Number(st.size) === size) {
        const [parent, name] = this.destTree().parentOfExisting(rel);
        if (parent) r.hash = sha256File(joinRel(parent, name)).toString('hex');
      }
      return r;
    } catch (err) {
      const e = describeError(err);
      if (e.scope === 'task') throw err;
      return { id, exists: false };
    }
  }

  private root(): Buffer {
    return this.guard ? this.guard.realRoot : Buffer.from(this.join.root);
  }

  /** Lists directories in chunks; each directory's own metadata first (as the entry with an empty name). */
  private async runList(job: number, dirs: { id: number; rel: string }[], hash: boolean): Promise<void> {
    for (const d of dirs) {
      const rel = unb64(d.rel);
      let abs: Buffer;
      const errors: WireEntryError[] = [];
      try {
        abs = joinRel(this.root(), rel);
        const self = statEntry(abs);
        if (self.kind !== 'dir') throw Object.assign(new Error('It is no longer a directory.'), { code: 'ENOTDIR' });
        let chunk: WireEntry[] = [{ name: '', meta: metaToWire(self) }];
        let hashes: Record<string, string> | undefined = hash ? {} : undefined;
        for (const batch of listDirSync(abs, { batchSize: LIST_CHUNK, onEntryError: (name, e) => errors.push({ name: b64(name), code: e.code === 'io' ? (e.errno ?? 'io') : e.code, message: e.message }) })) {
          for (const e of batch) {
            const w: WireEntry = { name: b64(e.name), meta: metaToWire(e.meta) };
            if (e.linkTarget) w.target = b64(e.linkTarget);
            chunk.push(w);
            if (hashes && e.meta.kind === 'file') {
              try {
                hashes[w.name] = sha256File(joinRel(abs, e.name)).toString('hex');
              } catch {
                // unreadable now: verification reports it as differing
              }
            }
          }
          if (chunk.length >= LIST_CHUNK) {
            this.sendMsg({ t: 'listed', job, dir: d.id, entries: chunk, errors: errors.splice(0), ...(hashes ? { hashes } : {}), done: false });
            chunk = [];
            hashes = hash ? {} : undefined;
            await this.paceListing();
          }
        }
        // An empty listing of a vanished mount looks like an empty directory: check before trusting it.
        this.guard?.checkDev();
        this.sendMsg({ t: 'listed', job, dir: d.id, entries: chunk, errors, ...(hashes ? { hashes } : {}), done: true });
      } catch (err) {
        const e = describeError(classify(err));
        if (e.scope === 'task') throw err;
        this.guard?.checkDev();
        this.sendMsg({ t: 'listed', job, dir: d.id, entries: [], errors, done: true, error: { code: e.code, message: e.message } });
      }
    }
    this.sendMsg({ t: 'done', job });
  }

  /**
   * Between two chunks of a listing: waits while the channel to the coordinator has a backlog (a
   * directory of millions of entries would otherwise be held in this process's write buffer),
   * else just lets the event loop run.
   */
  private async paceListing(): Promise<void> {
    const ch = this.channel;
    if (ch && !ch.closed && ch.socket.writableNeedDrain) await ch.drain().catch(() => undefined);
    else await yieldToLoop();
  }

  private async runCopy(job: number, dest: DataTarget, items: Extract<CoordinatorMessage, { t: 'copy' }>['items']): Promise<void> {
    let dc;
    try {
      dc = await this.pool.acquire(dest);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.sendMsg({ t: 'retry', job, code: err instanceof WireError ? err.code : 'unreachable', message: `Cannot reach the destination ${dest.host}:${dest.port}: ${e.message}` });
      return;
    }
    try {
      const checkRoot = () => this.guard?.checkDev();
      const sender = new BatchSender(dc.conn, items, { root: this.root(), batch: this.batchSeq++, bucket: this.bucket, checkRoot });
      const results = await sender.run(dc.waitAck);
      this.pool.release(dest, dc);
      this.sendMsg({ t: 'copied', job, results });
    } catch (err) {
      dc.conn.close(null);
      const e = describeError(err);
      if (e.scope === 'task') throw err;
      this.sendMsg({ t: 'retry', job, code: err instanceof WireError ? err.code : 'transfer-failed', message: e.message });
    }
  }
}

/** Reads a worker's saved join (home/joins/<task>.json). */
export function readJoinFile(file: string): JoinInfo | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JoinInfo;
  } catch {
    return null;
  }
}
