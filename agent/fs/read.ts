/**
 * Owns opening source files for reading: O_RDONLY|O_NOFOLLOW (a symlink swapped in after the scan is
 * refused, never followed; a FIFO does not block the open) and O_NOATIME where the kernel allows it (owner or root; silently dropped
 * otherwise, and ignored by NFS clients), so a migration does not rewrite the source's atimes. The
 * metadata comes from fstat of the same fd, so it describes exactly the file being read.
 */
import fs from 'node:fs';
import type { EntryMeta } from './api.ts';
import { FsError, classify, isErrno } from './errors.ts';
import { metaFromStats } from './meta.ts';
import { relToDisplay } from './relpath.ts';

const O_NOATIME = fs.constants.O_NOATIME ?? 0;
// O_NONBLOCK: a FIFO swapped in after the scan must not block the open (it is then refused after
// fstat); Linux ignores O_NONBLOCK for regular files.
const BASE_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
const FSTAT_OPTIONS = { bigint: true } as const;
let noatimeAllowed = O_NOATIME !== 0;

export interface OpenedFile {
  fd: number;
  meta: EntryMeta;
}

/** Opens a regular file for reading; throws FsError (a non-regular file is refused with 'io'). Close fd yourself. */
export function openForRead(absPath: Buffer): OpenedFile {
  let fd: number;
  try {
    fd = openNoFollow(absPath);
  } catch (err) {
    throw classify(err, absPath);
  }
  try {
    const meta = metaFromStats(fs.fstatSync(fd, FSTAT_OPTIONS));
    if (meta.kind !== 'file') throw new FsError('io', `"${relToDisplay(absPath)}" is a ${meta.kind}, not a regular file.`, { path: absPath });
    return { fd, meta };
  } catch (err) {
    fs.closeSync(fd);
    throw classify(err, absPath);
  }
}

function openNoFollow(absPath: Buffer): number {
  if (noatimeAllowed) {
    try {
      return fs.openSync(absPath, BASE_FLAGS | O_NOATIME);
    } catch (err) {
      // EPERM: not the owner and no CAP_FOWNER. Not being root, stop asking (saves a failed open per file).
      if (!isErrno(err, 'EPERM')) throw err;
      if (process.getuid?.() !== 0) noatimeAllowed = false;
    }
  }
  return fs.openSync(absPath, BASE_FLAGS);
}
