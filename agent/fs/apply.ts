/**
 * Owns applying metadata (owner, permission bits, times) to an entry that already exists, by path.
 *
 * Order matters:
 *   1. lchown (only with { owner: true } and when running as root): chown clears setuid/setgid,
 *      so it must come before chmod;
 *   2. chmod with the full 0o7777 bits (not for symlinks: Linux has no lchmod, and a link's own mode
 *      is meaningless);
 *   3. times last, with utimensat(AT_SYMLINK_NOFOLLOW) (nanoseconds via the addon; see native.ts for
 *      the microsecond fallback), because chown/chmod change ctime only but anything written later
 *      would change mtime.
 *
 * Directories: creating or renaming anything inside a directory updates its mtime, so the engine calls
 * applyMeta on a directory only after all of its contents are written (post-order), and the
 * destination root last.
 *
 * Regular files written through AtomicFileWriter get their metadata from commit() (on the fd) instead.
 */
import fs from 'node:fs';
import type { EntryMeta } from './api.ts';
import { FsError, classify } from './errors.ts';
import { setTimes, setTimesFd } from './native.ts';
import { relToDisplay } from './relpath.ts';

export interface ApplyOptions {
  /** Copy uid/gid. Honoured only when running as root (others cannot give files away). */
  owner: boolean;
}

/** Whether this process runs as root (then ownership can be copied). */
export const isRoot: boolean = typeof process.getuid === 'function' && process.getuid() === 0;

// libuv adds O_CLOEXEC to every open itself.
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const DIR_OPEN_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const LSTAT_OPTIONS = { bigint: false } as const;

/**
 * Applies owner, mode and times to an existing entry, never following a symlink at absPath:
 * directories through an fd opened with O_NOFOLLOW|O_DIRECTORY (a symlink there fails with
 * 'not-a-directory'); symlinks with lchown and utimensat(NOFOLLOW); other kinds (fifo, socket,
 * devices) by path after an lstat that confirms the entry is not a symlink.
 */
export function applyMeta(absPath: Buffer, meta: EntryMeta, options: ApplyOptions): void {
  const chown = options.owner && isRoot;
  const mode = meta.mode & 0o7777;
  try {
    if (meta.kind === 'dir') {
      const fd = fs.openSync(absPath, DIR_OPEN_FLAGS);
      try {
        if (chown) fs.fchownSync(fd, meta.uid, meta.gid);
        fs.fchmodSync(fd, mode);
        setTimesFd(fd, meta.atimeNs, meta.mtimeNs);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    if (chown) fs.lchownSync(absPath, meta.uid, meta.gid);
    if (meta.kind !== 'symlink') {
      if (fs.lstatSync(absPath, LSTAT_OPTIONS).isSymbolicLink()) {
        throw new FsError('not-a-directory', `"${relToDisplay(absPath)}" is a symlink, expected a ${meta.kind}; not following it.`, {
          path: absPath,
        });
      }
      fs.chmodSync(absPath, mode);
    }
    setTimes(absPath, meta.atimeNs, meta.mtimeNs, true);
  } catch (err) {
    throw classify(err, absPath);
  }
}

/** Only the times (e.g. to restore a directory's mtime after the engine touched its contents again). */
export function applyTimes(absPath: Buffer, meta: Pick<EntryMeta, 'atimeNs' | 'mtimeNs'>): void {
  try {
    setTimes(absPath, meta.atimeNs, meta.mtimeNs, true);
  } catch (err) {
    throw classify(err, absPath);
  }
}
