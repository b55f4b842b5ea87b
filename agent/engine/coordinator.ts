/**
 * The coordinator of one task: owns its journal, hands work to the connected workers, collects the
 * results and writes the report. Phases, each restartable from the journal after a crash:
 *   copy   list directories (source workers) and copy what they find, as the listings arrive:
 *          small files in batches, large files one per job, files over rangeSize as ranges (one
 *          job each, spread over all workers, then a commit: ranges.ts); probes of the
 *          destination first when the mode needs them (incremental, overwrite policy);
 *   links, mirror, dirs, verify   walks over the journal (tree-phases.ts);
 *   report the report is written; workers are told the task is over.
 * Work is pulled by capacity (each worker has a few job slots), so a slow worker simply gets less;
 * a lost worker's jobs go back to the front of their queues. Nothing in flight is journaled: after a
 * crash it is simply done again, and what the journal calls verified is never copied again.
 * Never touches a task's files itself: all filesystem work happens in workers.
 */
import path from 'node:path';
import { WorkerMessage } from '../protocol/wire.ts';
import type { ItemResult, ProbeResult, CoordinatorMessage, CopyItem, DataTarget, Hello, StagingRef, WireEntry, WireMeta } from '../protocol/wire.ts';
import type { TaskPhase, TaskSpec, TaskState, TaskStatus } from '../protocol/task.ts';
import type { ReportHeader } from '../protocol/report.ts';
import type { Connection } from '../net/connection.ts';
import { parseJsonPayload } from '../net/connection.ts';
import { FrameType } from '../protocol/wire.ts';
import { WireError } from '../net/wire-error.ts';
import { EntryFilter } from './filters.ts';
import { decide, needsProbe } from './decide.ts';
import { D, E, Journal, num } from './journal.ts';
import type { PendingRow } from './journal.ts';
import { computeSummary, passedOf, writeReport } from './report-writer.ts';
import { b64, childRel, depthOf, metaSig, unb64 } from './wire-meta.ts';
import { RangePlanner } from './ranges.ts';
import { TreePhases } from './tree-phases.ts';
import { DEST_SLOTS, DIRS_PER_LIST_JOB, ITEMS_PER_JOB, LIST_SLOTS } from './coordinator-jobs.ts';
import type { Job, JobKind, QueuedFile, WorkerLink } from './coordinator-jobs.ts';
import type { CommitWork, RangeWork } from './ranges.ts';

const SMALL_BATCH_FILES = 256;
const SMALL_BATCH_BYTES = 8 * 1024 * 1024;
/** Files above this travel alone in their job. */
const LARGE_FILE = 64 * 1024 * 1024;
const MAX_ATTEMPTS = 3;
/**
 * At most this many files wait in memory to be copied; the others stay in the journal (state
 * PENDING) and are read back a page at a time, so memory stays bounded however many entries one
 * directory holds or a resumed task has left.
 */
const READY_MAX = positiveIntFromEnv('FERRY_READY_MAX') ?? 20_000;
const REFILL_PAGE = Math.max(1, Math.floor(READY_MAX / 5));

/** A tuning knob from the environment (tests set a small ready queue to exercise the refill). */
function positiveIntFromEnv(name: string): number | null {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : null;
}

function workerKey(w: { role: string; agentId: string }): string {
  return `${w.role}:${w.agentId}`;
}

function isLarge(f: QueuedFile): boolean {
  return f.split || (f.item.size > LARGE_FILE && f.item.kind === 'file');
}

export interface CoordinatorOptions {
  dir: string;
  spec: TaskSpec;
  token: string;
  /** Called when the task reaches a final state (report written). */
  onFinished?: (status: TaskStatus) => void;
}

/**
 * Failures a file or range is tried again for (up to MAX_ATTEMPTS): an ack that never came, a
 * connection cut mid-batch, bytes damaged on the way or on the disk (a mismatch may well not recur).
 */
const RETRIED_CODES: ReadonlySet<string> = new Set(['no-ack', 'incomplete', 'hash-mismatch']);

/** At most this many bytes of staging-file names go with a cancel's stop (one frame); the rest wait for a final sweep. */
const MAX_CANCEL_NAME_BYTES = 4 * 1024 * 1024;

function fitInStop(names: StagingRef[]): StagingRef[] {
  let bytes = 0;
  const fit = names.findIndex((n) => (bytes += n.rel.length + n.stage.length + 32) > MAX_CANCEL_NAME_BYTES);
  return fit < 0 ? names : names.slice(0, fit);
}

export class Coordinator {
  readonly spec: TaskSpec;
  readonly token: string;
  readonly dir: string;
  readonly journal: Journal;
  private readonly filter: EntryFilter;
  private readonly ranges: RangePlanner;
  private readonly probe: boolean;
  private readonly workers = new Set<WorkerLink>();
  private readonly jobs = new Map<number, Job>();
  /** File bytes copied per worker ("role:agentId") since this coordinator started; kept across a worker's reconnects. */
  private readonly workerBytes = new Map<string, number>();
  private nextJob = 1;
  private state: TaskState;
  private phase: TaskPhase;
  private message: string | null = null;
  private errorCode: string | null = null;
  private passed: boolean | null = null;
  private readonly startedAt: string;
  private resumes: number;
  private readonly onFinished: ((s: TaskStatus) => void) | undefined;

