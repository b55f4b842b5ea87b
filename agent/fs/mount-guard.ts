/**
 * Owns noticing that a task's root is no longer the mount it was. If an NFS mount vanishes (unmounted,
 * autofs expiry, lazy umount), its mount point becomes a plain directory on the local disk: writing
 * there would silently fill the host's disk, and reading there would see an empty tree and think
 * everything was deleted. The guard records, at start, the root's device (lstat st_dev) and its mount
 * from /proc/self/mountinfo (mount id, mount point, fs type, source), and `check()` throws FsError
 * 'mount-lost' with a plain message when the root is gone, its device changed, or the mount left
 * mountinfo. `checkDev()` is the cheap per-file variant (one lstat); `checkDevRecent()` skips even
 * that lstat within RECENT_MS of the last passed one (for creating entries, whose own device is checked
 * anyway). `start()` checks periodically.
 *
 * AtomicFileWriter and createDirSafe additionally check the device of everything they create, so even
 * between two checks nothing is written outside the mount.
 */
import fs from 'node:fs';
import { FsError, classify } from './errors.ts';
import { findMountFor, majorMinorOf, parseMountInfo } from './mountinfo.ts';
import type { MountInfoLine } from './mountinfo.ts';
import { relToDisplay } from './relpath.ts';

export interface MountGuardOptions {
  /** Wording of messages: the destination is written, the source read. Default 'destination'. */
  role?: 'source' | 'destination';
  /** For tests; default /proc/self/mountinfo. */
  mountInfoPath?: string;
}

const LSTAT_OPTIONS = { bigint: true, throwIfNoEntry: false } as const;
/** Errors that mean "the root is not there any more" rather than a passing I/O problem. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ESTALE', 'ENODEV']);
/** How long a passed checkDev counts for checkDevRecent: a mount loss still stops writing within it. */
export const RECENT_MS = 20;

export class MountGuard {
  /** The root as given. */
  readonly root: Buffer;
  /** The root with symlinks resolved (what is checked). */
  readonly realRoot: Buffer;
  /** The mount holding the root at construction, or null where mountinfo cannot be read. */
  readonly mount: MountInfoLine | null;
  private readonly dev: bigint;
  private readonly ino: bigint;
  private readonly role: 'source' | 'destination';
  private readonly mountInfoPath: string;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() of the last checkDev that passed (-Infinity: none yet, or one failed). */
  private passedAt = -Infinity;

  constructor(root: Buffer | string, options: MountGuardOptions = {}) {
    this.root = typeof root === 'string' ? Buffer.from(root) : root;
    this.role = options.role ?? 'destination';
    this.mountInfoPath = options.mountInfoPath ?? '/proc/self/mountinfo';
    try {
      this.realRoot = fs.realpathSync(this.root, { encoding: 'buffer' });
      const st = fs.lstatSync(this.realRoot, { bigint: true });
      if (!st.isDirectory()) throw new FsError('not-a-directory', `The ${this.role} ${this.display()} is not a directory.`, { path: this.root });
      this.dev = st.dev;
      this.ino = st.ino;
    } catch (err) {
      throw classify(err, this.root);
    }
    const mounts = this.readMounts();
    this.mount = mounts ? findMountFor(mounts, this.realRoot.toString('latin1'), majorMinorOf(this.dev)) : null;
  }

  /** st_dev of the root when the guard was made: everything created under it must be on this device. */
  get expectedDev(): bigint {
    return this.dev;
  }

  /** One lstat: throws 'mount-lost' if the root is gone, on another device, or another directory (inode). */
  checkDev(): void {
    let st: fs.BigIntStats | undefined;
    this.passedAt = -Infinity; // whatever goes wrong below (an I/O error too) is not trusted later
    try {
      st = fs.lstatSync(this.realRoot, LSTAT_OPTIONS);
    } catch (err) {
      const e = classify(err, this.root);
      if (e.errno && GONE.has(e.errno)) throw this.lost(`no longer exists (${e.errno})`);
      throw e;
    }
    if (!st) throw this.lost('no longer exists');
    if (st.dev !== this.dev) {
      throw this.lost(`is no longer the mount it was (device ${majorMinorOf(this.dev)} → ${majorMinorOf(st.dev)})`);
    }
    if (!st.isDirectory()) throw this.lost('is no longer a directory');
    if (st.ino !== this.ino) throw this.lost(`is no longer the directory it was (inode ${this.ino} → ${st.ino})`);
    this.passedAt = performance.now();
  }

  /**
   * checkDev, unless one passed less than RECENT_MS ago. Only for creating entries: what is created
   * is checked for the root's device itself (AtomicFileWriter, createDirSafe, createSymlinkAtomic),
   * so nothing lands outside the mount in between; this lstat per file only makes a loss fail early,
   * and once per RECENT_MS does that as well. Removing and blaming a file always use checkDev.
   */
  checkDevRecent(): void {
    if (performance.now() - this.passedAt < RECENT_MS) return;
    this.checkDev();
  }

  /**
   * checkDev plus: the mount is still in mountinfo with the same id, mount point, device, fs type,
   * source and root. (A remount of the same export that happens to get the same device number and
   * mount id is indistinguishable, and harmless: it is the same data.)
   */
  check(): void {
    this.checkDev();
    if (!this.mount) return;
    const mounts = this.readMounts();
    if (!mounts) return;
    const m = this.mount;
    const still = mounts.some(
      (x) =>
        x.mountId === m.mountId &&
        x.mountPoint === m.mountPoint &&
        x.majorMinor === m.majorMinor &&
        x.fsType === m.fsType &&
        x.source === m.source &&
        x.root === m.root,
    );
    if (!still) {
      const what = `${m.fsType} ${relToDisplay(Buffer.from(m.source, 'latin1'))} at ${relToDisplay(Buffer.from(m.mountPoint, 'latin1'))}`;
      throw this.lost(`is no longer mounted (${what} is gone from ${this.mountInfoPath})`);
    }
  }

  /** Runs check() every intervalMs; on the first failure stops and calls onLost. The timer does not keep the process alive. */
  start(intervalMs: number, onLost: (error: FsError) => void): void {
    this.stop();
    const timer = setInterval(() => {
      try {
        this.check();
      } catch (err) {
        this.stop();
        onLost(classify(err, this.root));
      }
    }, intervalMs);
    timer.unref();
    this.timer = timer;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readMounts(): MountInfoLine[] | null {
    try {
      // latin1 keeps every byte of a non-UTF-8 mount point, comparable with realRoot.toString('latin1').
      return parseMountInfo(fs.readFileSync(this.mountInfoPath, 'latin1'));
    } catch {
      return null;
    }
  }

  private display(): string {
    return relToDisplay(this.root);
  }

  private lost(what: string): FsError {
    this.passedAt = -Infinity; // once lost, checkDevRecent checks again every time
    const verb = this.role === 'destination' ? 'writing' : 'reading';
    return new FsError('mount-lost', `The ${this.role} ${this.display()} ${what}. Ferry stopped ${verb}. Remount it and resume the task.`, {
      path: this.root,
    });
  }
}
