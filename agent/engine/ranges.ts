/**
 * Large files as ranges: the coordinator's bookkeeping for files bigger than the task's rangeSize
 * (dense ones; sparse files and checksum skips go whole). Each range is its own copy job, so the
 * ranges of one file travel in parallel from any source agent to any destination agent, all into
 * the file's staging file in its destination directory (RANGE_STAGE_PREFIX + stage key, shared by
 * the destination hosts through the NAS). A range is verified on its own (SHA-256 at both ends, read
 * back with 'transferred'); when every range of a file is, one destination commits the staging file
 * (meta, rename) and the entry becomes verified, its hashes being the SHA-256 over its ranges'
 * SHA-256 digests in order.
 *
 * Journal: table `ranges` (entry, idx, off, len, state 0 pending / 1 verified, hashes, stage_id).
 * Verified ranges survive a crash with the staging file, so a resumed task copies only the rest.
 * Ranges of different versions of a file are never put together: a source refuses a range of a
 * file that no longer matches its listing ('range-stale'), and then the file starts over, as it
 * does when its staging file turns out replaced or incomplete at commit ('range-missing').
 */
import { createHash } from 'node:crypto';
import type { CopyItem, WireMeta } from '../protocol/wire.ts';
import { isSparse } from '../fs/meta.ts';
import type { Journal } from './journal.ts';
import { num, str } from './journal.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS ranges (
  entry INTEGER NOT NULL, idx INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL,
  state INTEGER NOT NULL DEFAULT 0, src_hash TEXT, dst_hash TEXT, stage_id TEXT,
  PRIMARY KEY (entry, idx)) WITHOUT ROWID`;

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
}

/** A file whose ranges are all verified, waiting for its commit. */
export interface CommitWork {
  file: RangedFile;
  stageId: string;
}

export class RangePlanner {
  readonly queue: RangeWork[] = [];
  readonly commits: CommitWork[] = [];
  private readonly journal: Journal;
  private readonly rangeSize: number;
  private readonly stagePrefix: string;
  private readonly gens = new Map<number, number>();

  constructor(journal: Journal, taskId: string, rangeSize: number) {
    this.journal = journal;
    this.rangeSize = rangeSize;
    this.journal.db.exec(SCHEMA);
    this.stagePrefix = createHash('sha256').update(taskId).digest('hex').slice(0, 16);
  }

  /** Whether a file of this size and layout is copied as ranges. */
  splits(size: number, meta: WireMeta, item: CopyItem): boolean {
    return item.kind === 'file' && size > this.rangeSize && item.skipIfHash === undefined && !isSparse(meta);
  }

  /** The staging key of an entry: unique per task and entry, safe in a file name. */
  stageOf(entryId: number): string {
    return `${this.stagePrefix}-${entryId}`;
  }

  /** The copy item of one range. */
  itemOf(w: RangeWork): CopyItem {
    return { ...w.file.item, range: { offset: w.offset, length: w.length, stage: this.stageOf(w.file.id) } };
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.commits.length === 0;
  }

  /**
   * Queues the ranges of a file still to copy (all of them the first time; after a resume only the
   * unverified ones), or its commit when none is left.
   */
  expand(file: RangedFile): void {
    const j = this.journal;
    const size = file.item.size;
    let rows = j.q('SELECT idx, off, len, state FROM ranges WHERE entry = ? ORDER BY idx').all(file.id);
    const covered = rows.reduce((n, r) => n + num(r.len), 0);
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
    for (const r of pending) this.queue.push({ file, idx: num(r.idx), offset: num(r.off), length: num(r.len), gen });
    if (pending.length === 0) this.queueCommitIfComplete(file);
  }

  /**
   * Journals a verified range (inside the caller's transaction; the caller checked the hashes) and
   * queues the file's commit when it was the last one.
   */
  onVerified(w: RangeWork, srcHash: string, dstHash: string, stageId: string): void {
    this.journal.q('UPDATE ranges SET state = ?, src_hash = ?, dst_hash = ?, stage_id = ? WHERE entry = ? AND idx = ?').run(VERIFIED, srcHash, dstHash, stageId, w.file.id, w.idx);
    this.queueCommitIfComplete(w.file);
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
    this.gens.set(entryId, (this.gens.get(entryId) ?? 0) + 1);
    for (let i = this.queue.length - 1; i >= 0; i--) if ((this.queue[i] as RangeWork).file.id === entryId) this.queue.splice(i, 1);
    for (let i = this.commits.length - 1; i >= 0; i--) if ((this.commits[i] as CommitWork).file.id === entryId) this.commits.splice(i, 1);
    this.journal.q('DELETE FROM ranges WHERE entry = ?').run(entryId);
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
   * then every range is copied again.
   */
  private queueCommitIfComplete(file: RangedFile): void {
    const rows = this.journal.q('SELECT state, stage_id FROM ranges WHERE entry = ?').all(file.id);
    if (rows.length === 0 || rows.some((r) => num(r.state) !== VERIFIED)) return;
    const ids = new Set(rows.map((r) => str(r.stage_id)));
    if (ids.size !== 1) {
      this.journal.q('UPDATE ranges SET state = ?, stage_id = NULL WHERE entry = ?').run(PENDING, file.id);
      this.expand(file);
      return;
    }
    this.commits.push({ file, stageId: [...ids][0] ?? '' });
  }
}
