/**
 * A typed handle on node:sqlite (Node >= 22.5; agents always run on Ferry's Node 24 runtime). Loaded
 * through process.getBuiltinModule so that code type-checked against Node 20's typings, and bundles
 * inspected on Node 20, do not need the module to exist until a journal is actually opened.
 */

export type SqlValue = null | number | bigint | string | Uint8Array;

export interface RunResult {
  changes: number | bigint;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: SqlValue[]): RunResult;
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...params: SqlValue[]): Record<string, SqlValue>[];
  iterate(...params: SqlValue[]): IterableIterator<Record<string, SqlValue>>;
}

export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (path: string, options?: { timeout?: number }) => Database;
}

export function openDatabase(file: string): Database {
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const mod = getBuiltin?.('node:sqlite') as SqliteModule | undefined;
  if (!mod) {
    throw new Error(`This agent runs on Node ${process.version}, which has no node:sqlite: run it with Ferry's Node 24 runtime (dist/runtime/…/bin/node).`);
  }
  return new mod.DatabaseSync(file, { timeout: 5000 });
}

/** A BLOB column as a Buffer (node:sqlite returns Uint8Array). */
export function blob(v: SqlValue | undefined): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.alloc(0);
}

export function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

export function str(v: SqlValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/** Runs fn in one transaction (BEGIN IMMEDIATE … COMMIT), rolling back on error. */
export function inTransaction<T>(db: Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back (it does on SQLITE_FULL, for one): the first error is the one to report
    }
    throw err;
  }
}
