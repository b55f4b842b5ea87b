/**
 * The filesystem layer's contract: what the transfer engine (agent/engine) may ask of the local
 * filesystem. Implemented in agent/fs/*.ts (plus the optional native addon in agent/native/).
 *
 * Names are byte strings: every path here is a Buffer, never a JS string, so non-UTF-8 names
 * (GBK, Latin-1), names with newlines and 255-byte names pass through unchanged.
 * A relative path ("relPath") uses '/' separators, has no leading '/', no empty, '.' or '..'
 * component and no NUL byte; the root itself is the empty Buffer.
 */

export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

/** Metadata of one entry, as lstat sees it (links are never followed). */
export interface EntryMeta {
  kind: EntryKind;
  /** Bytes (for symlinks: length of the target). */
  size: number;
  /** Permission bits including setuid, setgid and sticky: st_mode & 0o7777. */
  mode: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  dev: bigint;
  ino: bigint;
  nlink: number;
  /** Allocated 512-byte blocks; blocks * 512 < size means the file is sparse. */
  blocks: number;
}

export interface DirEntry {
  /** The entry's name in its directory (one path component, bytes). */
  name: Buffer;
  meta: EntryMeta;
  /** Symlink target bytes, read with readlink; only for kind 'symlink'. */
  linkTarget?: Buffer;
}

/** Errors of the filesystem layer carry a stable code; `errno` keeps the OS code when there was one. */
export type FsErrorCode =
  | 'unsafe-path' // a relative path from the wire that could escape the root
  | 'path-too-long' // longer than the OS allows (PATH_MAX / NAME_MAX)
  | 'mount-lost' // the guarded root is no longer the mount it was
  | 'not-a-directory' // a path component that should be a directory is not (e.g. a symlink)
  | 'range-missing' // a large file's staging file lacks ranges the journal had verified
  | 'hash-mismatch' // what was written reads back different from the source SHA-256
  | 'io'; // anything else, see errno
