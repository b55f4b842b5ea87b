/**
 * `ferry scan DIR [--json] [--max-seconds N]`: the pre-migration analysis of a local tree,
 * read-only. The analysis is the agent's own (agent/probe/scan.ts, also run on source hosts by the
 * console's Task step); this module only checks the arguments and formats the summary for a
 * terminal (or prints it as JSON, the agent protocol's ScanSummary).
 */
import path from 'node:path';
import fs from 'node:fs';
import { scanTree } from '../../agent/probe/scan.ts';
import { HUGE_DIR_ENTRIES, type ScanSummary } from '../../agent/protocol/scan.ts';
import { CliUsageError, parseCliArgs } from './args.ts';
import { formatBytes } from './migrate-progress.ts';

const USAGE = `Usage: ferry scan DIR [--json] [--max-seconds N]

Read-only analysis before a migration: entry counts by kind, bytes, size histogram, maximum depth,
directories over 200,000 entries, unreadable entries, and what they mean for the migration.
--max-seconds N stops after N seconds with a partial result (figures are then lower bounds).`;

const en = (n: number) => n.toLocaleString('en');

export function formatScanSummary(r: ScanSummary): string {
  const lines = [
    `Scanned ${r.root} in ${r.seconds.toFixed(1)} s${r.partial ? ' (stopped at the time limit: partial)' : ''}: ${en(r.entries)} entries, ${formatBytes(r.bytes)} in files (${formatBytes(r.allocatedBytes)} allocated).`,
    `Kinds: ${Object.entries(r.counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${en(n)}`)
      .join(', ')}.`,
    `Deepest level: ${r.maxDepth}. Hard-linked files: ${en(r.hardLinkedFiles)}.`,
    'File sizes:',
    ...r.sizeHistogram.filter((h) => h.files > 0).map((h) => `  ${h.bucket.padEnd(10)} ${en(h.files).padStart(12)} files  ${formatBytes(h.bytes)}`),
  ];
  if (r.hugeDirs.length) {
    lines.push(`Directories over ${en(HUGE_DIR_ENTRIES)} entries (slow to list over NFS):`, ...r.hugeDirs.map((d) => `  ${d.path}: ${en(d.entries)}`));
    if (r.hugeDirsOmitted > 0) lines.push(`  … and ${en(r.hugeDirsOmitted)} more`);
  }
  if (r.errorCount) lines.push(`Could not read ${en(r.errorCount)} entries, e.g.:`, ...r.errors.slice(0, 10).map((e) => `  ${e.path}: ${e.message}`));
  if (r.warnings.length) lines.push('Warnings:', ...r.warnings.map((w) => `  - ${w.message}`));
  return lines.join('\n');
}

export async function runScanCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' }, 'max-seconds': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const, true, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(`scan needs exactly one DIR.\n${USAGE}`);
  const maxSeconds = values['max-seconds'] === undefined ? undefined : Number(values['max-seconds']);
  if (maxSeconds !== undefined && !(Number.isFinite(maxSeconds) && maxSeconds >= 0)) throw new CliUsageError(`--max-seconds wants a number of seconds (0 or more), not "${values['max-seconds']}".`);
  const given = path.resolve(positionals[0] as string);
  if (!fs.statSync(given, { throwIfNoEntry: false })?.isDirectory()) throw new CliUsageError(`${given} is not a directory. Give the directory to analyse.`);
  // A root that is a symlink is scanned as the directory it points to (the walk lstat's its root).
  const root = fs.realpathSync(given);
  const r = scanTree(root, maxSeconds === undefined ? {} : { maxSeconds });
  console.log(values.json ? JSON.stringify(r) : formatScanSummary(r));
  return 0;
}