  // Queues (in memory; rebuilt from the journal on start).
  private dirQueue: number[] = [];
  private probeQueue: number[] = [];
  private readyQueue: QueuedFile[] = [];
  private largeQueue: QueuedFile[] = [];
  /**
   * Set while pending files are left in the journal: every PENDING entry with an id above `after`
   * is in the journal only (never in memory or in flight), every one at or below it is in memory.
   * Ids grow with each entry found, so `after` = the highest id ever queued keeps that true.
   */
  private spill: { after: number } | null = null;
  private maxQueuedId = 0;
  /** The phases after the copy: links, mirror, dirs, verify. */
  private readonly tree: TreePhases;
  private destRR = 0;
  private statsCache: { at: number; validMs: number; value: TaskStatus['progress'] } | null = null;
  private pumping = false;
  /** task.wait callers, woken when the task becomes final. */
  private readonly finalWaiters = new Set<() => void>();

  constructor(opts: CoordinatorOptions) {
    this.spec = opts.spec;
    this.token = opts.token;
    this.dir = opts.dir;
    this.onFinished = opts.onFinished;
    this.journal = new Journal(opts.dir);
    this.ranges = new RangePlanner(this.journal, this.spec.taskId, this.token, this.spec.rangeSize);
    this.filter = new EntryFilter(this.spec);
    this.tree = new TreePhases({
      journal: this.journal,
      spec: this.spec,
      filter: this.filter,
      sources: () => this.sources(),
      destinations: () => this.destinations(),
      jobsOf: (w, kind) => this.jobsOf(w, kind),
      busy: () => this.jobs.size > 0,
      startJob: (kind, w, ids, extra) => this.startJob(kind, w, ids, extra),
      send: (w, msg) => this.send(w, msg),
    });
    this.probe = needsProbe(this.spec);
    const j = this.journal;
    const fresh = j.get('spec') === null;
    if (fresh) {
      j.tx(() => {
        j.set('spec', JSON.stringify(this.spec));
        j.set('state', 'running');
        j.set('phase', 'copy');
        j.set('startedAt', new Date().toISOString());
        j.set('resumes', '0');
        j.addDir(Buffer.alloc(0), 0, rootPlaceholderMeta());
      });
    }
    this.state = (j.get('state') as TaskState) ?? 'running';
    this.phase = (j.get('phase') as TaskPhase) ?? 'copy';
    this.startedAt = j.get('startedAt') ?? new Date().toISOString();
    this.resumes = Number(j.get('resumes') ?? '0');
    const err = j.get('error');
    if (err) ({ code: this.errorCode, message: this.message } = JSON.parse(err) as { code: string; message: string });
    if (this.state === 'done') this.passed = j.get('passed') === 'true';
    if (!fresh && !this.isFinal()) this.countResume();
    else this.nextJob = this.resumes * 2 ** 32 + 1;
    this.loadQueues();
  }

  /** Same definition? (task.create with an existing id must carry the same spec). */
  sameSpec(other: TaskSpec): boolean {
    return JSON.stringify(other) === this.journal.get('spec');
  }

