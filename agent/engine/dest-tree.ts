/**
 * The destination tree of one task, as the destination worker may touch it: every operation takes a
 * relative path from the wire, validates it (no '..', no absolute path), reaches its parent through
 * DestDirs (real directories on the guarded device, symlinks never followed), and creates entries
 * only through agent/fs's safe primitives. Missing parent directories are created on demand (mode
 * 0700 until the dirs phase gives them their real metadata). The first time this process writes into
 * a directory it did not create, it removes leftover `.ferry-tmp.*` files there (older than this
 * process: a live writer's temp file is never touched). Synchronous throughout: called from frame
 * handlers and job runners, which keep each call short.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DestDirs } from '../fs/dest-dirs.ts';
import { FsError, classify, isErrno } from '../fs/errors.ts';
import { applyMeta } from '../fs/apply.ts';
import { AtomicFileWriter, RANGE_STAGE_PREFIX, TEMP_PREFIX, createDirSafe, rangeStageName, createHardLink, createSymlinkAtomic } from '../fs/atomic-write.ts';
import { listDirSync } from '../fs/walk.ts';
import type { EntryMeta } from '../fs/api.ts';
import type { MountGuard } from '../fs/mount-guard.ts';
import { joinRel, splitParent, startsWithBytes, validateName, validateRelPath } from '../fs/relpath.ts';
import { taskStageTag } from './ranges.ts';

const SLASH = 0x2f;
const TEMP = Buffer.from(TEMP_PREFIX);
const STAGE = Buffer.from(RANGE_STAGE_PREFIX);
const startedNs = BigInt(Date.now() - 1000) * 1_000_000n;

/** What a commit of a staging file needs besides the entry's path and meta (protocol CommitItem). */
export interface StagedCommit {
  stage: string;
  stageId: string;
  rangeSize: number;
  srcHash?: string | undefined;
}

export class DestTree {
  readonly root: Buffer;
  readonly guard: MountGuard;
  readonly dirs: DestDirs;
  private readonly swept = new Set<string>();

  /** RANGE_STAGE_PREFIX + this task's tag: the staging files the final sweep may remove. */
  private readonly ownStages: Buffer;

  constructor(guard: MountGuard, taskId: string) {
    this.ownStages = Buffer.from(`${RANGE_STAGE_PREFIX}${taskStageTag(taskId)}-`, 'latin1');
    this.guard = guard;
    this.root = guard.realRoot;
    this.dirs = new DestDirs(this.root, guard.expectedDev);
  }

  get dev(): bigint {
    return this.guard.expectedDev;
  }

  /**
   * Validates rel and splits it: [absolute parent dir (exists, verified), name]. Every creation goes
   * through here, so the root is checked first (one lstat): cached parent paths are plain paths, and
   * after a lazy unmount they would resolve into the local directory under the mount point.
   */
  parentOf(rel: Buffer): [Buffer, Buffer] {
    validateRelPath(rel);
    if (rel.length === 0) throw new FsError('unsafe-path', 'The destination root itself cannot be replaced.');
    this.guard.checkDevRecent(); // entries created under it check their own device
    const [parent, name] = splitParent(rel);
    return [this.ensureDir(parent), name];
  }

  /** root/relDir as a verified directory, creating missing components. */
  ensureDir(relDir: Buffer): Buffer {
    const found = this.dirs.findDir(relDir);
    if (found) {
      this.sweepOnce(relDir, found);
      return found;
    }
    // Walk down from the root, creating what is missing.
    let parentAbs = this.dirs.verifyDir(Buffer.alloc(0));
    let start = 0;
    for (;;) {
      const slash = relDir.indexOf(SLASH, start);
      const end = slash < 0 ? relDir.length : slash;
      const prefix = relDir.subarray(0, end);
      const name = relDir.subarray(start, end);
      let abs = this.dirs.findDir(prefix);
      if (!abs) {
        this.guard.checkDev();
        createDirSafe(parentAbs, Buffer.from(name), this.dev);
        abs = joinRel(this.root, prefix);
        this.dirs.remember(Buffer.from(prefix), abs);
        this.swept.add(prefix.toString('latin1'));
      }
      if (slash < 0) return abs;
      parentAbs = abs;
      start = slash + 1;
    }
  }

