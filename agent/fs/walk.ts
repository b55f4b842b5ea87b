/**
 * Owns listing directories: `listDirSync` streams one directory in batches (default 512
 * entries) through opendir with a small kernel buffer, so a directory with 250,000+ entries never
 * becomes one giant array; each entry is lstat'ed (and readlink'ed if it is a symlink).
 * `walkTreeSync` walks a whole tree iteratively (an explicit stack, no recursion, and at
 * most one directory handle open at a time), so 10,000-level trees neither blow the JS stack nor run
 * out of file descriptors. Entries whose absolute path would exceed PATH_MAX come out as
 * 'path-too-long' error items instead of crashing the walk.
 *
 * An entry that vanishes between readdir and lstat (ENOENT) is skipped silently: it was deleted
 * while we looked, exactly as if readdir had not seen it.
 */
import fs from 'node:fs';
import type { DirEntry, EntryMeta } from './api.ts';
import { FsError, classify, isErrno } from './errors.ts';
import { lstatMeta, statEntry } from './meta.ts';
import { PATH_MAX_BYTES, relToDisplay, startsWithBytes } from './relpath.ts';

export interface ListOptions {
  /** Entries per yielded batch (default 512). */
  batchSize?: number;
  /**
   * Called for an entry that could not be examined (other than vanishing), e.g. 'path-too-long' or
   * EACCES. Without it, such an error is thrown and ends the listing.
   */
  onEntryError?: (name: Buffer, error: FsError) => void;
  /** Only names starting with these bytes are examined and yielded (the rest cost no lstat). */
  namePrefix?: Buffer;
}

const DEFAULT_BATCH = 512;
const SLASH = 0x2f;
// 'buffer' is a valid encoding for opendir at runtime (Dirent.name is then a Buffer); the types lack it.
const OPENDIR_OPTIONS = { encoding: 'buffer' as BufferEncoding, bufferSize: 128 };
const LINK_OPTIONS = { encoding: 'buffer' } as const;

function nameOf(d: fs.Dirent): Buffer {
  return d.name as unknown as Buffer;
}

function tooLongError(dir: Buffer, name: Buffer, len: number): FsError {
  const p = Buffer.concat([dir, Buffer.of(SLASH), name]);
  return new FsError('path-too-long', `"${relToDisplay(p)}" is ${len} bytes; the limit is ${PATH_MAX_BYTES}.`, {
    path: p,
    errno: 'ENAMETOOLONG',
  });
}

function dirPrefixLength(absDir: Buffer): number {
  return absDir.length > 0 && absDir[absDir.length - 1] === SLASH ? absDir.length : absDir.length + 1;
}

/**
 * Lists one directory synchronously, in batches. Uses one scratch path buffer per call: no per-entry
 * path allocation beyond the name readdir returns.
 */
export function* listDirSync(absDir: Buffer, options: ListOptions = {}): Generator<DirEntry[], void, undefined> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const prefix = dirPrefixLength(absDir);
  const scratch = Buffer.allocUnsafe(PATH_MAX_BYTES + 1);
  scratch.set(absDir.subarray(0, Math.min(absDir.length, PATH_MAX_BYTES)), 0);
  scratch[prefix - 1] = SLASH;
  let dir: fs.Dir;
  try {
    dir = fs.opendirSync(absDir, OPENDIR_OPTIONS);
  } catch (err) {
    throw classify(err, absDir);
  }
  try {
    let batch: DirEntry[] = [];
    for (;;) {
      let d: fs.Dirent | null;
      try {
        d = dir.readSync();
      } catch (err) {
        throw classify(err, absDir);
      }
      if (d === null) break;
      const name = nameOf(d);
      if (options.namePrefix && !startsWithBytes(name, options.namePrefix)) continue;
      const len = prefix + name.length;
      if (len > PATH_MAX_BYTES) {
        report(options, name, tooLongError(absDir, name, len));
        continue;
      }
      scratch.set(name, prefix);
      const p = scratch.subarray(0, len);
      let meta: EntryMeta;
      let linkTarget: Buffer | undefined;
      try {
        meta = lstatMeta(p);
        if (meta.kind === 'symlink') linkTarget = fs.readlinkSync(p, LINK_OPTIONS);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        report(options, name, classify(err, Buffer.from(p)));
        continue;
      }
      batch.push(linkTarget === undefined ? { name, meta } : { name, meta, linkTarget });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    dir.closeSync();
  }
}

function report(options: ListOptions, name: Buffer, error: FsError): void {
  if (!options.onEntryError) throw error;
  options.onEntryError(name, error);
}

/** One item of a tree walk: an entry (rel is its relPath; the root itself has the empty rel) or an error. */
export type WalkItem = { rel: Buffer; entry: DirEntry; error?: undefined } | { rel: Buffer; entry?: undefined; error: FsError };

export interface WalkOptions {
  batchSize?: number;
}

function childRel(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, Buffer.of(SLASH), name]);
}

function absOf(root: Buffer, rel: Buffer): Buffer {
  if (rel.length === 0) return root;
  return Buffer.concat([root, root[root.length - 1] === SLASH ? Buffer.alloc(0) : Buffer.of(SLASH), rel]);
}

/**
 * Walks a tree synchronously: the root first (rel = empty Buffer), then each directory's entries in
 * readdir order, then its subdirectories (depth first). Errors (unreadable directory, path too long)
 * are items, never exceptions, except when the root itself cannot be examined.
 */
export function* walkTreeSync(rootAbs: Buffer, options: WalkOptions = {}): Generator<WalkItem, void, undefined> {
  const rootMeta = statEntry(rootAbs);
  yield { rel: Buffer.alloc(0), entry: { name: Buffer.alloc(0), meta: rootMeta } };
  if (rootMeta.kind !== 'dir') return;
  const stack: Buffer[] = [Buffer.alloc(0)];
  for (;;) {
    const rel = stack.pop();
    if (rel === undefined) return;
    const subdirs: Buffer[] = [];
    const errors: WalkItem[] = [];
    const listOptions: ListOptions = {
      onEntryError: (name, error) => errors.push({ rel: childRel(rel, name), error }),
    };
    if (options.batchSize !== undefined) listOptions.batchSize = options.batchSize;
    try {
      for (const batch of listDirSync(absOf(rootAbs, rel), listOptions)) {
        for (const entry of batch) {
          const r = childRel(rel, entry.name);
          yield { rel: r, entry };
          if (entry.meta.kind === 'dir') subdirs.push(r);
        }
        yield* drain(errors);
      }
    } catch (err) {
      yield* drain(errors);
      yield { rel, error: classify(err) };
    }
    yield* drain(errors);
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as Buffer);
  }
}


function* drain(items: WalkItem[]): Generator<WalkItem, void, undefined> {
  if (items.length > 0) yield* items.splice(0);
}
