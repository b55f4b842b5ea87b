/**
 * Owns creating entries on the destination without ever exposing a partial one and without writing
 * anywhere but the guarded mount:
 *   - AtomicFileWriter: a regular file is written under a short temp name `.ferry-tmp.<random>.<n>` in
 *     its final directory (short, so a 255-byte final name still fits), opened with
 *     O_CREAT|O_EXCL|O_RDWR|O_NOFOLLOW; fstat must show the expected device (else 'mount-lost', the
 *     temp file is removed). `commit` sets the final size (when the writes did not), fsyncs the data,
 *     applies owner and mode on the fd (only what differs from the new file's), optionally re-reads
 *     and hashes the bytes through the same fd, sets the times, closes and renames over the final name (that is also
 *     how an existing file is overwritten). `abort` closes and unlinks.
 *     In sparse mode, all-zero 4 KiB blocks (aligned to file offsets) are not written, so holes stay
 *     holes; this assumes each byte range is written once (or again with identical data).
 *     A staging file (options.stage) holds one large file's ranges, written by several writers (even
 *     on several hosts) under one name: opened without O_EXCL (and without O_CREAT to commit it),
 *     each range finished on its own (`finishRange`: fsync, read back); abort only closes it. The
 *     writer that commits it adopts the complete file and renames it like any other.
 *   - writeWholeFile: the same for a file whose bytes are all in memory (a small file), in one addon
 *     call where it can (ferry_fs.c writeWhole), else through AtomicFileWriter.
 *   - createDirSafe: mkdir, then lstat: must be a directory on the expected device.
 *   - createSymlinkAtomic: symlink under a temp name, owner and times on the link, rename.
 *   - createHardLink: link, or link under a temp name and rename when the name exists.
 * Callers verify the parent directory first (DestDirs.verifyDir), so no symlink in the destination
 * is ever followed. Everything is synchronous, the cheapest way for small files; the agent's event
 * loop waits meanwhile.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { EntryMeta } from './api.ts';
import { isRoot } from './apply.ts';
import { FsError, classify, isErrno } from './errors.ts';
import { majorMinorOf } from './mountinfo.ts';
import { sha256Fd, sha256FdRange } from './hash.ts';
import { hashFdRange } from './hash-pool.ts';
import { WriteWholeFlag, WriteWholeStatus, canWriteWhole, setTimes, setTimesFd, writeWhole } from './native.ts';
import { PATH_MAX_BYTES, relToDisplay, validateName } from './relpath.ts';

const SLASH = 0x2f;
const BLOCK = 4096;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const { O_CREAT, O_EXCL, O_RDWR, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
// Read-write: the 'transferred' verification reads the bytes back through the same descriptor.
const CREATE_FLAGS = O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW;
const LSTAT_OPTIONS = { bigint: true } as const;

/** Prefix of every temp name Ferry creates; the engine may clean up leftovers starting with it. */
export const TEMP_PREFIX = '.ferry-tmp.';
/**
 * Prefix of a large file's staging file (+ the task's stage key): it outlives agent restarts, so a
 * resumed task keeps the ranges already verified; only a directory's final sweep removes leftovers.
 */
export const RANGE_STAGE_PREFIX = `${TEMP_PREFIX}range.`;

export function rangeStageName(stage: string): Buffer {
  return Buffer.from(RANGE_STAGE_PREFIX + stage, 'latin1');
}
// Random per thread (module instance), plus a counter: unique without a syscall per name.
const TEMP_STEM = Buffer.from(`${TEMP_PREFIX}${randomBytes(6).toString('hex')}.`);
let tempCounter = 0;

/** A fresh temp name (bytes), at most 40 bytes whatever the final name is. */
export function tempName(): Buffer {
  tempCounter = (tempCounter + 1) % Number.MAX_SAFE_INTEGER;
  return Buffer.concat([TEMP_STEM, Buffer.from(tempCounter.toString(36))]);
}