  isFinal(): boolean {
    return this.state === 'done' || this.state === 'failed' || this.state === 'cancelled';
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  get reportFile(): string {
    return path.join(this.dir, 'report.json');
  }

  close(): void {
    for (const w of this.workers) w.conn.close(null);
    this.journal.close();
    this.wakeWaiters(); // their status call fails now, not waitMs later
  }

  // ---------------------------------------------------------------- status and commands

  /** Resolves once the task is final, or after ms, whichever comes first (never rejects). */
  untilFinal(ms: number): Promise<void> {
    if (this.isFinal()) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.finalWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.finalWaiters.add(wake);
    });
  }

  private wakeIfFinal(): void {
    if (this.isFinal()) this.wakeWaiters();
  }

  private wakeWaiters(): void {
    for (const wake of [...this.finalWaiters]) wake();
  }

  status(): TaskStatus {
    return {
      taskId: this.spec.taskId,
      state: this.state,
      phase: this.phase,
      message: this.message,
      errorCode: this.errorCode,
      workers: [...this.workers].map((w) => ({ agentId: w.agentId, role: w.role, inflight: w.jobs.size, bytesDone: this.workerBytes.get(workerKey(w)) ?? 0 })),
      progress: this.progress(),
      departedWorkers: this.departedWorkers(),
      passed: this.passed,
      startedAt: this.startedAt,
      resumes: this.resumes,
    };
  }

  private progress(): TaskStatus['progress'] {
    const now = Date.now();
    // Counting is a scan of the journal, exact once final. While running it is redone at most once a
    // second, and never sooner than 10 times its own duration after, so that on a journal of millions
    // of entries counting costs at most 10 % of the coordinator (1,000,000 entries: figures up to about
    // 5 s old).
    if (this.statsCache && !this.isFinal() && now - this.statsCache.at < this.statsCache.validMs) return this.statsCache.value;
    const p = this.journal.countProgress();
    p.bytesDone += this.ranges.pendingVerifiedBytes(E.PENDING); // ranges verified of files still pending
    this.statsCache = { at: now, validMs: Math.max(1000, 10 * (Date.now() - now)), value: p };
    return p;
  }

  pause(): void {
    if (this.state !== 'running' && this.state !== 'waiting') return;
    this.setState('paused');
  }

  resume(): void {
    if (this.state === 'paused' || this.state === 'failed' || this.state === 'cancelled') {
      if (this.state !== 'paused') this.countResume(); // taken up again after it ended: like a restart
      this.message = null;
      this.errorCode = null;
      this.journal.set('error', '');
      this.setState('running');
      this.pump();
    }
  }

  /**
   * One more resume, journaled. Job ids start from it: they never repeat across restarts, so a
   * worker still finishing a job of an earlier coordinator process never has its answer taken for
   * a new job of the same number.
   */
  private countResume(): void {
    this.resumes++;
    this.journal.set('resumes', String(this.resumes));
    this.nextJob = this.resumes * 2 ** 32 + 1;
  }

  /**
   * Ends the task at the operator's request. The staging files of large files in progress go to the
   * destinations with the stop, to be removed once their writing has stopped: a cancelled task leaves
   * no temp file behind (a destination that misses the stop leaves them to a later run's final
   * sweep).
   */
  cancel(): void {
    if (this.isFinal()) return;
    this.setState('cancelled');
    this.message = 'Cancelled by the operator.';
    const discard = fitInStop([...this.endRangedAttempts(), ...this.ranges.discards.map((d) => ({ rel: d.rel, stage: d.stage }))]);
    this.broadcast({ t: 'stop', reason: 'cancelled', ...(discard.length > 0 ? { discard } : {}) });
  }

  /**
   * Ends the current attempts at large files in progress and returns their staging files, to remove.
   * Journaled first, in one transaction: their verified ranges are forgotten and the staging epoch
   * moves on, so a later run copies them anew into staging files of other names, never trusting
   * ranges whose bytes are gone nor a re-created file of the same name (over NFS v3 its identity
   * can come back the same); the file's attempts are not used up. When the journal cannot be
   * written nothing is ended or removed.
   */
  private endRangedAttempts(): StagingRef[] {
    const current = this.ranges.currentStaging(E.PENDING);
    let epoch: number;
    try {
      epoch = this.journal.tx(() => {
        for (const c of current) this.ranges.forgetJournaled(c.entryId);
        return this.ranges.nextEpochJournaled();
      });
    } catch {
      return [];
    }
    this.ranges.useEpoch(epoch);
    const ended = new Set(current.map((c) => c.entryId));
    // Queued ones (a restarted coordinator queues files with journaled ranges) are queued once, anew.
    this.largeQueue = this.largeQueue.filter((f) => !ended.has(f.id));
    for (const c of current) {
      this.ranges.forgetInMemory(c.entryId);
      const e = this.journal.entry(c.entryId);
      if (e && e.state === E.PENDING) this.enqueue(e); // for a resume in this process
    }
    return current.map(({ rel, stage }) => ({ rel, stage }));
  }

  private setState(s: TaskState): void {
    this.state = s;
    this.journal.set('state', s);
    this.wakeIfFinal();
  }

  private setPhase(p: TaskPhase): void {
    this.phase = p;
    this.tree.reset();
    this.journal.set('phase', p);
    this.journal.set('step', '');
  }

  /**
   * Stops the task for good with a reason the operator can act on (e.g. mount lost). Works when the
   * journal cannot be written (its disk is full): the state is then kept in memory, and a restarted
   * coordinator finds the task running and resumes it.
   */
  fail(code: string, message: string): void {
    if (this.isFinal()) return;
    this.errorCode = code;
    this.message = message;
    this.state = 'failed';
    try {
      this.journal.set('error', JSON.stringify({ code, message }));
      this.journal.set('state', 'failed');
    } catch {
      // the journal's disk is full or gone: the failure is still reported, from memory
    }
    this.broadcast({ t: 'stop', reason: message });
    try {
      this.finishReport();
    } catch {
      // the failure itself is what the operator needs to see
    }
    this.wakeIfFinal();
    this.onFinished?.(this.status());
  }

  /** Fails the task for an error of the coordinator itself, naming a full disk as such. */
  private failOnError(err: unknown): void {
    if (isDiskFull(err)) {
      this.fail('coordinator-disk-full', `The coordinator's disk is full: the task journal in ${this.dir} cannot be written. Free space there, then resume the task (nothing verified is copied again).`);
      return;
    }
    this.fail('internal', `The coordinator hit an internal error: ${err instanceof Error ? err.message : String(err)}`);
  }

  // ---------------------------------------------------------------- workers

  attachWorker(conn: Connection, hello: Hello): void {
    const w: WorkerLink = {
      conn,
      agentId: hello.agentId,
      role: hello.role ?? 'source',
      data: hello.dataAddress ? { agentId: hello.agentId, ...hello.dataAddress } : null,
      isRoot: hello.isRoot ?? false,
      jobs: new Set(),
    };
    // A reconnecting agent replaces its old link.
    for (const old of this.workers) if (old.agentId === w.agentId && old.role === w.role) this.dropWorker(old);
    this.workers.add(w);
    conn.onClose(() => this.dropWorker(w));
    conn.onFrame((f) => {
      if (f.type !== FrameType.json) throw new WireError('bad-frame', `Unexpected frame type ${f.type} on a worker channel.`);
      const msg = WorkerMessage.safeParse(parseJsonPayload(f.payload));
      if (!msg.success) throw new WireError('bad-frame', `A malformed worker message: ${msg.error.issues[0]?.message ?? ''}`);
      // Our own failure (e.g. the journal's disk is full) stops the task; dropping the worker instead
      // would have it reconnect and send the same message again, forever.
      try {
        this.onMessage(w, msg.data);
      } catch (err) {
        this.failOnError(err);
      }
    });
    this.send(w, {
      t: 'setup',
      settings: {
        verify: this.spec.verify,
        preserveOwner: this.spec.preserveOwner,
        fsync: this.spec.fsync,
        bwlimit: this.spec.bwlimit,
        concurrency: this.spec.concurrency,
      },
    });
    if (this.isFinal()) this.send(w, { t: 'stop', reason: this.state });
    else this.pump();
  }

  private dropWorker(w: WorkerLink): void {
    if (!this.workers.delete(w)) return;
    for (const id of w.jobs) {
      const job = this.jobs.get(id);
      if (job) this.requeue(job);
    }
    w.jobs.clear();
    w.conn.close(null);
    setImmediate(() => this.pump());
  }

  private send(w: WorkerLink, msg: CoordinatorMessage): void {
    w.conn.sendJson(msg);
  }

  private broadcast(msg: CoordinatorMessage): void {
    for (const w of this.workers) this.send(w, msg);
  }

  private startJob(kind: JobKind, w: WorkerLink, ids: number[], extra: Partial<Job> = {}): Job {
    const job: Job = { id: this.nextJob++, kind, worker: w, ids, ...extra };
    this.jobs.set(job.id, job);
    w.jobs.add(job.id);
    return job;
  }

  private endJob(job: Job): void {
    this.jobs.delete(job.id);
    job.worker.jobs.delete(job.id);
  }

  /** Puts a job's work back at the front of its queue (worker lost or asked to retry). */
  private requeue(job: Job): void {
    this.endJob(job);
    switch (job.kind) {
      case 'list':
        this.dirQueue.unshift(...job.ids);
        break;
      case 'probe':
        this.probeQueue.unshift(...job.ids);
        break;
      case 'copy': {
        const files = job.files ?? [];
        if (job.range) {
          // Its sender may still be streaming into the staging file after the retry is verified.
          this.ranges.taint(job.range.file.id);
          if (this.ranges.isCurrent(job.range)) this.ranges.queue.unshift(job.range);
        } else if (files.length === 1 && isLarge(files[0] as QueuedFile)) this.largeQueue.unshift(...files);
        else this.readyQueue.unshift(...files);
        break;
      }
      case 'commit':
        // Not those of attempts that ended meanwhile (a cancel, a start over): their files are gone.
        this.ranges.commits.unshift(...(job.commits ?? []).filter((c) => this.isCurrentCommit(c)));
        break;
      case 'discard':
        this.ranges.discards.unshift(...(job.discards ?? []));
        break;
      default:
        this.tree.requeue(job);
    }
  }

  private onMessage(w: WorkerLink, msg: WorkerMessage): void {
    if (msg.t === 'fatal') {
      this.fail(msg.code, msg.message);
      return;
    }
    const job = this.jobs.get(msg.job);
    if (!job || job.worker !== w) return; // a late answer for a job already given to someone else
    switch (msg.t) {
      case 'listed':
        this.onListed(job, msg);
        break;
      case 'done':
        this.endJob(job);
        break;
      case 'copied':
        this.endJob(job);
        if (job.range) this.onRangeCopied(job, job.range, msg.results[0]);
        else this.onCopied(job, msg.results);
        break;
      case 'probed':
        this.endJob(job);
        this.onProbed(msg.results);
        break;
      case 'applied':
        this.endJob(job);
        if (job.kind === 'commit') this.onCommitted(job, msg.results);
        else this.tree.onApplied(job, msg.results);
        break;
      case 'retry':
        this.requeue(job);
        // Back off a little: the usual cause (a destination restarting) takes a moment.
        setTimeout(() => this.pump(), 500).unref();
        return;
    }
    this.pump();
  }

  // ---------------------------------------------------------------- loading and dispatch

  private loadQueues(): void {
    const j = this.journal;
    this.dirQueue = j.pendingDirIds();
    this.probeQueue = j.idsInState(E.NEW);
    // Everything pending is in the journal: the first dispatch reads it back a page at a time.
    this.spill = { after: 0 };
  }

  /** Tops the ready queue up from the journal while files wait there. */
  private refill(): void {
    while (this.spill && this.readyQueue.length + this.largeQueue.length < READY_MAX - REFILL_PAGE) {
      const rows = this.journal.pendingPage(this.spill.after, REFILL_PAGE);
      for (const r of rows) this.enqueue(r, true);
      const last = rows[rows.length - 1];
      if (rows.length < REFILL_PAGE) this.spill = null;
      else if (last) this.spill.after = last.id;
    }
  }

  /**
   * A pending entry into the ready or the large queue; or nowhere when the queues are full or files
   * wait in the journal already (the refill reads it back in id order).
   */
  private enqueue(e: PendingRow, refill = false): void {
    if (!refill) {
      if (this.spill && e.id > this.spill.after) return;
      if (this.readyQueue.length + this.largeQueue.length >= READY_MAX) {
        this.spill = { after: this.maxQueuedId };
        if (e.id > this.maxQueuedId) return;
      }
    }
    if (e.id > this.maxQueuedId) this.maxQueuedId = e.id;
    const sig = metaSig(e.meta);
    const item: CopyItem = { id: e.id, rel: b64(e.rel), kind: e.kind === 'symlink' ? 'symlink' : 'file', size: e.size, sig };
    if (this.spec.checksum && e.dstHash) item.skipIfHash = e.dstHash;
    const f: QueuedFile = { id: e.id, item, sig, split: this.ranges.splits(e.size, e.meta, item) };
    (isLarge(f) ? this.largeQueue : this.readyQueue).push(f);
  }

  private sources(): WorkerLink[] {
    return [...this.workers].filter((w) => w.role === 'source');
  }

  private destinations(): WorkerLink[] {
    return [...this.workers].filter((w) => w.role === 'destination');
  }

  /** Hands out as much work as the workers have slots for, then checks whether the phase is over. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let guard = 0; guard < 20 && this.state === 'running'; guard++) {
        if (this.phase === 'copy') this.dispatchCopyPhase();
        else this.tree.dispatch(this.phase);
        if (!this.phaseIdle()) break;
        if (!this.advance()) break;
      }
    } catch (err) {
      this.failOnError(err);
    } finally {
      this.pumping = false;
    }
  }

  private jobsOf(w: WorkerLink, kind: JobKind): number {
    let n = 0;
    for (const id of w.jobs) if (this.jobs.get(id)?.kind === kind) n++;
    return n;
  }

  private dispatchCopyPhase(): void {
    const dests = this.destinations().filter((d) => d.data);
    this.refill();
    for (const s of this.sources()) {
      // Listing ahead is bounded by the journal's disk, not memory; it pauses while a backlog is spilled.
      while (this.jobsOf(s, 'list') < LIST_SLOTS && this.dirQueue.length > 0 && this.spill === null) {
        const ids = this.dirQueue.splice(0, DIRS_PER_LIST_JOB);
        const dirs = ids.map((id) => ({ id, rel: b64(this.journal.dirRel(id) ?? Buffer.alloc(0)) }));
        const job = this.startJob('list', s, ids);
        this.send(s, { t: 'list', job: job.id, dirs, hash: false });
      }
      while (dests.length > 0 && this.jobsOf(s, 'copy') < this.spec.concurrency && this.hasCopyWork()) {
        const dest = dests[this.destRR++ % dests.length] as WorkerLink;
        const wantLarge = this.ranges.queue.length + this.largeQueue.length > 0 && (this.readyQueue.length === 0 || this.jobsOf(s, 'copy') % 2 === 0);
        const large = wantLarge ? this.takeLarge() : null;
        const files = large ? large.files : this.takeSmallBatch();
        if (files.length === 0) break;
        const range = large?.range;
        const job = this.startJob('copy', s, files.map((f) => f.id), { dest, files, ...(range ? { range } : {}) });
        this.send(s, { t: 'copy', job: job.id, dest: dest.data as DataTarget, items: range ? [this.ranges.itemOf(range)] : files.map((f) => f.item) });
      }
    }
    for (const d of this.destinations()) {
      while (this.jobsOf(d, 'commit') < DEST_SLOTS && this.ranges.commits.length > 0) this.dispatchCommit(d);
      const discards = this.jobsOf(d, 'discard') === 0 ? this.ranges.takeDiscards((id, gen) => this.rangeJobInFlight(id, gen), ITEMS_PER_JOB) : [];
      if (discards.length > 0) {
        const job = this.startJob('discard', d, [], { discards });
        this.send(d, { t: 'discard', job: job.id, items: discards.map((x) => ({ rel: x.rel, stage: x.stage })) });
      }
      while (this.jobsOf(d, 'probe') < DEST_SLOTS && this.probeQueue.length > 0) {
        const ids = this.probeQueue.splice(0, ITEMS_PER_JOB);
        const items = [];
        for (const id of ids) {
          const e = this.journal.entry(id);
          if (e && e.state === E.NEW) items.push({ id, rel: b64(e.rel), size: e.size, hash: this.spec.checksum && e.kind === 'file' });
        }
        if (items.length === 0) continue;
        const job = this.startJob('probe', d, items.map((i) => i.id));
        this.send(d, { t: 'probe', job: job.id, items });
      }
    }
  }

  /** Whether a range job of the entry's generation gen (or earlier) is still in flight. */
  private rangeJobInFlight(entryId: number, gen: number): boolean {
    for (const job of this.jobs.values()) if (job.range && job.range.file.id === entryId && job.range.gen <= gen) return true;
    return false;
  }

  private hasCopyWork(): boolean {
    return this.readyQueue.length > 0 || this.largeQueue.length > 0 || this.ranges.queue.length > 0;
  }

  /** The next large-file job: a queued range, or the next large file (split into ranges on the way). */
  private takeLarge(): { files: QueuedFile[]; range?: RangeWork } | null {
    for (;;) {
      const range = this.ranges.queue.shift();
      if (range) return { files: [range.file as QueuedFile], range };
      const f = this.largeQueue.shift();
      if (!f) return null;
      if (!f.split) return { files: [f] };
      // Its pending ranges (or, all verified after a resume, its commit).
      if (this.ranges.expand(f, this.attemptsOf(f.id)) === 'restart') this.startOver(f.id, 'range-missing');
    }
  }

  /** Large files whose ranges are all verified: their staging files get meta and names. */
  private dispatchCommit(d: WorkerLink): void {
    const works = this.ranges.commits.splice(0, ITEMS_PER_JOB);
    const items = works.flatMap((c) => {
      const e = this.journal.entry(c.file.id);
      if (!e || e.state !== E.PENDING) return [];
      // Read back whole only when a writer besides the ranges' own may have touched it since.
      const readBack = this.spec.verify === 'transferred' && this.ranges.isTainted(e.id) ? { srcHash: this.ranges.combinedHashes(e.id).src } : {};
      return [{ id: e.id, rel: b64(e.rel), stage: c.stage, stageId: c.stageId, meta: e.meta, rangeSize: this.spec.rangeSize, ...readBack }];
    });
    if (items.length === 0) return;
    const job = this.startJob('commit', d, items.map((i) => i.id), { commits: works });
    this.send(d, { t: 'commit', job: job.id, items });
  }

  private takeSmallBatch(): QueuedFile[] {
    let n = 0;
    let bytes = 0;
    while (n < this.readyQueue.length && n < SMALL_BATCH_FILES && bytes < SMALL_BATCH_BYTES) bytes += (this.readyQueue[n++] as QueuedFile).item.size;
    return this.readyQueue.splice(0, n);
  }

  /** True when the current phase has nothing queued and nothing in flight. */
  private phaseIdle(): boolean {
    if (this.jobs.size > 0) return false;
    switch (this.phase) {
      case 'copy':
        return this.dirQueue.length === 0 && this.probeQueue.length === 0 && this.readyQueue.length === 0 && this.largeQueue.length === 0 && this.ranges.idle && this.spill === null;
      default:
        return this.tree.idle(this.phase);
    }
  }

  /** Moves to the next phase; false when there is nothing more to do right now. */
  private advance(): boolean {
    const next: Record<TaskPhase, TaskPhase> = { copy: 'links', links: 'mirror', mirror: 'dirs', dirs: 'verify', verify: 'report', report: 'done', done: 'done' };
    if (this.phase === 'verify' && this.tree.nextVerifyStep()) return true;
    let p = next[this.phase];
    if (p === 'mirror' && !this.spec.mirror) p = 'dirs';
    if (p === 'dirs' && this.spec.dryRun) p = 'verify';
    if (p === 'verify' && (this.spec.verify !== 'full' || this.spec.dryRun)) p = 'report';
    if (p === 'report') {
      this.setPhase('report');
      this.finishReport();
      this.setPhase('done');
      this.setState('done');
      this.broadcast({ t: 'stop', reason: 'done' });
      this.onFinished?.(this.status());
      return false;
    }
    this.setPhase(p);
    if (p === 'verify') this.tree.startVerify();
    return true;
  }

  private finishReport(): ReportHeader {
    const error = this.errorCode ? { code: this.errorCode, message: this.message ?? '' } : null;
    const header = writeReport(this.journal, this.spec, this.reportFile, { startedAt: this.startedAt, error });
    this.passed = header.passed;
    this.journal.set('passed', String(header.passed));
    return header;
  }

  reportSummary(): { summary: ReturnType<typeof computeSummary>; passed: boolean } {
    const summary = computeSummary(this.journal);
    const error = this.errorCode ? { code: this.errorCode } : null;
    return { summary, passed: passedOf(summary, error) };
  }

  // ---------------------------------------------------------------- copy phase: results

  private onListed(job: Job, msg: Extract<WorkerMessage, { t: 'listed' }>): void {
    if (job.kind === 'mlist' || job.kind === 'vdst' || job.kind === 'vsrc') return this.tree.onListed(job, msg);
    const j = this.journal;
    const dirRel = j.dirRel(msg.dir);
    if (dirRel === null) return;
    j.tx(() => {
      for (const e of msg.entries) this.intake(dirRel, e);
      for (const err of msg.errors) {
        const rel = childRel(dirRel, unb64(err.name));
        j.addEntry(rel, 'unknown', 0, rootPlaceholderMeta(), null, null, E.FAILED, err.code, err.message);
      }
      if (msg.error) j.setDirState(msg.dir, D.FAILED, msg.error.code, msg.error.message);
      else if (msg.done) j.setDirState(msg.dir, D.LISTED);
    });
  }

  /** One listed source entry into the journal and the right queue. */
  private intake(dirRel: Buffer, e: WireEntry): void {
    const j = this.journal;
    const name = unb64(e.name);
    if (name.length === 0) {
      // The directory's own metadata (sent first for the root): keep it for the dirs phase.
      j.q('UPDATE dirs SET meta = ? WHERE rel = ?').run(JSON.stringify(e.meta), dirRel);
      return;
    }
    const rel = childRel(dirRel, name);
    const m = e.meta;
    if (m.kind === 'dir') {
      if (!this.filter.accepts(rel, true, 0n)) return;
      const id = j.addDir(rel, depthOf(rel), m);
      if (id !== null) this.dirQueue.push(id);
      return;
    }
    if (this.filter.isExcluded(rel)) return;
    const target = e.target ? unb64(e.target) : null;
    if (!this.filter.accepts(rel, false, BigInt(m.mtimeNs))) {
      j.addEntry(rel, m.kind, m.size, m, target, null, E.FILTERED, null, null);
      return;
    }
    if (m.kind !== 'file' && m.kind !== 'symlink') {
      const what = { fifo: 'a FIFO', socket: 'a socket', char: 'a character device', block: 'a block device' }[m.kind];
      j.addEntry(rel, m.kind, 0, m, null, null, E.SKIPPED, m.kind, `Not copied: it is ${what} (special files are listed, never copied).`);
      return;
    }
    const initial = this.probe ? E.NEW : this.spec.dryRun ? E.WOULD_COPY : E.PENDING;
    const id = j.addEntry(rel, m.kind, m.kind === 'file' ? m.size : 0, m, target, null, initial, null, null);
    if (id === null) return; // already known (a directory listed again after a crash)
    if (m.kind === 'file' && m.nlink > 1) {
      const first = j.firstOfInode(m.dev, m.ino, id);
      if (first !== id) {
        j.q('UPDATE entries SET state = ?, link_to = ? WHERE id = ?').run(this.spec.dryRun ? E.WOULD_COPY : E.LINK, first, id);
        return;
      }
    }
    if (initial === E.NEW) this.probeQueue.push(id);
    else if (initial === E.PENDING) this.enqueue({ id, rel, kind: m.kind, size: m.kind === 'file' ? m.size : 0, meta: m, dstHash: null });
  }

  private onProbed(results: ProbeResult[]): void {
    const j = this.journal;
    j.tx(() => {
      for (const r of results) {
        const e = j.entry(r.id);
        if (!e || e.state !== E.NEW) continue;
        const d = decide(this.spec, e.meta, r);
        if (d.action === 'unchanged') j.setEntryState(e.id, E.UNCHANGED);
        else if (d.action === 'keep') j.setEntryState(e.id, E.KEPT, 'policy', d.reason);
        else if (this.spec.dryRun) j.setEntryState(e.id, E.WOULD_COPY, 'would-copy', r.exists ? 'Would be replaced.' : 'Would be created.');
        else {
          j.q('UPDATE entries SET state = ?, dst_hash = ? WHERE id = ?').run(E.PENDING, d.skipIfHash ?? null, e.id);
          this.enqueue({ ...e, dstHash: d.skipIfHash ?? null });
        }
      }
    });
  }

  private onCopied(job: Job, results: ItemResult[]): void {
    const j = this.journal;
    const verify = this.spec.verify;
    const sent = new Map((job.files ?? []).map((f) => [f.id, f]));
    const retry: QueuedFile[] = [];
    const canRetry = (id: number) => this.canRetry(id);
    const P = E.PENDING;
    let copiedBytes = 0;
    j.tx(() => {
      for (const r of results) {
        const f = sent.get(r.id);
        if (!f) continue; // not an item of this job
        if (r.meta && metaSig(r.meta) !== f.sig) {
          j.q('UPDATE entries SET meta = ?, size = ? WHERE id = ? AND state = ?').run(JSON.stringify(r.meta), r.meta.kind === 'file' ? r.meta.size : 0, r.id, P);
        }
        if (r.status === 'unchanged') {
          j.q('UPDATE entries SET state = ?, src_hash = ?, dst_hash = ? WHERE id = ? AND state = ?').run(E.UNCHANGED, r.srcHash ?? null, r.dstHash ?? null, r.id, P);
        } else if (r.status === 'changed') {
          j.settlePending(r.id, E.CHANGED, r.code ?? 'changed', r.reason ?? 'Changed during the migration.');
        } else if (r.status === 'failed') {
          const transient = r.code !== undefined && RETRIED_CODES.has(r.code);
          if (transient && canRetry(r.id)) retry.push(f);
          else j.settlePending(r.id, E.FAILED, r.code ?? 'io', r.reason ?? 'Failed.');
        } else {
          const hashesMatch = r.srcHash !== undefined && r.srcHash === r.dstHash;
          const readBackOk = verify !== 'transferred' || r.readBackHash === r.srcHash;
          if (hashesMatch && readBackOk) {
            j.q('UPDATE entries SET state = ?, src_hash = ?, dst_hash = ?, copied = 1 WHERE id = ? AND state = ?').run(verify === 'none' ? E.COPIED : E.VERIFIED, r.srcHash ?? null, r.dstHash ?? null, r.id, P);
            copiedBytes += r.bytes ?? f.item.size;
          } else if (canRetry(r.id)) {
            retry.push(f);
          } else {
            j.q('UPDATE entries SET state = ?, code = ?, reason = ?, src_hash = ?, dst_hash = ? WHERE id = ? AND state = ?').run(
              E.FAILED,
              'hash-mismatch',
              hashesMatch ? 'What the destination read back differs from the source SHA-256.' : 'The destination SHA-256 differs from the source SHA-256.',
              r.srcHash ?? null,
              r.readBackHash ?? r.dstHash ?? null,
              r.id,
              P,
            );
          }
        }
      }
      for (const f of retry) j.q('UPDATE entries SET attempts = attempts + 1 WHERE id = ?').run(f.id);
    });
    for (const f of retry) (isLarge(f) ? this.largeQueue : this.readyQueue).push(f);
    this.countBytes(job.worker, copiedBytes);
    if (job.dest) this.countBytes(job.dest, copiedBytes);
  }

  /** A file's attempts so far. Read only on rare paths (and once per large file). */
  private attemptsOf(id: number): number {
    return num(this.journal.q('SELECT attempts FROM entries WHERE id = ?').get(id)?.attempts);
  }

  /** Whether a commit is of its file's current attempt (not one a cancel or a start over ended). */
  private isCurrentCommit(c: CommitWork): boolean {
    return this.ranges.isCurrentStage(c.file.id, c.stage, this.attemptsOf(c.file.id));
  }

  /** Whether a file may be tried once more. */
  private canRetry(id: number): boolean {
    return this.attemptsOf(id) + 1 < MAX_ATTEMPTS;
  }

  /**
   * A range's result: verified (and the file's commit queued after its last range), tried again
   * (a lost ack, a connection cut, a hash mismatch: MAX_ATTEMPTS times per range), or the end of
   * the file's attempt: a file that changed starts over as it is now, a failure fails it.
   */
  private onRangeCopied(job: Job, w: RangeWork, result: ItemResult | undefined): void {
    let r = result;
    const j = this.journal;
    const id = w.file.id;
    let copied = 0;
    type StartOver = { why: 'changed' | 'range-missing'; meta?: WireMeta } | null;
    const restart = j.tx((): StartOver => {
      if (!this.ranges.isCurrent(w) || j.entry(id)?.state !== E.PENDING) return null; // the file failed or started over meanwhile
      if (r && r.id !== id) r = undefined; // not this job's file: as if no answer came
      const hashesMatch = r?.status === 'ok' && r.srcHash !== undefined && r.srcHash === r.dstHash;
      const readBackOk = this.spec.verify !== 'transferred' || r?.readBackHash === r?.srcHash;
      if (r && hashesMatch && readBackOk && r.stageId) {
        copied = w.length;
        return this.ranges.onVerified(w, r.srcHash as string, r.dstHash as string, r.stageId) === 'restart' ? { why: 'range-missing' } : null;
      }
      if (r?.status === 'changed' && r.code !== 'changed') {
        // Deleted, or no longer a regular file: nothing to start over with.
        this.ranges.retire(id, w.file.item.rel, this.attemptsOf(id));
        j.settlePending(id, E.CHANGED, r.code ?? 'changed', r.reason ?? 'It changed during the migration.');
        return null;
      }
      if (r?.code === 'range-stale' || r?.status === 'changed') return r.meta ? { why: 'changed', meta: r.meta } : { why: 'changed' };
      const again = !r || r.status === 'ok' || (r.code !== undefined && RETRIED_CODES.has(r.code));
      if (again && w.tries + 1 < MAX_ATTEMPTS) {
        w.tries++;
        this.ranges.queue.unshift(w);
        return null;
      }
      this.ranges.retire(id, w.file.item.rel, this.attemptsOf(id));
      const [code, reason] = r?.status === 'ok' ? ['hash-mismatch', 'A range of it read back or arrived different from the source SHA-256.'] : [r?.code ?? 'io', r?.reason ?? 'Failed.'];
      j.settlePending(id, E.FAILED, code, reason);
      return null;
    });
    if (restart) this.startOver(id, restart.why, restart.meta);
    this.countBytes(job.worker, copied);
    if (job.dest) this.countBytes(job.dest, copied);
  }

  /**
   * A ranged file starts over (it changed since it was listed, or its staging file is not what its
   * ranges wrote): a new attempt with a new staging file, or, after MAX_ATTEMPTS, the end of them.
   */
  private startOver(id: number, why: 'changed' | 'range-missing', meta?: WireMeta): void {
    const j = this.journal;
    const attempt = this.attemptsOf(id);
    const again = attempt + 1 < MAX_ATTEMPTS;
    const rel = j.entry(id)?.rel;
    // One transaction: after a crash either the ranges and the attempt are both new, or neither is
    // (never the old attempt's staging key over fresh ranges).
    j.tx(() => {
      if (rel) this.ranges.retire(id, b64(rel), attempt);
      else this.ranges.forget(id);
      const P = E.PENDING;
      if (meta) j.q('UPDATE entries SET meta = ?, size = ? WHERE id = ? AND state = ?').run(JSON.stringify(meta), meta.size, id, P);
      if (again) j.q('UPDATE entries SET attempts = attempts + 1 WHERE id = ? AND state = ?').run(id, P);
      else if (why === 'changed') j.settlePending(id, E.CHANGED, 'changed', `It kept changing while it was read (${MAX_ATTEMPTS} attempts).`);
      else j.settlePending(id, E.FAILED, 'range-missing', `Its staged ranges were lost ${MAX_ATTEMPTS} times (the staging file was deleted or replaced at the destination).`);
    });
    const e = again ? j.entry(id) : null;
    if (e && e.state === E.PENDING) this.enqueue(e);
  }

  /** Commits of large files: verified with their combined hashes, or (staging file lost) started over. */
  private onCommitted(job: Job, results: ItemResult[]): void {
    const j = this.journal;
    const P = E.PENDING;
    const lost: number[] = [];
    const asked = new Set(job.ids);
    j.tx(() => {
      for (const r of results) {
        if (!asked.has(r.id)) continue; // not a file of this job
        const c = job.commits?.find((x) => x.file.id === r.id);
        // The answer for an attempt that ended meanwhile (a cancel) says nothing about the current one.
        if (c && !this.isCurrentCommit(c)) continue;
        if (r.status === 'ok') {
          const h = this.ranges.combinedHashes(r.id);
          j.q('UPDATE entries SET state = ?, src_hash = ?, dst_hash = ?, copied = 1 WHERE id = ? AND state = ?').run(this.spec.verify === 'none' ? E.COPIED : E.VERIFIED, h.src, h.dst, r.id, P);
        } else if (r.code === 'range-missing') {
          lost.push(r.id);
        } else {
          if (c) this.ranges.retire(r.id, c.file.item.rel, this.attemptsOf(r.id));
          else this.ranges.forget(r.id);
          j.settlePending(r.id, E.FAILED, r.code ?? 'io', r.reason ?? 'Could not put the file in place.');
        }
      }
    });
    for (const id of lost) this.startOver(id, 'range-missing');
  }

  /** Byte totals of workers that counted bytes and are not connected now. */
  private departedWorkers(): NonNullable<TaskStatus['departedWorkers']> {
    const connected = new Set([...this.workers].map(workerKey));
    return [...this.workerBytes].flatMap(([key, bytesDone]) => {
      if (connected.has(key)) return [];
      const [role, ...rest] = key.split(':');
      return [{ agentId: rest.join(':'), role: role === 'destination' ? ('destination' as const) : ('source' as const), bytesDone }];
    });
  }

  private countBytes(w: WorkerLink, bytes: number): void {
    if (bytes > 0) this.workerBytes.set(workerKey(w), (this.workerBytes.get(workerKey(w)) ?? 0) + bytes);
  }
}

/** SQLITE_FULL from node:sqlite, or ENOSPC / EDQUOT from a file write (the report). */
function isDiskFull(err: unknown): boolean {
  const e = err as { errcode?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.errcode === 13 || e.code === 'ENOSPC' || e.code === 'EDQUOT') return true;
  return typeof e.message === 'string' && /database or disk is full/i.test(e.message);
}

function rootPlaceholderMeta(): WireMeta {
  return { kind: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0, atimeNs: '0', mtimeNs: '0', ctimeNs: '0', dev: '0', ino: '0', nlink: 1, blocks: 0 };
}

