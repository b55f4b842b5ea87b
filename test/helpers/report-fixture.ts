/**
 * Writes real verification reports for tests: a real task journal (SQLite) filled with problem
 * entries, turned into a report by the coordinator's own writer, on the agents' Node 24 runtime
 * (node:sqlite is not in the Node that runs vitest). Problems cycle through skipped, failed, changed,
 * different, missing and extra; `extraNames` (raw bytes) come first, in that same cycle.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { findNode24 } from './engine-build.ts';
import { REPO_ROOT, ensureNativeBuilt } from './make-tree.ts';

/** Bundles the writer entry into `dir` (esbuild, well under a second). */
async function writerBundle(dir: string): Promise<string> {
  ensureNativeBuilt();
  const outfile = path.join(dir, 'report-writer.mjs');
  const banner = { js: "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);" };
  await build({ entryPoints: [path.join(REPO_ROOT, 'test/helpers/report-writer-entry.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node24', banner, logLevel: 'warning' });
  return outfile;
}

export interface ReportFixtureOptions {
  problems: number;
  /** Entries that verified fine (they only count in the summary). */
  verified?: number;
  extraNames?: Buffer[];
}

/** Writes the report to `reportFile` and returns how long the writer took (ms). */
export async function writeFixtureReport(reportFile: string, options: ReportFixtureOptions): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-report-journal-'));
  try {
    const script = await writerBundle(work);
    const specFile = path.join(work, 'spec.json');
    const spec = { stateDir: path.join(work, 'state'), reportFile, problems: options.problems, verified: options.verified ?? 0, extraNamesBase64: (options.extraNames ?? []).map((b) => b.toString('base64')) };
    fs.writeFileSync(specFile, JSON.stringify(spec));
    const started = performance.now();
    const r = spawnSync(findNode24(), [script, specFile], { encoding: 'utf8', env: { ...process.env, FERRY_NATIVE_DIR: path.join(REPO_ROOT, 'dist', 'native') } });
    if (r.status !== 0) throw new Error(`report writer failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return performance.now() - started;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