function join(dir: Buffer, name: Uint8Array): Buffer {
  const sep = dir.length > 0 && dir[dir.length - 1] === SLASH ? 0 : 1;
  const len = dir.length + sep + name.length;
  if (len > PATH_MAX_BYTES) {
    const p = Buffer.concat([dir, Buffer.of(SLASH), name]);
    throw new FsError('path-too-long', `"${relToDisplay(p)}" is ${len} bytes; the limit is ${PATH_MAX_BYTES}.`, { path: p, errno: 'ENAMETOOLONG' });
  }
  const out = Buffer.allocUnsafe(len);
  out.set(dir, 0);
  if (sep) out[dir.length] = SLASH;
  out.set(name, dir.length + sep);
  return out;
}

function mountLost(path: Buffer, dev: bigint, expectedDev: bigint): FsError {
  return new FsError(
    'mount-lost',
    `"${relToDisplay(path)}" landed on device ${majorMinorOf(dev)} instead of the destination's device ${majorMinorOf(expectedDev)}: the mount is gone. Ferry stopped writing. Remount it and resume the task.`,
    { path },
  );
}

function readBackDiffers(finalPath: Buffer): FsError {
  return new FsError('hash-mismatch', `${relToDisplay(finalPath)} read back different from the source SHA-256; it was not put in place.`, { path: finalPath });
}

function checkDirDev(absDir: Buffer, expectedDev: bigint): void {
  const st = fs.lstatSync(absDir, LSTAT_OPTIONS);
  if (st.dev !== expectedDev) throw mountLost(absDir, st.dev, expectedDev);
  if (!st.isDirectory()) throw new FsError('not-a-directory', `"${relToDisplay(absDir)}" is not a directory.`, { path: absDir });
}

function writeAll(fd: number, buf: Uint8Array, start: number, end: number, position: number): void {
  let off = start;
  while (off < end) {
    const n = fs.writeSync(fd, buf, off, end - off, position + (off - start));
    if (n <= 0) throw new FsError('io', 'write returned 0 bytes', { errno: 'EIO' });
    off += n;
  }
}

/** True when buf[start, end) is all zero bytes (end - start <= 4096). */
function isZero(buf: Uint8Array, start: number, end: number): boolean {
  return ZERO_BLOCK.compare(buf, start, end, 0, end - start) === 0;
}

export interface WriterOptions {
  /** Skip all-zero 4 KiB blocks so the new file stays sparse (use when the source file was sparse). */
  sparse?: boolean;
  /** Open this staging file (a name in destDir, see rangeStageName) instead of a fresh temp file. */
  stage?: Buffer;
  /** With stage: create it when missing (writing a range); false to commit an existing one. */
  create?: boolean;
  /**
   * The final mode, when known: the temp file is created with its permission bits (owner read and
   * write always kept, as NFS servers check them on every write), so commit rarely needs fchmod.
   */
  mode?: number;
}

export interface CommitOptions {
  /** Copy uid/gid (only effective as root). */
  owner: boolean;
  /** fsync the data before the metadata and the rename (default true). */
  fsync?: boolean;
  /** Re-read the file after the fsync and keep its SHA-256 in `readBackHash`. */
  readBack?: boolean;
  /**
   * With readBack: the SHA-256 the file must read back as (the source's). A different one is never
   * renamed into place: the temp file is removed and an FsError 'hash-mismatch' thrown.
   */
  expectHash?: Buffer;
}

export class AtomicFileWriter {
  readonly destDir: Buffer;
  readonly tempPath: Buffer;
  readonly expectedDev: bigint;
  private readonly sparse: boolean;
  /** A shared staging file: abort keeps it (other ranges live in it). */
  private readonly staged: boolean;
  /**
   * Which file a staging file is, "inode:birth time ns": its ranges and its commit must have found
   * the same one. (Over NFS v3 the birth time is 0 and a re-created file may get the same inode
   * number back; the staging file's unguessable name is what keeps others from re-creating it.)
   */
  readonly stageId: string;
  private fd: number;
  /** 'finishing': a range's read-back is on the hashing thread; the fd stays open until it ends. */
  private state: 'open' | 'finishing' | 'committed' | 'aborted' = 'open';
  /** Owner and mode the new file got, so commit only changes what differs. */
  private created: { uid: number; gid: number; mode: number } = { uid: -1, gid: -1, mode: -1 };
  /** Bytes actually handed to write(2) (zero blocks skipped in sparse mode are not counted). */
  bytesWritten = 0;
  /** After a commit with readBack: SHA-256 of the bytes as read back from the file. */
  readBackHash: Buffer | null = null;