  /** Removes stale temp files of a dead writer, once per directory and process. */
  private sweepOnce(relDir: Buffer, abs: Buffer): void {
    const key = relDir.toString('latin1');
    if (this.swept.has(key)) return;
    this.swept.add(key);
    this.sweepTemps(abs, startedNs);
  }

  /**
   * Unlinks the `.ferry-tmp.*` temp files of absDir whose ctime is before olderThanNs, or with
   * `final` (the directory's final sweep, when the task's copying is over) every temp file and this
   * task's staging files. ctime, not mtime: a live writer gives its temp file the source's (old)
   * mtime before the rename, and another destination host writing the same shared tree must not take
   * that for a dead writer's. Staging files outlive restarts (their verified ranges are kept) and are
   * never another task's to remove. (Another task finishing a directory this one still writes into
   * removes its temp files: those files fail with ENOENT and are tried again.)
   */
  sweepTemps(absDir: Buffer, olderThanNs: bigint, final = false): number {
    let removed = 0;
    try {
      for (const batch of listDirSync(absDir, { namePrefix: TEMP, onEntryError: () => undefined })) {
        for (const e of batch) {
          if (e.meta.kind === 'dir') continue;
          if (startsWithBytes(e.name, STAGE) ? !(final && startsWithBytes(e.name, this.ownStages)) : !final && e.meta.ctimeNs >= olderThanNs) continue;
          try {
            fs.unlinkSync(joinRel(absDir, e.name));
            removed++;
          } catch {
            // gone already
          }
        }
      }
    } catch {
      // unreadable directory: nothing to sweep
    }
    return removed;
  }

  writeSymlink(rel: Buffer, target: Buffer, meta: EntryMeta, owner: boolean): void {
    const [parent, name] = this.parentOf(rel);
    this.replaceDirIfAny(parent, name);
    createSymlinkAtomic(parent, Buffer.from(name), target, meta, { owner, expectedDev: this.dev });
  }

  /** rel becomes another name of targetRel (which must be a regular file, not followed if a symlink). */
  makeHardLink(rel: Buffer, targetRel: Buffer): void {
    const [targetParent, targetName] = this.parentOf(targetRel);
    const targetAbs = joinRel(targetParent, targetName);
    const st = fs.lstatSync(targetAbs);
    if (!st.isFile()) throw new FsError('io', 'The first name of this hard-link group is not a regular file at the destination.', { path: targetAbs });
    const [parent, name] = this.parentOf(rel);
    validateName(name);
    this.guard.checkDev(); // a link's device is not checked after it is made
    createHardLink(targetAbs, joinRel(parent, name));
  }

  /** Creates root/rel if missing and applies the directory's metadata (call after its contents are done). */
  finishDir(rel: Buffer, meta: EntryMeta, owner: boolean): void {
    validateRelPath(rel);
    const abs = this.ensureDir(rel);
    this.sweepTemps(abs, startedNs, true);
    applyMeta(abs, meta, { owner });
  }

