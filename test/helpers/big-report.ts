/**
 * Writes a verification report with many problem records through the engine's own report writer
 * (agent/engine/report-writer.ts) from a real journal. The journal is SQLite (node:sqlite), which
 * needs the agents' Node 24 runtime, so `writeBigReport` bundles the entry below and runs it there.
 * Records are failed files `bulk/d<NN>/file-<i>` in order, the last one `bulk/zz-last-<count-1>`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { findNode24 } from './engine-build.ts';
import { REPO_ROOT } from './make-tree.ts';

export interface BigReport {
  file: string;
  count: number;
  lastPath: string;
  /** Milliseconds the writer took (journal inserts + report). */
  writeMs: number;
}

export function bigReportLastPath(count: number): string {
  return `bulk/zz-last-${count - 1}`;
}

export async function writeBigReport(dir: string, count: number): Promise<BigReport> {
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-big-report-')), 'big-report.mjs');
  const banner = { js: "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);" };
  await build({ entryPoints: [path.join(REPO_ROOT, 'test/helpers/big-report-entry.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node24', banner, logLevel: 'warning' });
  const file = path.join(dir, 'big-report.json');
  const started = Date.now();
  const run = spawnSync(findNode24(), [bundle, path.join(dir, 'big-journal'), file, String(count)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`big report writer failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
  return { file, count, lastPath: bigReportLastPath(count), writeMs: Date.now() - started };
}