  /** Creates the temp file in destDir (an absolute, already verified directory). */
  constructor(destDir: Buffer, expectedDev: bigint, options: WriterOptions = {}) {
    this.destDir = destDir;
    this.expectedDev = expectedDev;
    this.sparse = options.sparse ?? false;
    this.staged = options.stage !== undefined;
    const [path, fd] = options.stage ? openStage(join(destDir, options.stage), options.create ?? true) : createTemp(destDir, ((options.mode ?? 0) & 0o777) | 0o600);
    this.tempPath = path;
    this.fd = fd;
    let st: fs.BigIntStats;
    try {
      st = fs.fstatSync(fd, LSTAT_OPTIONS);
      this.created = { uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode) & 0o7777 };
    } catch (err) {
      this.abort();
      throw classify(err, path);
    }
    this.stageId = this.staged ? `${st.ino}:${st.birthtimeNs}` : '';
    if (st.dev !== expectedDev) {
      this.abort();
      throw mountLost(destDir, st.dev, expectedDev);
    }
    if (!st.isFile()) {
      this.abort();
      throw new FsError('io', `The staging file ${relToDisplay(path)} is not a regular file.`, { path });
    }
    // Another name for it (a hard link planted in advance) could point outside the destination root.
    if (this.staged && st.nlink !== 1n) {
      this.abort();
      throw new FsError('io', `The staging file ${relToDisplay(path)} has ${st.nlink} names (hard links); Ferry does not write into it.`, { path });
    }
    // An adopted staging file already holds its bytes (commit checks they are all there).
    if (this.staged && !(options.create ?? true)) this.bytesWritten = Number(st.size);
  }

  /** Size of the open file now. */
  currentSize(): number {
    this.assertOpen();
    return Number(fs.fstatSync(this.fd, LSTAT_OPTIONS).size);
  }

  /**
   * Ends the writing of one range of a staging file: fsync (unless off; its error is thrown at once,
   * so a full or lost destination stops the session before its next record), then the range read
   * back through the same fd (readBackHash) on the hashing thread (hash-pool.ts) while the caller's
   * thread goes on receiving, then close. The staging file stays for the other ranges. Until the
   * promise settles the fd stays open whatever else happens (abort() leaves it alone), so the
   * hashing thread never reads a descriptor number that was reused.
   */
  finishRange(offset: number, length: number, options: { fsync: boolean; readBack: boolean }): Promise<void> {
    this.assertOpen();
    const fd = this.fd;
    try {
      if (options.fsync) fs.fsyncSync(fd);
    } catch (err) {
      this.abort();
      throw classify(err, this.tempPath);
    }
    if (!options.readBack) {
      this.readBackHash = null;
      this.closeFinished(fd);
      return Promise.resolve();
    }
    this.state = 'finishing';
    return hashFdRange(fd, offset, length).then(
      (digest) => {
        this.readBackHash = digest;
        this.closeFinished(fd);
      },
      (err: unknown) => {
        this.state = 'aborted';
        this.closeQuietly(); // the read's error is the one to report
        throw classify(err, this.tempPath);
      },
    );
  }

  /** Closes a finished range's fd; a failing close fails the range (its bytes may not be on the server). */
  private closeFinished(fd: number): void {
    this.fd = -1;
    this.state = 'committed';
    try {
      fs.closeSync(fd);
    } catch (err) {
      this.state = 'aborted';
      throw classify(err, this.tempPath);
    }
  }

  /**
   * Writes buf at position (synchronously, all of it). In sparse mode all-zero 4 KiB blocks are
   * skipped. Returns the bytes actually written.
   */
  write(buf: Uint8Array, position: number): number {
    this.assertOpen();
    try {
      if (!this.sparse) {
        writeAll(this.fd, buf, 0, buf.length, position);
        this.bytesWritten += buf.length;
        return buf.length;
      }
      const n = buf.length;
      let written = 0;
      let run = -1; // start of the current run of non-zero blocks
      let i = 0;
      while (i < n) {
        const end = Math.min(n, i + BLOCK - ((position + i) % BLOCK));
        if (isZero(buf, i, end)) {
          if (run >= 0) {
            writeAll(this.fd, buf, run, i, position + run);
            written += i - run;
            run = -1;
          }
        } else if (run < 0) {
          run = i;
        }
        i = end;
      }
      if (run >= 0) {
        writeAll(this.fd, buf, run, n, position + run);
        written += n - run;
      }
      this.bytesWritten += written;
      return written;
    } catch (err) {
      throw classify(err, this.tempPath);
    }
  }

  /**
   * Finishes the file: size, data, owner, mode and times; then renames it to destDir/finalName,
   * replacing what was there. Returns the final absolute path. On failure the temp file is removed.
   */
  commit(finalName: Buffer, meta: EntryMeta, options: CommitOptions): Buffer {
    this.assertOpen();
    const fd = this.fd;
    try {
      validateName(finalName);
      const finalPath = join(this.destDir, finalName);
      const sync = options.fsync ?? true;
      // A dense file written once end to end has its size already; a sparse one may end in a hole.
      if (this.sparse || this.bytesWritten !== meta.size) fs.ftruncateSync(fd, meta.size);
      // Data first (one fsync, the metadata after it): on NFS, dirty pages flushed after setting
      // mtime would overwrite it, and NFS v3 commits SETATTR before it answers. On a local disk a
      // power cut can at worst lose the times of a file whose bytes are safe, which an incremental
      // run or a full verification finds.
      if (sync) fs.fsyncSync(fd);
      const mode = meta.mode & 0o7777;
      let chowned = false;
      if (options.owner && isRoot && (meta.uid !== this.created.uid || meta.gid !== this.created.gid)) {
        fs.fchownSync(fd, meta.uid, meta.gid);
        chowned = true;
      }
      if (chowned || mode !== this.created.mode) fs.fchmodSync(fd, mode); // after chown, which clears setuid/setgid
      this.readBackHash = options.readBack ? sha256Fd(fd, meta.size) : null;
      if (this.readBackHash && options.expectHash && !this.readBackHash.equals(options.expectHash)) {
        throw readBackDiffers(finalPath);
      }
      setTimesFd(fd, meta.atimeNs, meta.mtimeNs); // after the read-back, which may set atime
      this.fd = -1;
      fs.closeSync(fd);
      this.renameIntoPlace(finalPath);
      this.state = 'committed';
      return finalPath;
    } catch (err) {
      this.abort();
      throw classify(err, this.tempPath);
    }
  }

  /**
   * The temp name is random and exists only where it was created (fstat checked that device), so the
   * rename cannot land on the disk under a vanished mount: it fails. Only then is the directory's
   * device asked, to name the real cause.
   */
  private renameIntoPlace(finalPath: Buffer): void {
    try {
      fs.renameSync(this.tempPath, finalPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) checkDirDev(this.destDir, this.expectedDev);
      throw err;
    }
  }

  /**
   * Closes and removes the temp file (a staging file is only closed). Safe to call more than once,
   * and after a failed commit.
   */
  abort(): void {
    if (this.state === 'committed' || this.state === 'finishing') return;
    this.state = 'aborted';
    this.closeQuietly();
    if (this.staged) return;
    try {
      fs.unlinkSync(this.tempPath);
    } catch {
      // gone already, or the mount vanished (then it is not in the local directory either)
    }
  }

  /** Closes the fd if open, ignoring errors (it is being given up: what follows is what matters). */
  private closeQuietly(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already unusable
    }
    this.fd = -1;
  }

  /** SHA-256 of bytes [offset, offset + length) of the open file, read back through its fd. */
  readBackRange(offset: number, length: number): Buffer {
    this.assertOpen();
    try {
      return sha256FdRange(this.fd, offset, length);
    } catch (err) {
      throw classify(err, this.tempPath);
    }
  }

  /** Removes a staging file that cannot be committed (after abort). */
  discard(): void {
    try {
      fs.unlinkSync(this.tempPath);
    } catch {
      // gone already
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open' || this.fd < 0) throw new FsError('io', `The temp file ${relToDisplay(this.tempPath)} is already ${this.state}.`);
  }
}

