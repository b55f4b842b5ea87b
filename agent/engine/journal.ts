/**
 * The task journal: SQLite (WAL) on the coordinator's local disk, never on the NAS. It is the only
 * truth that survives a crash: the spec, the phase, every directory to list and every entry found
 * with its state and hashes. Everything in flight lives in memory only, so after a crash anything not
 * recorded as done here is simply done again; nothing recorded as verified is ever copied again.
 * Writes are batched by the caller in transactions (one per listing chunk or job result).
 * Paths are BLOBs (raw bytes); ns times, dev and ino are decimal TEXT inside the meta JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TaskStatus } from '../protocol/task.ts';
import type { WireMeta } from '../protocol/wire.ts';
import { blob, inTransaction, num, openDatabase, str } from './sqlite.ts';
import type { Database, SqlValue, Statement } from './sqlite.ts';

/** Entry states (stored as integers; never renumber). */
export const E = {
  NEW: 0, // found, waiting for the destination probe (incremental / overwrite policy)
  PENDING: 1, // to copy
  COPIED: 2, // copied, hashes equal (verification 'none')
  VERIFIED: 3, // copied and verified
  UNCHANGED: 4, // already identical at the destination
  KEPT: 5, // destination kept by the overwrite policy
  SKIPPED: 6, // special file, not copied by design
  FAILED: 7,
  CHANGED: 8, // kept changing while read
  LINK: 9, // later name of a hard-link group, waiting for the links phase
  LINKED: 10,
  WOULD_COPY: 11, // dry run
  FILTERED: 12, // in the source but outside the include / mtime filters (protects it from mirror deletes)
} as const;
export type EntryState = (typeof E)[keyof typeof E];

export const D = { PENDING: 0, LISTED: 1, FAILED: 2 } as const;
/** Full verification outcome per entry. */
export const V = { OK: 1, DIFFERENT: 2, MISSING: 3 } as const;
/** Extras at the destination. */
export const X = { FOUND: 0, DELETED: 1, FAILED: 2, WOULD_DELETE: 3 } as const;

// cache_size: results come back long after their entries were listed (the listing runs ahead), so
// with SQLite's default 2 MB cache nearly every result's UPDATE read its pages back from the file
// (5 preads per file on 50,000 small files). 32 MB (allocated only as pages are used) keeps them.
const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -32768;
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dirs (
  id INTEGER PRIMARY KEY, rel BLOB NOT NULL UNIQUE, depth INTEGER NOT NULL, state INTEGER NOT NULL,
  meta TEXT NOT NULL, code TEXT, reason TEXT, v_state INTEGER, v_reason TEXT);
CREATE INDEX IF NOT EXISTS dirs_depth ON dirs(depth DESC, id);
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY, rel BLOB NOT NULL UNIQUE, kind TEXT NOT NULL, size INTEGER NOT NULL,
  meta TEXT NOT NULL, target BLOB, link_to INTEGER, state INTEGER NOT NULL,
  src_hash TEXT, dst_hash TEXT, attempts INTEGER NOT NULL DEFAULT 0, copied INTEGER NOT NULL DEFAULT 0,
  code TEXT, reason TEXT, v_state INTEGER, v_reason TEXT, vs_hash TEXT, vs_meta TEXT);
