/**
 * `ferry scan DIR [--json]`: the pre-migration analysis of a tree, read-only: entry counts by kind,
 * bytes (apparent and allocated), a size histogram, the deepest level, directories with more than
 * 200,000 entries (slow to list over NFS), and entries that could not be read. Walks with agent/fs's
 * iterative walker (no recursion, one directory handle at a time), so it copes with huge trees.
 */
import path from 'node:path';
import fs from 'node:fs';
import { walkTreeSync } from '../../agent/fs/walk.ts';
import { relToDisplay } from '../../agent/fs/relpath.ts';
import { CliUsageError, parseCliArgs } from './args.ts';
import { formatBytes } from './migrate-progress.ts';

const USAGE = `Usage: ferry scan DIR [--json]

Read-only analysis before a migration: entry counts by kind, bytes, size histogram, maximum depth,
directories over 200,000 entries, unreadable entries.`;

export const HUGE_DIR = 200_000;
const BUCKETS: [string, number][] = [
  ['0 B', 0],
  ['< 4 KiB', 4096],
  ['< 64 KiB', 65536],
  ['< 1 MiB', 1024 ** 2],
  ['< 16 MiB', 16 * 1024 ** 2],
  ['< 256 MiB', 256 * 1024 ** 2],
  ['< 4 GiB', 4 * 1024 ** 3],
  ['>= 4 GiB', Infinity],
];

export interface ScanResult {
  root: string;
  counts: Record<string, number>;
  entries: number;
  bytes: number;
  allocatedBytes: number;
  sizeHistogram: { bucket: string; files: number; bytes: number }[];
  maxDepth: number;
  hardLinkedFiles: number;
  hugeDirs: { path: string; entries: number }[];
  errors: { path: string; message: string }[];
  seconds: number;
}

export function scanTree(root: string): ScanResult {
  const started = Date.now();
  const counts: Record<string, number> = { file: 0, dir: 0, symlink: 0, fifo: 0, socket: 0, char: 0, block: 0 };
  const hist = BUCKETS.map(([bucket]) => ({ bucket, files: 0, bytes: 0 }));
  const perDir = new Map<string, number>();
  const errors: ScanResult['errors'] = [];
  let bytes = 0;
  let allocated = 0;
  let maxDepth = 0;
  let hardLinked = 0;
  let entries = 0;
  for (const item of walkTreeSync(Buffer.from(root))) {
    if (item.error) {
      if (errors.length < 1000) errors.push({ path: relToDisplay(item.rel) || '.', message: item.error.message });
      continue;
    }
    const rel = item.rel;
    if (rel.length === 0) continue;
    entries++;
    const m = item.entry.meta;
    counts[m.kind] = (counts[m.kind] ?? 0) + 1;
    let depth = 1;
    for (const b of rel) if (b === 0x2f) depth++;
    if (depth > maxDepth) maxDepth = depth;
    const slash = rel.lastIndexOf(0x2f);
    const parent = slash < 0 ? '' : rel.subarray(0, slash).toString('latin1');
    perDir.set(parent, (perDir.get(parent) ?? 0) + 1);
    if (m.kind === 'file') {
      bytes += m.size;
      allocated += m.blocks * 512;
      if (m.nlink > 1) hardLinked++;
      const i = BUCKETS.findIndex(([, limit], idx) => (idx === 0 ? m.size === 0 : m.size < limit));
      const h = hist[i < 0 ? hist.length - 1 : i] as { files: number; bytes: number };
      h.files++;
      h.bytes += m.size;
    }
  }
  const hugeDirs = [...perDir.entries()]
    .filter(([, n]) => n > HUGE_DIR)
    .map(([p, n]) => ({ path: relToDisplay(Buffer.from(p, 'latin1')) || '.', entries: n }))
    .sort((a, b) => b.entries - a.entries);
  return { root, counts, entries, bytes, allocatedBytes: allocated, sizeHistogram: hist, maxDepth, hardLinkedFiles: hardLinked, hugeDirs, errors, seconds: (Date.now() - started) / 1000 };
}

export async function runScanCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, true, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(`scan needs exactly one DIR.\n${USAGE}`);
  const root = path.resolve(positionals[0] as string);
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new CliUsageError(`${root} is not a directory. Give the directory to analyse.`);
  const r = scanTree(root);
  if (values.json) {
    console.log(JSON.stringify(r));
    return 0;
  }
  const lines = [
    `Scanned ${root} in ${r.seconds.toFixed(1)} s: ${r.entries.toLocaleString('en')} entries, ${formatBytes(r.bytes)} in files (${formatBytes(r.allocatedBytes)} allocated).`,
    `Kinds: ${Object.entries(r.counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n.toLocaleString('en')}`)
      .join(', ')}.`,
    `Deepest level: ${r.maxDepth}. Hard-linked files: ${r.hardLinkedFiles.toLocaleString('en')}.`,
    'File sizes:',
    ...r.sizeHistogram.filter((h) => h.files > 0).map((h) => `  ${h.bucket.padEnd(10)} ${h.files.toLocaleString('en').padStart(12)} files  ${formatBytes(h.bytes)}`),
  ];
  if (r.hugeDirs.length) lines.push(`Directories over ${HUGE_DIR.toLocaleString('en')} entries (slow to list over NFS):`, ...r.hugeDirs.map((d) => `  ${d.path}: ${d.entries.toLocaleString('en')}`));
  if (r.counts.fifo || r.counts.socket || r.counts.char || r.counts.block) lines.push('Special files (FIFOs, sockets, devices) are not copied; they will be listed in the report.');
  if (r.errors.length) lines.push(`Could not read ${r.errors.length} entries, e.g.:`, ...r.errors.slice(0, 10).map((e) => `  ${e.path}: ${e.message}`));
  console.log(lines.join('\n'));
  return 0;
}
