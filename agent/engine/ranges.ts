/**
 * Large files as ranges: the coordinator's bookkeeping for files bigger than the task's rangeSize
 * (dense ones; sparse files and checksum skips go whole). Each range is its own copy job, so the
 * ranges of one file travel in parallel from any source agent to any destination agent, all into
 * the file's staging file in its destination directory (RANGE_STAGE_PREFIX + stage key, shared by
 * the destination hosts through the NAS). A range is verified on its own (SHA-256 at both ends, read
 * back with 'transferred'); when every range of a file is, one destination commits the staging file
 * (meta, rename; first reading it back whole when another writer may have touched it) and the entry
 * becomes verified, its hashes being the SHA-256 over its ranges' SHA-256 digests in order.
 *
 * Journal: table `ranges` (entry, idx, off, len, state 0 pending / 1 verified, hashes, stage_id).
 * Verified ranges survive a crash with the staging file, so a resumed task copies only the rest.
 * Ranges of different versions of a file are never put together: a source refuses a range of a
 * file that no longer matches its listing ('range-stale'), and then the file starts over, as it
 * does when its staging file turns out replaced or incomplete at commit ('range-missing'). Each
 * attempt at a file has its own staging file: the key is derived from the task's secret token, the
 * entry and its attempt number, so a range still in flight from an earlier attempt (or from before a
 * coordinator restart) writes into a file that is never committed, and nobody without the token can
 * plant a file (or a hard link) under the name in advance.
 */
