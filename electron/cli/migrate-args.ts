/**
 * `ferry migrate` options: parsing, validation of the two directories (with messages that say what
 * to do), and the task key (same source, destination and options = same task, so a rerun resumes).
 * Pure apart from looking at the two paths.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TaskSpecInput } from '../../agent/protocol/task.ts';
import { CliUsageError, parseCliArgs } from './args.ts';

export const MIGRATE_USAGE = `Usage: ferry migrate SOURCE_DIR DEST_DIR [options]
       ferry migrate --plan FILE [--task NAME]   (on the plan's hosts over SSH: ferry migrate --plan --help)

Copies SOURCE_DIR to DEST_DIR with a coordinator, a source agent and a destination agent (local
processes talking TLS over 127.0.0.1), verifies it, and writes a report. Running the same command
again after a crash or Ctrl-C resumes the unfinished task.

Options:
  --mode full|incremental      incremental skips files whose size and mtime match (default full)
  --checksum                   incremental: compare SHA-256 instead of size and mtime
  --overwrite always|never|if-newer|if-different   existing destination files (default always)
  --include GLOB               copy only matching files (repeatable; '**' crosses directories)
  --exclude GLOB               skip matching entries (repeatable; excluded paths are never deleted)
  --newer-than WHEN            only files modified at/after WHEN (ISO date, or 7d / 12h / 30m ago)
  --older-than WHEN            only files modified before WHEN
  --mirror                     delete destination entries that are not in the source (listed in the report)
  --bwlimit RATE[@HH:MM-HH:MM] bytes per second (e.g. 50M, 1G), optionally only in that daily window
  --verify none|transferred|full   (default transferred: the destination re-reads what it wrote)
  --dry-run                    only report what would be copied, deleted or skipped
  --concurrency N              parallel batches (default 4)
  --range-size SIZE            files larger than SIZE are copied as ranges of SIZE in parallel (default 128M, at least 1M)
  --state-dir DIR              where agents keep journals (default ~/.local/state/ferry/cli/<task>)
  --report FILE                write the JSON report there
  --json                       machine-readable events, one JSON object per line
  -h, --help                   show this help

Exit code: 0 when the task finished and verification passed, 1 otherwise, 2 for bad usage.`;

export interface MigrateOptions {
  source: string;
  destination: string;
  spec: Omit<TaskSpecInput, 'taskId' | 'sourceRoot' | 'destinationRoot'>;
  stateDir: string | null;
  report: string | null;
  json: boolean;
  help: boolean;
}

const OPTIONS = {
  mode: { type: 'string' },
  checksum: { type: 'boolean' },
  overwrite: { type: 'string' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  'newer-than': { type: 'string' },
  'older-than': { type: 'string' },
  mirror: { type: 'boolean' },
  bwlimit: { type: 'string' },
  verify: { type: 'string' },
  'dry-run': { type: 'boolean' },
  concurrency: { type: 'string' },
  'range-size': { type: 'string' },
  'state-dir': { type: 'string' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new CliUsageError(`--${name} must be one of ${allowed.join(', ')}, not "${value}".`);
  return value as T;
}

/** Bytes per second from "50M", "1.5G", "800k", "1000" (binary multiples). */
export function parseRate(text: string): number {
  return parseBytes('bwlimit', text, 'a rate like 50M or 1G (bytes per second)');
}