CREATE INDEX IF NOT EXISTS entries_state ON entries(state);
CREATE TABLE IF NOT EXISTS inodes (dev TEXT NOT NULL, ino TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (dev, ino)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS extras (rel BLOB PRIMARY KEY, kind TEXT NOT NULL, state INTEGER NOT NULL, reason TEXT);
`;

export interface EntryRow {
  id: number;
  rel: Buffer;
  kind: string;
  size: number;
  meta: WireMeta;
  target: Buffer | null;
  linkTo: number | null;
  state: number;
  srcHash: string | null;
  dstHash: string | null;
  attempts: number;
  /** Full verification: the source as re-listed (meta + link target) and its SHA-256 now. */
  vsMeta: (WireMeta & { target: string | null }) | null;
  vsHash: string | null;
}

type TaskProgress = TaskStatus['progress'];

/** What the copy queue needs of a pending entry. */
export type PendingRow = Pick<EntryRow, 'id' | 'rel' | 'kind' | 'size' | 'meta' | 'dstHash'>;

/** A meta column (JSON) as WireMeta. */
export function metaOf(v: SqlValue | undefined): WireMeta {
  return JSON.parse(str(v) ?? '{}') as WireMeta;
}

/** The columns of a row a queued file needs (id, rel, kind, size, meta, dst_hash). */
function pendingRowOf(r: Record<string, SqlValue>): PendingRow {
  return { id: num(r.id), rel: blob(r.rel), kind: str(r.kind) ?? 'file', size: num(r.size), meta: metaOf(r.meta), dstHash: str(r.dst_hash) };
}

export function rowToEntry(r: Record<string, SqlValue>): EntryRow {
  return {
    ...pendingRowOf(r),
    target: r.target instanceof Uint8Array ? blob(r.target) : null,
    linkTo: r.link_to === null || r.link_to === undefined ? null : num(r.link_to),
    state: num(r.state),
    srcHash: str(r.src_hash),
    attempts: num(r.attempts),
    vsMeta: str(r.vs_meta) ? (JSON.parse(str(r.vs_meta) as string) as WireMeta & { target: string | null }) : null,
    vsHash: str(r.vs_hash),
  };
}

export class Journal {
  readonly db: Database;
  readonly file: string;
  private readonly stmts = new Map<string, Statement>();

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'journal.sqlite');
    this.db = openDatabase(this.file);
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** A cached prepared statement. */
  q(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  tx<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }

  get(key: string): string | null {
    return str(this.q('SELECT v FROM kv WHERE k = ?').get(key)?.v);
  }

  set(key: string, value: string): void {
    this.q('INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run(key, value);
  }

  /** Adds a directory to list; returns its id, or null when it was already known. */
  addDir(rel: Buffer, depth: number, meta: WireMeta): number | null {
    const r = this.q('INSERT OR IGNORE INTO dirs (rel, depth, state, meta) VALUES (?, ?, 0, ?)').run(rel, depth, JSON.stringify(meta));
    return Number(r.changes) === 1 ? Number(r.lastInsertRowid) : null;
  }

  dirRel(id: number): Buffer | null {
    const r = this.q('SELECT rel FROM dirs WHERE id = ?').get(id);
    return r ? blob(r.rel) : null;
  }

  setDirState(id: number, state: number, code: string | null = null, reason: string | null = null): void {
    this.q('UPDATE dirs SET state = ?, code = ?, reason = ? WHERE id = ?').run(state, code, reason, id);
  }

  /** Inserts an entry unless its path is known; returns the new id or null. */
  addEntry(rel: Buffer, kind: string, size: number, meta: WireMeta, target: Buffer | null, linkTo: number | null, state: number, code: string | null, reason: string | null): number | null {
    const r = this.q('INSERT OR IGNORE INTO entries (rel, kind, size, meta, target, link_to, state, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      rel,
      kind,
      size,
      JSON.stringify(meta),
      target,
      linkTo,
      state,
      code,
      reason,
    );
    return Number(r.changes) === 1 ? Number(r.lastInsertRowid) : null;
  }

  /** The first entry seen for (dev, ino), registering entryId as it when there was none. */
  firstOfInode(dev: string, ino: string, entryId: number): number {
    this.q('INSERT OR IGNORE INTO inodes (dev, ino, entry) VALUES (?, ?, ?)').run(dev, ino, entryId);
    return num(this.q('SELECT entry FROM inodes WHERE dev = ? AND ino = ?').get(dev, ino)?.entry);
  }

  entry(id: number): EntryRow | null {
    const r = this.q('SELECT * FROM entries WHERE id = ?').get(id);
    return r ? rowToEntry(r) : null;
  }

  entryByRel(rel: Buffer): EntryRow | null {
    const r = this.q('SELECT * FROM entries WHERE rel = ?').get(rel);
    return r ? rowToEntry(r) : null;
  }

  dirByRel(rel: Buffer): { id: number; meta: WireMeta } | null {
    const r = this.q('SELECT id, meta FROM dirs WHERE rel = ?').get(rel);
    return r ? { id: num(r.id), meta: metaOf(r.meta) } : null;
  }

  setEntryState(id: number, state: number, code: string | null = null, reason: string | null = null): void {
    this.q('UPDATE entries SET state = ?, code = ?, reason = ? WHERE id = ?').run(state, code, reason, id);
  }

  /**
   * Gives a file still waiting to be copied (PENDING) its final state and why; one that settled
   * meanwhile (verified by another answer, failed) keeps what it has.
   */
  settlePending(id: number, state: number, code: string, reason: string): void {
    this.q('UPDATE entries SET state = ?, code = ?, reason = ? WHERE id = ? AND state = ?').run(state, code, reason, id, E.PENDING);
  }

  /** The task's counts by entry and directory state (one scan of each table: callers cache it). */
  countProgress(): TaskProgress {
    const p = { dirsListed: 0, dirsPending: 0, entriesFound: 0, filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, filesCopied: 0, bytesCopied: 0, problems: 0 };
    for (const r of this.q('SELECT state, count(*) AS n, coalesce(sum(size), 0) AS b, sum(copied) AS c, coalesce(sum(copied * size), 0) AS cb FROM entries GROUP BY state').all()) {
      const st = num(r.state);
      if (st === E.FILTERED) continue;
      const n = num(r.n);
      const b = num(r.b);
      p.entriesFound += n;
      p.filesTotal += n;
      p.bytesTotal += b;
      if (st !== E.NEW && st !== E.PENDING && st !== E.LINK) {
        p.filesDone += n;
        p.bytesDone += b;
      }
      if (st === E.FAILED || st === E.CHANGED || st === E.SKIPPED) p.problems += n;
      p.filesCopied += num(r.c);
      p.bytesCopied += num(r.cb);
    }
    for (const r of this.q('SELECT state, count(*) AS n FROM dirs GROUP BY state').all()) {
      if (num(r.state) === D.PENDING) p.dirsPending += num(r.n);
      else p.dirsListed += num(r.n);
      p.entriesFound += num(r.n);
    }
    return p;
  }

  /**
   * Up to limit files still to copy (PENDING) with ids above after, in id order: only the columns a
   * queued file needs (a task with a large backlog reads every one of them back once).
   */
  pendingPage(after: number, limit: number): PendingRow[] {
    return this.q('SELECT id, rel, kind, size, meta, dst_hash FROM entries WHERE state = ? AND id > ? ORDER BY id LIMIT ?')
      .all(E.PENDING, after, limit)
      .map(pendingRowOf);
  }

  /** Ids of entries in a state, in id order (for resuming queues). */
  idsInState(state: number): number[] {
    return this.q('SELECT id FROM entries WHERE state = ? ORDER BY id')
      .all(state)
      .map((r) => num(r.id));
  }

  pendingDirIds(): number[] {
    return this.q('SELECT id FROM dirs WHERE state = 0 ORDER BY id')
      .all()
      .map((r) => num(r.id));
  }
}

export { blob, num, str };