/** writeWholeFile's read-back buffer (one per thread), grown to the largest file seen. */
let wholeScratch = Buffer.alloc(0);

function scratchFor(bytes: number): Buffer {
  if (wholeScratch.length < bytes) wholeScratch = Buffer.allocUnsafe(Math.max(bytes, 64 * 1024));
  return wholeScratch;
}

/**
 * Puts a file whose bytes are all in `data` (dense, data.length === meta.size) in place as
 * destDir/finalName with meta's owner, mode and times: what `new AtomicFileWriter(destDir, dev,
 * { mode })`, `write(data, 0)` and `commit(finalName, meta, options)` do, with the same checks and
 * the same errors (the temp file removed), in one addon call where it can. With readBack,
 * options.expectHash is required: the file must read back as it. Returns the final path.
 */
export function writeWholeFile(destDir: Buffer, finalName: Buffer, data: Uint8Array, meta: EntryMeta, expectedDev: bigint, options: CommitOptions): Buffer {
  checkWholeArgs(data, meta, options);
  if (!canWriteWhole()) return writeWholeWithoutAddon(destDir, finalName, data, meta, expectedDev, options);
  validateName(finalName);
  const finalPath = join(destDir, finalName);
  const mode = meta.mode & 0o7777;
  const flags = ((options.fsync ?? true) ? WriteWholeFlag.fsync : 0) | (options.readBack ? WriteWholeFlag.readBack : 0);
  const scratch = options.readBack ? scratchFor(data.length + 1) : null;
  const chown = options.owner && isRoot;
  for (let attempt = 0; ; attempt++) {
    const tempPath = join(destDir, tempName());
    let status: number;
    try {
      status = writeWhole(tempPath, finalPath, data, (mode & 0o777) | 0o600, mode, expectedDev, chown ? meta.uid : -1, chown ? meta.gid : -1, meta.atimeNs, meta.mtimeNs, flags, options.expectHash ?? null, scratch);
    } catch (err) {
      const syscall = (err as NodeJS.ErrnoException).syscall;
      if (syscall === 'open' && isErrno(err, 'EEXIST') && attempt < 5) continue; // the temp name was taken: nothing was created
      if (syscall === 'rename' && isErrno(err, 'ENOENT')) checkDirDev(destDir, expectedDev); // as renameIntoPlace
      throw classify(err, tempPath);
    }
    if (status === WriteWholeStatus.ok) return finalPath;
    if (status === WriteWholeStatus.otherDevice) throw mountLost(destDir, deviceOf(destDir), expectedDev);
    if (status === WriteWholeStatus.readBackDiffers) throw readBackDiffers(finalPath);
    throw new FsError('io', `The temp file ${relToDisplay(tempPath)} is not a regular file.`, { path: tempPath });
  }
}

