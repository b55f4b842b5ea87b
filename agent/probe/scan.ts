/**
 * The pre-migration scan of one tree, shared by `agent.mjs scan` (run on a source host by the
 * console's Task step) and `ferry scan` (local): walks with agent/fs's iterative walker and tallies
 * as it goes. Read-only; never follows symlinks; never throws for an entry it cannot read (it is
 * counted and listed, capped).
 *
 * Memory stays bounded on huge trees: nothing is kept per entry or per directory. Entries of one
 * directory come out of the walker in one run, so each directory's entry count is a single running
 * counter, finished when the next directory's entries begin. What is kept is capped (the huge
 * directories, the unreadable entries) or one path (the deepest). Time is bounded by `maxSeconds`:
 * the scan then stops and says `partial: true`.
 */
import { walkTreeSync } from '../fs/walk.ts';
import { relToDisplay } from '../fs/relpath.ts';
import {
  DEEP_NESTING_LEVELS,
  HUGE_DIR_ENTRIES,
  LATENCY_FILES_PER_DIR,
  LATENCY_MIN_DIRS,
  MAX_LISTED_HUGE_DIRS,
  MAX_LISTED_SCAN_ERRORS,
  SIZE_BUCKET_LABELS,
  SIZE_BUCKET_LIMITS,
  type ScanKindCounts,
  type ScanSummary,
  type ScanWarning,
} from '../protocol/scan.ts';

export interface ScanOptions {
  /** Stop after this long and answer a partial summary; default: no limit. */
  maxSeconds?: number;
}

/** How often (in walked items) the time limit is looked at. */
const CLOCK_EVERY = 1024;
const SLASH = 0x2f;

function depthOf(rel: Buffer): number {
  let depth = 1;
  for (let i = 0; i < rel.length; i++) if (rel[i] === SLASH) depth++;
  return depth;
}

function bucketOf(size: number): number {
  for (let i = 0; i < SIZE_BUCKET_LIMITS.length; i++) {
    const limit = SIZE_BUCKET_LIMITS[i];
    if (limit === null || limit === undefined || size < limit) return i;
  }
  return SIZE_BUCKET_LIMITS.length - 1;
}

/** The largest directories over the threshold, capped; the others are counted. */
class HugeDirs {
  readonly list: { path: string; entries: number }[] = [];
  omitted = 0;

  offer(parent: Buffer, entries: number): void {
    if (entries <= HUGE_DIR_ENTRIES) return;
    this.list.push({ path: relToDisplay(parent) || '.', entries });
    this.list.sort((a, b) => b.entries - a.entries);
    if (this.list.length > MAX_LISTED_HUGE_DIRS) {
      this.list.pop();
      this.omitted++;
    }
  }
}

/** Scans `root` (an absolute directory). Throws only when the root itself cannot be examined. */
export function scanTree(root: string, options: ScanOptions = {}): ScanSummary {
  const started = Date.now();
  const deadline = options.maxSeconds === undefined ? Infinity : started + options.maxSeconds * 1000;
  const counts: ScanKindCounts = { file: 0, dir: 0, symlink: 0, fifo: 0, socket: 0, char: 0, block: 0 };
  const histogram = SIZE_BUCKET_LABELS.map((bucket, i) => ({ bucket, below: SIZE_BUCKET_LIMITS[i] ?? null, files: 0, bytes: 0 }));
  const huge = new HugeDirs();
  const errors: ScanSummary['errors'] = [];
  let errorCount = 0;
  let entries = 0;
  let bytes = 0;
  let allocated = 0;
  let hardLinked = 0;
  let maxDepth = 0;
  let deepest: Buffer | null = null;
  // The directory whose entries are coming now, and how many came so far.
  let runParent: Buffer | null = null;
  let runCount = 0;
  let partial = false;
  let walked = 0;

  for (const item of walkTreeSync(Buffer.from(root))) {
    if (++walked % CLOCK_EVERY === 0 && Date.now() > deadline) {
      partial = true;
      break;
    }
    if (item.error) {
      errorCount++;
      if (errors.length < MAX_LISTED_SCAN_ERRORS) errors.push({ path: relToDisplay(item.rel) || '.', message: item.error.message });
      continue;
    }
    const rel = item.rel;
    if (rel.length === 0) continue;
    entries++;
    const meta = item.entry.meta;
    counts[meta.kind]++;
    const depth = depthOf(rel);
    if (depth > maxDepth) {
      maxDepth = depth;
      deepest = rel;
    }
    const slash = rel.lastIndexOf(SLASH);
    const parent = slash < 0 ? rel.subarray(0, 0) : rel.subarray(0, slash);
    if (runParent !== null && runParent.equals(parent)) runCount++;
    else {
      if (runParent !== null) huge.offer(runParent, runCount);
      runParent = parent;
      runCount = 1;
    }
    if (meta.kind === 'file') {
      bytes += meta.size;
      allocated += meta.blocks * 512;
      if (meta.nlink > 1) hardLinked++;
      const bucket = histogram[bucketOf(meta.size)] as { files: number; bytes: number };
      bucket.files++;
      bucket.bytes += meta.size;
    }
  }
  if (runParent !== null) huge.offer(runParent, runCount);

  const summary: Omit<ScanSummary, 'warnings'> = {
    root,
    entries,
    counts,
    bytes,
    allocatedBytes: allocated,
    sizeHistogram: histogram,
    maxDepth,
    deepestPath: deepest ? relToDisplay(deepest) : null,
    hardLinkedFiles: hardLinked,
    hugeDirs: huge.list,
    hugeDirsOmitted: huge.omitted,
    errors,
    errorCount,
    partial,
    seconds: (Date.now() - started) / 1000,
  };
  return { ...summary, warnings: scanWarnings(summary, options.maxSeconds) };
}