  /**
   * Gives a large file's staging file its metadata and its name, once every range is verified. The
   * staging file must be the one the ranges were written to (stageId: same inode and birth, so one
   * deleted and re-created by later ranges is refused) and complete; with srcHash ('transferred'
   * verification) it is read back range by range, yielding to the event loop between ranges, and
   * its digests must give srcHash. Else 'range-missing', and the coordinator copies the file again.
   * A commit that comes again after its answer was lost finds the file in place and succeeds.
   */
  async commitStaged(rel: Buffer, c: StagedCommit, meta: EntryMeta, opts: { owner: boolean; fsync: boolean }): Promise<void> {
    const [parent, name] = this.parentOf(rel);
    this.replaceDirIfAny(parent, name);
    const finalAbs = joinRel(parent, name);
    let w: AtomicFileWriter;
    try {
      w = new AtomicFileWriter(parent, this.dev, { stage: rangeStageName(c.stage), create: false });
    } catch (err) {
      if (err instanceof FsError && err.code === 'range-missing' && isCommitted(finalAbs, c.stageId, meta.size)) return;
      throw err;
    }
    const lost = (why: string) => {
      w.abort();
      w.discard();
      return new FsError('range-missing', `The staged ranges of this file ${why}; they are copied again.`);
    };
    if (w.stageId !== c.stageId || w.bytesWritten !== meta.size) throw lost(`are incomplete (${w.bytesWritten} of ${meta.size} bytes, or the staging file was replaced)`);
    if (c.srcHash !== undefined) {
      const combined = createHash('sha256');
      for (let off = 0; off < meta.size; off += c.rangeSize) {
        combined.update(w.readBackRange(off, Math.min(c.rangeSize, meta.size - off)));
        await yieldToLoop();
        this.guard.checkDev();
      }
      if (combined.digest('hex') !== c.srcHash) throw lost('read back different from the source SHA-256');
    }
    try {
      w.commit(Buffer.from(name), meta, { owner: opts.owner, fsync: opts.fsync, readBack: false });
    } catch (err) {
      // Another commit of the same file (requeued after a lost worker) put it in place first.
      if (isCommitted(finalAbs, c.stageId, meta.size)) return;
      throw err;
    }
  }

  /** Removes the staging file of an attempt at rel that ended (gone already is fine). */
  discardStaged(rel: Buffer, stage: string): void {
    const [parent] = this.parentOfExisting(rel);
    if (!parent) return;
    this.guard.checkDev();
    try {
      fs.unlinkSync(joinRel(parent, rangeStageName(stage)));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw classify(err, parent);
    }
  }

  /** lstat of root/rel, or null when absent. Never follows a final symlink. */
  statRel(rel: Buffer): fs.BigIntStats | null {
    const [parent, name] = this.parentOfExisting(rel);
    if (!parent) return null;
    return fs.lstatSync(joinRel(parent, name), { bigint: true, throwIfNoEntry: false }) ?? null;
  }

  /** Like parentOf but never creates: [null, name] when the parent does not exist. */
  parentOfExisting(rel: Buffer): [Buffer | null, Buffer] {
    validateRelPath(rel);
    const [parent, name] = splitParent(rel);
    return [this.dirs.findDir(parent), name];
  }

  /** Removes root/rel (a directory with everything in it), never following symlinks. */
  remove(rel: Buffer): void {
    const [parent, name] = this.parentOfExisting(rel);
    if (!parent) return;
    this.guard.checkDev();
    removeTreeAt(joinRel(parent, name));
    this.dirs.forget(rel);
  }

  /** A directory where a non-directory must go (file replaced a dir at the source): remove it first. */
  private replaceDirIfAny(parent: Buffer, name: Buffer): void {
    const abs = joinRel(parent, name);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new FsError('io', 'A directory is in the way at the destination (the source has a non-directory here).', { path: abs, errno: 'EISDIR' });
  }
}

function isCommitted(finalAbs: Buffer, stageId: string, size: number): boolean {
  const st = fs.lstatSync(finalAbs, { bigint: true, throwIfNoEntry: false });
  return st !== undefined && st.isFile() && `${st.ino}:${st.birthtimeNs}` === stageId && Number(st.size) === size;
}

/** rm -r without following symlinks: iterative post-order (no recursion limit). */
export function removeTreeAt(abs: Buffer): void {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) {
    fs.unlinkSync(abs);
    return;
  }
  const stack: { path: Buffer; listed: boolean }[] = [{ path: abs, listed: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { path: Buffer; listed: boolean };
    if (top.listed) {
      stack.pop();
      fs.rmdirSync(top.path);
      continue;
    }
    top.listed = true;
    try {
      for (const batch of listDirSync(top.path, { onEntryError: () => undefined })) {
        for (const e of batch) {
          const p = joinRel(top.path, e.name);
          if (e.meta.kind === 'dir') stack.push({ path: p, listed: false });
          else fs.unlinkSync(p);
        }
      }
    } catch (err) {
      throw classify(err, top.path);
    }
  }
}