/** writeWholeFile's path without the addon, exported so tests can check it while the addon is present. */
export function writeWholeWithoutAddon(destDir: Buffer, finalName: Buffer, data: Uint8Array, meta: EntryMeta, expectedDev: bigint, options: CommitOptions): Buffer {
  checkWholeArgs(data, meta, options);
  const w = new AtomicFileWriter(destDir, expectedDev, { mode: meta.mode });
  try {
    w.write(data, 0);
  } catch (err) {
    w.abort();
    throw err;
  }
  return w.commit(finalName, meta, options);
}

function checkWholeArgs(data: Uint8Array, meta: EntryMeta, options: CommitOptions): void {
  if (options.readBack && !options.expectHash) throw new Error('writeWholeFile: readBack needs expectHash');
  if (data.length !== meta.size) throw new Error(`writeWholeFile: ${data.length} bytes for a size of ${meta.size}`);
}

/** The device a directory is on now, for the message of a lost mount (0 when it cannot be read). */
function deviceOf(absDir: Buffer): bigint {
  try {
    return fs.lstatSync(absDir, LSTAT_OPTIONS).dev;
  } catch {
    return 0n;
  }
}

/** A fresh temp file in destDir (O_EXCL, a new random name on a collision). */
function createTemp(destDir: Buffer, mode: number): [Buffer, number] {
  let path = join(destDir, tempName());
  for (let attempt = 0; ; attempt++) {
    try {
      return [path, fs.openSync(path, CREATE_FLAGS, mode)];
    } catch (err) {
      if (!isErrno(err, 'EEXIST') || attempt >= 5) throw classify(err, path);
      path = join(destDir, tempName());
    }
  }
}

