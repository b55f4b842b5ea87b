/**
 * The pre-migration scan's result, as `agent.mjs scan DIR --json` prints it and `ferry scan --json`
 * prints it: entry counts by kind, bytes, a size histogram, the deepest level, the directories too
 * big to list quickly over NFS (capped, with a count of the rest), unreadable entries (capped, with
 * the total), whether the scan was cut short, and the warnings derived from all that. Also the
 * thresholds those warnings use, so every reader states the same rule. Pure: schemas and constants.
 */
import { z } from 'zod';

/** A directory with more entries than this is "huge": one long READDIRPLUS stream over NFS. */
export const HUGE_DIR_ENTRIES = 200_000;
/** At most this many huge directories are listed (the largest); the rest are only counted. */
export const MAX_LISTED_HUGE_DIRS = 100;
/** At most this many unreadable entries are listed; the rest are only counted. */
export const MAX_LISTED_SCAN_ERRORS = 100;
/**
 * Deep nesting: a tree deeper than this many levels gets a warning. Every level is one more
 * LOOKUP on each NAS for each path resolved below it, and such trees come near PATH_MAX (4096
 * bytes) where copies fail.
 */
export const DEEP_NESTING_LEVELS = 64;
/**
 * Latency-bound trees: at least LATENCY_MIN_DIRS directories holding fewer than
 * LATENCY_FILES_PER_DIR other entries (files, symlinks, special files) each on average. Listing a directory on the source and creating it
 * (mkdir + setattr) on the destination cost a few NFS round trips whatever it holds, so such a
 * tree's time is directories x round-trip time, not bytes / bandwidth.
 */
export const LATENCY_MIN_DIRS = 1_000;
export const LATENCY_FILES_PER_DIR = 2;

/** Upper bounds (exclusive) of the size histogram's buckets; the last bucket has none. */
export const SIZE_BUCKET_LIMITS: readonly (number | null)[] = [1, 4096, 65536, 1024 ** 2, 16 * 1024 ** 2, 256 * 1024 ** 2, 4 * 1024 ** 3, null];
export const SIZE_BUCKET_LABELS: readonly string[] = ['0 B', '< 4 KiB', '< 64 KiB', '< 1 MiB', '< 16 MiB', '< 256 MiB', '< 4 GiB', '>= 4 GiB'];

const count = z.number().int().nonnegative();

export const ScanKindCounts = z.object({ file: count, dir: count, symlink: count, fifo: count, socket: count, char: count, block: count });
export type ScanKindCounts = z.infer<typeof ScanKindCounts>;

export const SizeBucket = z.object({
  /** English label, e.g. "< 4 KiB" (the console formats `below` itself). */
  bucket: z.string(),
  /** Exclusive upper bound in bytes (1 for the empty-file bucket); null for the last bucket. */
  below: z.number().int().positive().nullable(),
  files: count,
  bytes: count,
});
export type SizeBucket = z.infer<typeof SizeBucket>;

export const ScanWarningCode = z.enum(['huge-directory', 'deep-nesting', 'latency-bound', 'unreadable', 'special-files', 'partial']);
export type ScanWarningCode = z.infer<typeof ScanWarningCode>;

export const ScanWarning = z.object({
  code: ScanWarningCode,
  /** The directory or entry it is about (display form, relative to the root; "." is the root), if any. */
  path: z.string().nullable(),
  /** The figure it is about: entries of the directory, levels, directories, unreadable entries, seconds. */
  value: z.number().nonnegative(),
  /** What it means for the migration, in English (the console translates by code). */
  message: z.string(),
});
export type ScanWarning = z.infer<typeof ScanWarning>;

export const ScanSummary = z.object({
  root: z.string(),
  /** Entries below the root (the root itself not counted). */
  entries: count,
  counts: ScanKindCounts,
  /** Apparent size of the regular files, and what they occupy (blocks x 512). */
  bytes: count,
  allocatedBytes: count,
  sizeHistogram: z.array(SizeBucket),
  /** Levels below the root: 1 for the root's own entries. */
  maxDepth: count,
  /** The first entry found at maxDepth (display form), null for an empty tree. */
  deepestPath: z.string().nullable(),
  hardLinkedFiles: count,
  /** Directories over HUGE_DIR_ENTRIES entries, largest first, at most MAX_LISTED_HUGE_DIRS. */
  hugeDirs: z.array(z.object({ path: z.string(), entries: count })),
  /** Huge directories found beyond the listed ones. */
  hugeDirsOmitted: count,
  /** Entries that could not be read, at most MAX_LISTED_SCAN_ERRORS of them; errorCount is all of them. */
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
  errorCount: count,
  /** The scan stopped at its time limit: every figure is a lower bound. */
  partial: z.boolean(),
  seconds: z.number().nonnegative(),
  warnings: z.array(ScanWarning),
});
export type ScanSummary = z.infer<typeof ScanSummary>;

/** Exit code of `agent.mjs scan` when DIR is missing or not a directory (message on stderr). */
export const SCAN_EXIT_NOT_A_DIRECTORY = 3;
