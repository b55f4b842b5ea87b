/**
 * What the coordinator knows of its workers and of the jobs it handed them; shared by the copy phase
 * (coordinator.ts) and the phases after it (tree-phases.ts). Nothing here is journaled: a job lives
 * in memory until its answer, and after a crash its work is simply handed out again.
 */
import type { Connection } from '../net/connection.ts';
import type { CopyItem, DataTarget } from '../protocol/wire.ts';
import type { CommitWork, Discard, RangeWork, RangedFile } from './ranges.ts';

/** Jobs a worker runs at once per kind, and how much goes in one. */
export const LIST_SLOTS = 2;
export const DEST_SLOTS = 4;
export const DIRS_PER_LIST_JOB = 16;
export const ITEMS_PER_JOB = 512;

export type JobKind = 'list' | 'copy' | 'commit' | 'discard' | 'probe' | 'link' | 'dirs' | 'delete' | 'mlist' | 'vsrc' | 'vdst';

/** A connected agent in one of the task's roles. */
export interface WorkerLink {
  conn: Connection;
  agentId: string;
  role: 'source' | 'destination';
  data: DataTarget | null;
  isRoot: boolean;
  jobs: Set<number>;
}

/**
 * A file waiting to be copied, with what a copy job needs, so the hot path never reads the journal
 * back: handing out a job and taking in its results cost one UPDATE per file.
 */
export interface QueuedFile extends RangedFile {
  id: number;
  /** The copy item as sent (rel in base64, kind, size, skipIfHash in checksum mode). */
  item: CopyItem;
  /** Size, times, mode and owner as listed (metaSig): a result with other meta gets it journaled. */
  sig: string;
  /** Copied as ranges (ranges.ts). */
  split: boolean;
}

export interface Job {
  id: number;
  kind: JobKind;
  worker: WorkerLink;
  /** Entry ids (copy, probe, link), dir ids (list kinds, dirs), or extras rels (delete). */
  ids: number[];
  /** Copy jobs: the files, to requeue them and to read their results against. */
  files?: QueuedFile[];
  rels?: Buffer[];
  dest?: WorkerLink;
  /** A copy job of one range of a large file. */
  range?: RangeWork;
  /** A commit job: large files whose ranges are all verified. */
  commits?: CommitWork[];
  /** A discard job: staging files of attempts that ended. */
  discards?: Discard[];
}
