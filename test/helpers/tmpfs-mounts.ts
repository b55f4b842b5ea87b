/**
 * Real tmpfs mounts for tests that need a file system to vanish or fill up (root only): mounts a
 * sized tmpfs on a directory, lazily unmounts or grows it on request, and unmounts whatever is still
 * mounted at clean-up, so a failed test never leaves a mount behind.
 *
 *   const mounts = new TmpfsMounts('ferry-loss-test');
 *   mounts.mount(dir, '4m'); ... mounts.grow(dir, '256m'); ... afterEach(() => mounts.unmountAll());
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Runs a command; throws with its stderr when it fails. */
export function runOrThrow(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

export class TmpfsMounts {
  private readonly mounted = new Set<string>();

  /** `source` names the mounts in /proc/self/mountinfo (which test made them). */
  constructor(private readonly source: string) {}

  mount(dir: string, size: string): void {
    fs.mkdirSync(dir, { recursive: true });
    runOrThrow('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, this.source, dir]);
    this.mounted.add(dir);
  }

  /** umount -l: the directory under the mount point shows through at once. */
  lazyUnmount(dir: string): void {
    runOrThrow('umount', ['-l', dir]);
    this.mounted.delete(dir);
  }

  grow(dir: string, size: string): void {
    runOrThrow('mount', ['-o', `remount,size=${size}`, dir]);
  }

  unmountAll(): void {
    for (const dir of this.mounted) spawnSync('umount', ['-l', dir]);
    this.mounted.clear();
  }
}