/** Bytes from "128M", "1.5G", "800k", "1000" (binary multiples), for option --name. */
function parseBytes(name: string, text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?(\/s)?$/.exec(text.trim());
  if (!m) throw new CliUsageError(`--${name} wants ${what}, not "${text}".`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const v = Number(m[1]) * mult;
  if (v <= 0) throw new CliUsageError(`--${name} must be more than 0.`);
  return v;
}

function parseRangeSize(text: string | undefined): { rangeSize?: number } {
  if (text === undefined) return {};
  const v = Math.round(parseBytes('range-size', text, 'a size like 128M or 1G'));
  if (v < 1024 * 1024) throw new CliUsageError(`--range-size must be at least 1M, not "${text}".`);
  return { rangeSize: v };
}

export function parseBwLimit(text: string): { bytesPerSec: number; windows: { from: number; to: number }[] } {
  const [rate, window] = text.split('@');
  const bytesPerSec = parseRate(rate ?? '');
  if (window === undefined) return { bytesPerSec, windows: [] };
  const w = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/.exec(window);
  if (!w) throw new CliUsageError(`--bwlimit window must look like 08:00-18:00, not "${window}".`);
  const minutes = (h: string, m: string) => {
    const v = Number(h) * 60 + Number(m);
    if (Number(h) > 24 || Number(m) > 59 || v > 1440) throw new CliUsageError(`--bwlimit window has an invalid time in "${window}".`);
    return v;
  };
  return { bytesPerSec, windows: [{ from: minutes(w[1] as string, w[2] as string), to: minutes(w[3] as string, w[4] as string) }] };
}

/** ns since the epoch from an ISO date/time or an age like 7d, 12h, 30m, 45s. */
export function parseWhen(name: string, text: string, now = Date.now()): string {
  const age = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  let ms: number;
  if (age) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[age[2] as 's'] as number;
    ms = now - Number(age[1]) * unit;
  } else {
    ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new CliUsageError(`--${name} wants a date (2026-01-31, 2026-01-31T12:00) or an age (7d, 12h), not "${text}".`);
  }
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

export function parseMigrateArgs(argv: string[]): MigrateOptions {
  const { values, positionals } = parseCliArgs(argv, OPTIONS, true, MIGRATE_USAGE);
  if (values.help) return { source: '', destination: '', spec: {}, stateDir: null, report: null, json: false, help: true };
  if (positionals.length !== 2) throw new CliUsageError(`migrate needs exactly SOURCE_DIR and DEST_DIR (got ${positionals.length} paths).\n${MIGRATE_USAGE}`);
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new CliUsageError(`--concurrency must be a whole number from 1 to 256, not "${values.concurrency}".`);
  const mode = oneOf('mode', values.mode, ['full', 'incremental'] as const, 'full');
  if (values.checksum && mode !== 'incremental' && values.overwrite !== 'if-different') {
    throw new CliUsageError('--checksum only matters with --mode incremental or --overwrite if-different: add one of them.');
  }
  const spec: MigrateOptions['spec'] = {
    mode,
    checksum: values.checksum ?? false,
    overwrite: oneOf('overwrite', values.overwrite, ['always', 'never', 'if-newer', 'if-different'] as const, 'always'),
    include: values.include ?? [],
    exclude: values.exclude ?? [],
    newerThanNs: values['newer-than'] ? parseWhen('newer-than', values['newer-than']) : null,
    olderThanNs: values['older-than'] ? parseWhen('older-than', values['older-than']) : null,
    mirror: values.mirror ?? false,
    bwlimit: values.bwlimit ? parseBwLimit(values.bwlimit) : null,
    verify: oneOf('verify', values.verify, ['none', 'transferred', 'full'] as const, 'transferred'),
    dryRun: values['dry-run'] ?? false,
    concurrency,
    ...parseRangeSize(values['range-size']),
  };
  return {
    source: positionals[0] as string,
    destination: positionals[1] as string,
    spec,
    stateDir: values['state-dir'] ?? null,
    report: values.report ?? null,
    json: values.json ?? false,
    help: false,
  };
}

/**
 * Checks both directories and returns their real paths. Creates DEST_DIR when its parent exists
 * (not in a dry run, which creates nothing).
 */
export function resolveDirs(source: string, destination: string, dryRun: boolean): { source: string; destination: string } {
  const src = path.resolve(source);
  const st = fs.statSync(src, { throwIfNoEntry: false });
  if (!st) throw new CliUsageError(`The source directory ${src} does not exist. Check the path (is the NAS mounted?).`);
  if (!st.isDirectory()) throw new CliUsageError(`The source ${src} is not a directory. Give the directory that holds the files to migrate.`);
  const realSrc = fs.realpathSync(src);
  let dst = path.resolve(destination);
  const dstSt = fs.statSync(dst, { throwIfNoEntry: false });
  if (dstSt && !dstSt.isDirectory()) throw new CliUsageError(`The destination ${dst} exists and is not a directory. Give a directory (it is created if missing).`);
  if (!dstSt) {
    const parent = path.dirname(dst);
    if (!fs.statSync(parent, { throwIfNoEntry: false })?.isDirectory()) {
      throw new CliUsageError(`The destination's parent ${parent} does not exist. Create it (or mount the NAS) first.`);
    }
    if (dryRun) throw new CliUsageError(`The destination ${dst} does not exist, and a dry run creates nothing. Create it first, or run without --dry-run.`);
    fs.mkdirSync(dst);
  }
  dst = fs.realpathSync(dst);
  if (dst === realSrc) throw new CliUsageError('The source and the destination are the same directory. Give two different directories.');
  if (dst.startsWith(`${realSrc}/`)) throw new CliUsageError(`The destination ${dst} is inside the source ${realSrc}: Ferry would copy its own output. Choose a destination outside the source.`);
  if (realSrc.startsWith(`${dst}/`)) throw new CliUsageError(`The source ${realSrc} is inside the destination ${dst}. Choose a destination outside the source.`);
  return { source: realSrc, destination: dst };
}

/** Same source, destination and options -> same key (a rerun resumes the task). */
export function taskKey(source: string, destination: string, spec: MigrateOptions['spec']): string {
  return createHash('sha256').update(JSON.stringify({ source, destination, spec })).digest('hex').slice(0, 16);
}

export function defaultStateDir(key: string): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'ferry', 'cli', key);
}