import { createHash } from 'node:crypto';
import type { CopyItem, StagingRef, WireMeta } from '../protocol/wire.ts';
import { isSparse } from '../fs/meta.ts';
import type { Journal } from './journal.ts';
import { blob, num, str } from './journal.ts';
import { b64 } from './wire-meta.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS ranges (
  entry INTEGER NOT NULL, idx INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL,
  state INTEGER NOT NULL DEFAULT 0, src_hash TEXT, dst_hash TEXT, stage_id TEXT,
  PRIMARY KEY (entry, idx)) WITHOUT ROWID`;

const EPOCH_KEY = 'stage-epoch';
const PENDING = 0;
const VERIFIED = 1;

/** The part of a queued file a range job needs. */
export interface RangedFile {
  id: number;
  item: CopyItem;
  sig: string;
}

/** One range waiting for, or in, a copy job. */
export interface RangeWork {
  file: RangedFile;
  idx: number;
  offset: number;
  length: number;
  /** The file's generation when queued: a result for an earlier one (the file started over) is stale. */
  gen: number;
  /** The staging key of this attempt at the file. */
  stage: string;
  /** Transient failures of this range so far (a lost ack, a connection cut mid-range). */
  tries: number;
}

/** A file whose ranges are all verified, waiting for its commit. */
export interface CommitWork {
  file: RangedFile;
  stage: string;
  stageId: string;
}

/**
 * The staging file of an attempt that ended, to remove once no range job of that attempt (generation
 * gen or earlier) is in flight: one still on its way would create the file again.
 */
export interface Discard extends StagingRef {
  entryId: number;
  gen: number;
}

/** Where a file stands after a verified range: commit queued, ranges still to come, or start over. */
export type RangeOutcome = 'commit' | 'pending' | 'restart';

/**
 * The part of every staging key that names the task (not secret): a destination's final sweep of a
 * directory removes its own task's leftovers and never another task's live staging files.
 */
export function taskStageTag(taskId: string): string {
  return createHash('sha256').update(taskId).digest('hex').slice(0, 12);
}

/**
 * The staging key of one attempt at an entry: the task's tag, then a digest only the token gives.
 * epoch: how many times a cancel ended every attempt in progress (0 gives the keys of journals
 * written before epochs existed).
 */
export function stageKey(taskId: string, token: string, entryId: number, attempt: number, epoch = 0): string {
  const secret = createHash('sha256').update(`${token}:${entryId}:${attempt}${epoch === 0 ? '' : `:${epoch}`}`).digest('hex').slice(0, 32);
  return `${taskStageTag(taskId)}-${secret}`;
}

export class RangePlanner {
  readonly queue: RangeWork[] = [];
  readonly commits: CommitWork[] = [];
  /** Staging files of attempts that ended, to remove (best effort: the final sweep takes any left). */
  readonly discards: Discard[] = [];
  private readonly journal: Journal;
  private readonly rangeSize: number;
  private readonly taskId: string;
  private readonly token: string;
  private readonly gens = new Map<number, number>();
  /**
   * Files whose staging file a writer other than its verified ranges' own may have touched: a range
   * job given again while its first sender may still be streaming, or an attempt begun before this
   * coordinator process started (a previous process's jobs may still run). Their commit reads the
   * whole staging file back; the others were read back range by range as they were written.
   */
  private readonly tainted = new Set<number>();
  /** Cancels that ended every attempt in progress (journaled as 'stage-epoch'): part of each staging key. */
  private epoch: number;

  constructor(journal: Journal, taskId: string, token: string, rangeSize: number) {
    this.journal = journal;
    this.rangeSize = rangeSize;
    this.token = token;
    this.journal.db.exec(SCHEMA);
    this.taskId = taskId;
    this.epoch = Number(journal.get(EPOCH_KEY) ?? 0);
  }

  /** The staging key of the entry's attempt number `attempt` in the current epoch. */
  private keyOf(entryId: number, attempt: number): string {
    return stageKey(this.taskId, this.token, entryId, attempt, this.epoch);
  }

  /**
   * Ends every attempt in progress, for a cancel: journals the next epoch (in the caller's
   * transaction) and returns it, for `useEpoch` once that transaction is committed. From then on
   * every attempt writes a staging file of another name, without counting as one of its attempts.
   */
  nextEpochJournaled(): number {
    const next = this.epoch + 1;
    this.journal.set(EPOCH_KEY, String(next));
    return next;
  }

  useEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  /** Whether a file of this size and layout is copied as ranges. */
  splits(size: number, meta: WireMeta, item: CopyItem): boolean {
    return item.kind === 'file' && size > this.rangeSize && item.skipIfHash === undefined && !isSparse(meta);
  }

  /** The copy item of one range. */
  itemOf(w: RangeWork): CopyItem {
    return { ...w.file.item, range: { offset: w.offset, length: w.length, stage: w.stage } };
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.commits.length === 0;
  }

  /**
   * Queues the ranges of a file still to copy (all of them the first time; after a resume only the
   * unverified ones), or its commit when none is left. attempt: the entry's attempts so far.
   */
  expand(file: RangedFile, attempt: number): RangeOutcome {
    const j = this.journal;
    const size = file.item.size;
    let rows = j.q('SELECT idx, off, len, state FROM ranges WHERE entry = ? ORDER BY idx').all(file.id);
    const covered = rows.reduce((n, r) => n + num(r.len), 0);
    // Expanded by an earlier coordinator process: jobs of that one may still be writing.
    if (rows.length > 0) this.taint(file.id);
    if (rows.length === 0 || covered !== size) {
      j.tx(() => {
        j.q('DELETE FROM ranges WHERE entry = ?').run(file.id);
        for (let idx = 0, off = 0; off < size; idx++, off += this.rangeSize) {
          j.q('INSERT INTO ranges (entry, idx, off, len) VALUES (?, ?, ?, ?)').run(file.id, idx, off, Math.min(this.rangeSize, size - off));
        }
      });
      rows = j.q('SELECT idx, off, len, state FROM ranges WHERE entry = ? ORDER BY idx').all(file.id);
    }
    const pending = rows.filter((r) => num(r.state) === PENDING);
    const gen = this.gens.get(file.id) ?? 0;
    const stage = this.keyOf(file.id, attempt);
    for (const r of pending) this.queue.push({ file, idx: num(r.idx), offset: num(r.off), length: num(r.len), gen, stage, tries: 0 });
    return pending.length === 0 ? this.queueCommitIfComplete(file, stage) : 'pending';
  }

  /**
   * Journals a verified range (inside the caller's transaction; the caller checked the hashes) and
   * queues the file's commit when it was the last one.
   */
  onVerified(w: RangeWork, srcHash: string, dstHash: string, stageId: string): RangeOutcome {
    this.journal.q('UPDATE ranges SET state = ?, src_hash = ?, dst_hash = ?, stage_id = ? WHERE entry = ? AND idx = ?').run(VERIFIED, srcHash, dstHash, stageId, w.file.id, w.idx);
    return this.queueCommitIfComplete(w.file, w.stage);
  }

  /**
   * Ends an attempt at a file (it starts over, or it failed): forgets its ranges and queues the
   * removal of its staging file (rel: base64 of the entry's path; attempt: its attempts so far).
   */
  retire(entryId: number, rel: string, attempt: number): void {
    this.discards.push({ entryId, gen: this.gens.get(entryId) ?? 0, rel, stage: this.keyOf(entryId, attempt) });
    this.forget(entryId);
  }

  /**
   * The staging files of the current attempts at files not committed yet (pendingState: the
   * journal's PENDING; a few: a file is split only once the ranges before it are handed out).
   */
  currentStaging(pendingState: number): (StagingRef & { entryId: number })[] {
    const rows = this.journal.q('SELECT id, rel, attempts FROM entries WHERE state = ? AND id IN (SELECT DISTINCT entry FROM ranges)').all(pendingState);
    return rows.map((r) => ({ entryId: num(r.id), rel: b64(blob(r.rel)), stage: this.keyOf(num(r.id), num(r.attempts)) }));
  }

  /** Discards whose attempt has no range job in flight any more (inFlight(entryId, gen) says). */
  takeDiscards(inFlight: (entryId: number, gen: number) => boolean, max: number): Discard[] {
    const out: Discard[] = [];
    for (let i = 0; i < this.discards.length && out.length < max; ) {
      const d = this.discards[i] as Discard;
      if (inFlight(d.entryId, d.gen)) i++;
      else out.push(...this.discards.splice(i, 1));
    }
    return out;
  }

  /** Whether stage is the staging key of the entry's attempt number `attempt` (its current one). */
  isCurrentStage(entryId: number, stage: string, attempt: number): boolean {
    return stage === this.keyOf(entryId, attempt);
  }

  taint(entryId: number): void {
    this.tainted.add(entryId);
  }

  isTainted(entryId: number): boolean {
    return this.tainted.has(entryId);
  }

  /** Whether a range result belongs to the file as it is queued now. */
  isCurrent(w: RangeWork): boolean {
    return w.gen === (this.gens.get(w.file.id) ?? 0);
  }

  /**
   * Forgets a file's ranges (it starts over, or it failed): the queued ones, the journaled ones, and
   * any still in flight (their results become stale).
   */
  forget(entryId: number): void {
    this.forgetJournaled(entryId);
    this.forgetInMemory(entryId);
  }

  /** The journal's part of forget (for a caller's transaction that may yet fail). */
  forgetJournaled(entryId: number): void {
    this.journal.q('DELETE FROM ranges WHERE entry = ?').run(entryId);
  }

  /** The in-memory part of forget, once the journal's is committed. */
  forgetInMemory(entryId: number): void {
    this.gens.set(entryId, (this.gens.get(entryId) ?? 0) + 1);
    for (let i = this.queue.length - 1; i >= 0; i--) if ((this.queue[i] as RangeWork).file.id === entryId) this.queue.splice(i, 1);
    for (let i = this.commits.length - 1; i >= 0; i--) if ((this.commits[i] as CommitWork).file.id === entryId) this.commits.splice(i, 1);
    this.tainted.delete(entryId); // a new attempt has a staging file of its own
  }

  /** The entry's hashes once committed: SHA-256 over its ranges' digests, in order. */
  combinedHashes(entryId: number): { src: string; dst: string } {
    const rows = this.journal.q('SELECT src_hash, dst_hash FROM ranges WHERE entry = ? ORDER BY idx').all(entryId);
    const combine = (col: 'src_hash' | 'dst_hash') => {
      const h = createHash('sha256');
      for (const r of rows) h.update(Buffer.from(str(r[col]) ?? '', 'hex'));
      return h.digest('hex');
    };
    return { src: combine('src_hash'), dst: combine('dst_hash') };
  }

  /** Bytes in verified ranges of files not committed yet (progress shows them before the commit). */
  pendingVerifiedBytes(pendingState: number): number {
    const r = this.journal.q('SELECT coalesce(sum(r.len), 0) AS b FROM ranges r JOIN entries e ON e.id = r.entry WHERE r.state = ? AND e.state = ?').get(VERIFIED, pendingState);
    return num(r?.b);
  }

  /**
   * Queues the file's commit once no range of it is pending. Ranges that went into different
   * staging files (one was deleted and re-created meanwhile) lost what the earlier ones wrote:
   * then the file starts over ('restart', the caller counts the attempt).
   */
  private queueCommitIfComplete(file: RangedFile, stage: string): RangeOutcome {
    const rows = this.journal.q('SELECT state, stage_id FROM ranges WHERE entry = ?').all(file.id);
    if (rows.length === 0 || rows.some((r) => num(r.state) !== VERIFIED)) return 'pending';
    const ids = new Set(rows.map((r) => str(r.stage_id)));
    if (ids.size !== 1) return 'restart';
    this.commits.push({ file, stage, stageId: [...ids][0] ?? '' });
    return 'commit';
  }
}
