/**
 * Decides which source entries a task covers: exclude globs (an excluded directory is not entered),
 * include globs (when given, only matching non-directories are copied; directories are still entered
 * so that "*.txt" finds files at any depth), and the mtime window (non-directories only).
 * Pure: bytes and numbers in, booleans out. Excluded entries are also protected from mirror deletes.
 */
import type { TaskSpec } from '../protocol/task.ts';
import { compileGlob, globMatches } from './glob.ts';
import type { Glob } from './glob.ts';

export class EntryFilter {
  private readonly include: Glob[];
  private readonly exclude: Glob[];
  private readonly newerThanNs: bigint | null;
  private readonly olderThanNs: bigint | null;

  constructor(spec: Pick<TaskSpec, 'include' | 'exclude' | 'newerThanNs' | 'olderThanNs'>) {
    this.include = spec.include.map(compileGlob);
    this.exclude = spec.exclude.map(compileGlob);
    this.newerThanNs = spec.newerThanNs === null ? null : BigInt(spec.newerThanNs);
    this.olderThanNs = spec.olderThanNs === null ? null : BigInt(spec.olderThanNs);
  }

  get isTrivial(): boolean {
    return this.include.length === 0 && this.exclude.length === 0 && this.newerThanNs === null && this.olderThanNs === null;
  }

  /** Matches an exclude pattern (whatever its kind). */
  isExcluded(rel: Uint8Array): boolean {
    for (const g of this.exclude) if (globMatches(g, rel)) return true;
    return false;
  }

  /** Whether a listed entry belongs to the task. */
  accepts(rel: Uint8Array, isDir: boolean, mtimeNs: bigint): boolean {
    if (this.isExcluded(rel)) return false;
    if (isDir) return true;
    if (this.include.length > 0 && !this.include.some((g) => globMatches(g, rel))) return false;
    if (this.newerThanNs !== null && mtimeNs < this.newerThanNs) return false;
    if (this.olderThanNs !== null && mtimeNs >= this.olderThanNs) return false;
    return true;
  }
}