function openStage(path: Buffer, create: boolean): [Buffer, number] {
  try {
    return [path, fs.openSync(path, create ? O_CREAT | O_RDWR | O_NOFOLLOW : O_RDWR | O_NOFOLLOW, 0o600)];
  } catch (err) {
    if (!create && isErrno(err, 'ENOENT')) throw new FsError('range-missing', `The staging file ${relToDisplay(path)} is gone; its ranges are copied again.`, { path, errno: 'ENOENT' });
    throw classify(err, path);
  }
}

/**
 * mkdir absParent/name (mode 0o700 until applyMeta sets the real one), then checks with lstat that it
 * is a directory on expectedDev; otherwise removes it again and throws 'mount-lost'. An existing
 * directory on the right device is accepted (resume). Returns true when it was created now.
 */
export function createDirSafe(absParent: Buffer, name: Buffer, expectedDev: bigint, mode = 0o700): boolean {
  validateName(name);
  const abs = join(absParent, name);
  let created = true;
  try {
    fs.mkdirSync(abs, mode);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw classify(err, abs);
    created = false;
  }
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(abs, LSTAT_OPTIONS);
  } catch (err) {
    throw classify(err, abs);
  }
  if (!st.isDirectory()) {
    throw new FsError('not-a-directory', `"${relToDisplay(abs)}" exists and is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}.`, { path: abs });
  }
  if (st.dev !== expectedDev) {
    if (created) {
      try {
        fs.rmdirSync(abs);
      } catch {
        // best effort; the error below is what the operator needs
      }
    }
    throw mountLost(abs, st.dev, expectedDev);
  }
  return created;
}

export interface SymlinkOptions {
  /** Copy uid/gid (only effective as root). */
  owner?: boolean;
  /** When given, the new link must be on this device (else 'mount-lost'). */
  expectedDev?: bigint;
}

/**
 * Creates destDir/name as a symlink to target (bytes, not interpreted), with meta's owner and times,
 * atomically replacing an existing non-directory entry of that name. Returns the final path.
 */
export function createSymlinkAtomic(destDir: Buffer, name: Buffer, target: Buffer, meta: EntryMeta, options: SymlinkOptions = {}): Buffer {
  validateName(name);
  const finalPath = join(destDir, name);
  const tmp = join(destDir, tempName());
  try {
    fs.symlinkSync(target, tmp);
  } catch (err) {
    throw classify(err, tmp);
  }
  try {
    if (options.expectedDev !== undefined) {
      const dev = fs.lstatSync(tmp, LSTAT_OPTIONS).dev;
      if (dev !== options.expectedDev) throw mountLost(tmp, dev, options.expectedDev);
    }
    if (options.owner && isRoot) fs.lchownSync(tmp, meta.uid, meta.gid);
    setTimes(tmp, meta.atimeNs, meta.mtimeNs, true);
    fs.renameSync(tmp, finalPath);
    return finalPath;
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing left to remove
    }
    throw classify(err, finalPath);
  }
}

/**
 * Makes newAbs another name of existingAbs (same filesystem). If newAbs exists and is already that
 * file, nothing happens; if it is another file, it is replaced atomically (link to a temp name, rename).
 */
export function createHardLink(existingAbs: Buffer, newAbs: Buffer): void {
  try {
    fs.linkSync(existingAbs, newAbs);
    return;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw classify(err, newAbs);
  }
  try {
    const a = fs.lstatSync(existingAbs, LSTAT_OPTIONS);
    const b = fs.lstatSync(newAbs, LSTAT_OPTIONS);
    if (a.dev === b.dev && a.ino === b.ino) return;
  } catch (err) {
    throw classify(err, newAbs);
  }
  const slash = newAbs.lastIndexOf(SLASH);
  const tmp = join(slash < 0 ? Buffer.from('.') : newAbs.subarray(0, slash), tempName());
  try {
    fs.linkSync(existingAbs, tmp);
  } catch (err) {
    throw classify(err, tmp);
  }
  try {
    fs.renameSync(tmp, newAbs);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing left to remove
    }
    throw classify(err, newAbs);
  }
}

/** fsync a directory (makes renames and creations in it durable). */
export function syncDir(absDir: Buffer): void {
  let fd: number;
  try {
    fd = fs.openSync(absDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    throw classify(err, absDir);
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    throw classify(err, absDir);
  } finally {
    fs.closeSync(fd);
  }
}
