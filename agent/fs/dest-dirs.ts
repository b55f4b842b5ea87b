/**
 * Owns "is it safe to create something in root/relDir?" on the destination: every component of relDir
 * (and the root) must be a real directory, not a symlink, on the guarded device. A symlink planted in
 * the destination tree is never followed: it fails with 'not-a-directory'; a component on another
 * device fails with 'mount-lost'. Verified directories are cached by relDir (bounded; cleared when
 * full), so the hot path is one Map lookup per file. The engine tells the cache about directories it
 * creates (remember) and removes or replaces (forget).
 */
import fs from 'node:fs';
import { FsError, classify } from './errors.ts';
import { majorMinorOf } from './mountinfo.ts';
import { joinRel, relToDisplay } from './relpath.ts';

const SLASH = 0x2f;
const LSTAT_OPTIONS = { bigint: true, throwIfNoEntry: false } as const;

export class DestDirs {
  readonly root: Buffer;
  readonly expectedDev: bigint;
  private readonly maxEntries: number;
  /** relDir (latin1: one char per byte, lossless) → absolute path. */
  private readonly verified = new Map<string, Buffer>();

  constructor(root: Buffer, expectedDev: bigint, maxEntries = 8192) {
    this.root = root;
    this.expectedDev = expectedDev;
    this.maxEntries = maxEntries;
  }

  /**
   * The absolute path of root/relDir after checking that it and every parent up to the root is a real
   * directory on the expected device. relDir must already be a validated relPath (empty = the root).
   * A missing component is an FsError 'io' with errno ENOENT (findDir says it without throwing).
   */
  verifyDir(relDir: Buffer): Buffer {
    const abs = this.findDir(relDir);
    if (abs) return abs;
    const missing = joinRel(this.root, relDir);
    throw new FsError('io', `"${relToDisplay(missing)}" does not exist.`, { path: missing, errno: 'ENOENT' });
  }

  /**
   * Like verifyDir, but null when a component does not exist (the destination creates directories as
   * their first file arrives, so this is the normal case once per directory: no exception for it).
   */
  findDir(relDir: Buffer): Buffer | null {
    const hit = this.verified.get(relDir.toString('latin1'));
    if (hit) return hit;
    if (relDir.length === 0) return this.checkOne(relDir);
    // The longest ancestor already verified (the root counts), then check each component below it.
    let known = -1;
    for (let end = relDir.lastIndexOf(SLASH); end > 0; end = relDir.lastIndexOf(SLASH, end - 1)) {
      if (this.verified.has(relDir.subarray(0, end).toString('latin1'))) {
        known = end;
        break;
      }
    }
    if (known < 0 && !this.verified.has('') && !this.checkOne(relDir.subarray(0, 0))) return null;
    let start = known < 0 ? 0 : known + 1;
    for (;;) {
      const slash = relDir.indexOf(SLASH, start);
      if (slash < 0) return this.checkOne(relDir);
      if (!this.checkOne(relDir.subarray(0, slash))) return null;
      start = slash + 1;
    }
  }

  /** Records a directory the engine just created itself (with createDirSafe) as verified. */
  remember(relDir: Buffer, absDir?: Buffer): void {
    this.add(relDir.toString('latin1'), absDir ?? joinRel(this.root, relDir));
  }

  /** Drops relDir and everything below it from the cache (after a delete or replace); no argument: all. */
  forget(relDir?: Buffer): void {
    if (relDir === undefined || relDir.length === 0) {
      this.verified.clear();
      return;
    }
    const key = relDir.toString('latin1');
    const below = `${key}/`;
    for (const k of this.verified.keys()) if (k === key || k.startsWith(below)) this.verified.delete(k);
  }

  /** root/rel checked as a directory on the device; null when it does not exist. */
  private checkOne(rel: Buffer): Buffer | null {
    const abs = joinRel(this.root, rel);
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(abs, LSTAT_OPTIONS);
    } catch (err) {
      throw classify(err, abs);
    }
    if (!st) return null;
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new FsError('not-a-directory', `"${relToDisplay(abs)}" is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; Ferry does not write through it.`, {
        path: abs,
      });
    }
    if (st.dev !== this.expectedDev) {
      throw new FsError(
        'mount-lost',
        `"${relToDisplay(abs)}" is on device ${majorMinorOf(st.dev)}, not on the destination's device ${majorMinorOf(this.expectedDev)}. Ferry stopped writing.`,
        { path: abs },
      );
    }
    this.add(rel.toString('latin1'), abs);
    return abs;
  }

  private add(key: string, abs: Buffer): void {
    if (this.verified.size >= this.maxEntries) this.verified.clear();
    this.verified.set(key, abs);
  }
}
