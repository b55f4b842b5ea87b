/**
 * Owns reading an entry's metadata: lstat (never following links) with bigint times, turned into the
 * EntryMeta of api.ts, plus readlink for symlink targets. Synchronous for the hot path (worker
 * threads); *Async variants for callers on the main thread.
 */
import fs from 'node:fs';
import type { EntryKind, EntryMeta } from './api.ts';
import { classify } from './errors.ts';
import { READ_WHOLE_STATS, nativeLstatInto } from './native.ts';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const LSTAT_OPTIONS = { bigint: true } as const;
const LINK_OPTIONS = { encoding: 'buffer' } as const;

/** The kind of entry a st_mode describes. Throws for a type Linux does not have. */
export function kindFromMode(mode: number | bigint): EntryKind {
  switch ((typeof mode === 'bigint' ? Number(mode) : mode) & S_IFMT) {
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'dir';
    case S_IFLNK:
      return 'symlink';
    case S_IFIFO:
      return 'fifo';
    case S_IFSOCK:
      return 'socket';
    case S_IFCHR:
      return 'char';
    case S_IFBLK:
      return 'block';
    default:
      throw new Error(`Unknown file type in mode 0o${mode.toString(8)}.`);
  }
}

/** EntryMeta from an lstat result taken with { bigint: true }. */
export function metaFromStats(st: fs.BigIntStats): EntryMeta {
  const mode = Number(st.mode);
  return {
    kind: kindFromMode(mode),
    size: Number(st.size),
    mode: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    dev: st.dev,
    ino: st.ino,
    nlink: Number(st.nlink),
    blocks: Number(st.blocks),
  };
}

/** The stats array of native.ts readWhole → EntryMeta (dev and ino are unsigned there). */
export function metaFromStatArray(a: BigInt64Array): EntryMeta {
  const mode = Number(a[0]);
  return {
    kind: kindFromMode(mode),
    size: Number(a[4]),
    mode: mode & 0o7777,
    uid: Number(a[1]),
    gid: Number(a[2]),
    atimeNs: a[6] as bigint,
    mtimeNs: a[7] as bigint,
    ctimeNs: a[8] as bigint,
    dev: BigInt.asUintN(64, a[9] as bigint),
    ino: BigInt.asUintN(64, a[10] as bigint),
    nlink: Number(a[3]),
    blocks: Number(a[5]),
  };
}

let addonLstat: ((path: Buffer, stats: BigInt64Array) => void) | null | undefined;
const statScratch = new BigInt64Array(READ_WHOLE_STATS);

/**
 * lstat → EntryMeta; throws the raw errno error (Node's, or the addon's of the same shape). Through
 * the addon's lstatInto when it is loaded: a listing lstats every entry, and the BigIntStats object
 * Node makes for each cost more than the call itself.
 */
export function lstatMeta(absPath: Buffer): EntryMeta {
  if (addonLstat === undefined) addonLstat = nativeLstatInto();
  if (!addonLstat) return metaFromStats(fs.lstatSync(absPath, LSTAT_OPTIONS));
  addonLstat(absPath, statScratch);
  return metaFromStatArray(statScratch);
}

/** lstat → EntryMeta. Throws FsError (errno 'ENOENT' when the entry is gone). */
export function statEntry(absPath: Buffer): EntryMeta {
  try {
    return lstatMeta(absPath);
  } catch (err) {
    throw classify(err, absPath);
  }
}

/** The target bytes of a symlink (not resolved, not decoded). */
export function readLinkTarget(absPath: Buffer): Buffer {
  try {
    return fs.readlinkSync(absPath, LINK_OPTIONS);
  } catch (err) {
    throw classify(err, absPath);
  }
}

/** True when the file has fewer allocated bytes than its size (it has holes). */
export function isSparse(meta: Pick<EntryMeta, 'kind' | 'size' | 'blocks'>): boolean {
  return meta.kind === 'file' && meta.blocks * 512 < meta.size;
}