const en = (n: number) => n.toLocaleString('en');

/** What the figures mean for the migration, in the order an operator should read them. */
export function scanWarnings(s: Omit<ScanSummary, 'warnings'>, maxSeconds?: number): ScanWarning[] {
  const out: ScanWarning[] = [];
  if (s.partial) {
    out.push({
      code: 'partial',
      path: null,
      value: maxSeconds ?? s.seconds,
      message: `The scan stopped at its time limit (${en(Math.round(maxSeconds ?? s.seconds))} s) before the end of the tree: every figure is a lower bound (and so is an estimate made from them). Scan again with more time for the whole picture.`,
    });
  }
  for (const d of s.hugeDirs) {
    out.push({
      code: 'huge-directory',
      path: d.path,
      value: d.entries,
      message: `"${d.path}" holds ${en(d.entries)} entries. A directory this big lists slowly over NFS (one long READDIRPLUS stream); Ferry's engine splits it into batches so copying starts while it is still being listed, but expect it to dominate the listing time.`,
    });
  }
  if (s.hugeDirsOmitted > 0) {
    out.push({ code: 'huge-directory', path: null, value: s.hugeDirsOmitted, message: `${en(s.hugeDirsOmitted)} more directories hold over ${en(HUGE_DIR_ENTRIES)} entries each (not listed).` });
  }
  if (s.maxDepth > DEEP_NESTING_LEVELS) {
    out.push({
      code: 'deep-nesting',
      path: s.deepestPath,
      value: s.maxDepth,
      message: `The tree is ${en(s.maxDepth)} levels deep (over ${DEEP_NESTING_LEVELS}). Every level is one more NFS lookup on each side, and paths this long come near the 4,096-byte limit, beyond which entries cannot be copied and are reported.`,
    });
  }
  const dirs = s.counts.dir;
  if (dirs >= LATENCY_MIN_DIRS && (s.entries - dirs) / dirs < LATENCY_FILES_PER_DIR) {
    out.push({
      code: 'latency-bound',
      path: null,
      value: dirs,
      message: `${en(dirs)} directories hold fewer than ${LATENCY_FILES_PER_DIR} files or links each on average. Listing and creating a directory costs a few NFS round trips whatever it holds, so this tree is bound by latency, not bandwidth: expect it to take longer than its size suggests; more instances help, faster links do not.`,
    });
  }
  if (s.errorCount > 0) {
    out.push({
      code: 'unreadable',
      path: s.errors[0]?.path ?? null,
      value: s.errorCount,
      message: `${en(s.errorCount)} entries could not be read (for example permission denied). They will not be copied and are reported as problems: run the agents as a user that can read everything (root, with no_root_squash on the export).`,
    });
  }
  const special = s.counts.fifo + s.counts.socket + s.counts.char + s.counts.block;
  if (special > 0) {
    out.push({ code: 'special-files', path: null, value: special, message: `${en(special)} special files (FIFOs, sockets, devices) are not copied; the report lists them.` });
  }
  return out;
}
