/**
 * `agent.mjs scan DIR --json [--max-seconds N]`: the pre-migration scan (scan.ts) on the host the
 * agent runs on, for the console's Task step. Prints one ScanSummary JSON line on stdout and exits
 * 0, also when the time limit cut it short (then `partial: true`). Exits 2 for bad arguments and
 * SCAN_EXIT_NOT_A_DIRECTORY when DIR is missing or not a directory, with the reason on stderr.
 * Owns argument parsing only; never writes anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SCAN_EXIT_NOT_A_DIRECTORY } from '../protocol/scan.ts';
import { scanTree } from './scan.ts';

const USAGE = 'Usage: agent.mjs scan DIR --json [--max-seconds N]';

export function runScanCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { json: { type: 'boolean' }, 'max-seconds': { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.json) {
    console.error(`scan needs one DIR and --json.\n${USAGE}`);
    return 2;
  }
  let maxSeconds: number | undefined;
  if (values['max-seconds'] !== undefined) {
    maxSeconds = Number(values['max-seconds']);
    if (!Number.isFinite(maxSeconds) || maxSeconds < 0) {
      console.error(`--max-seconds wants a number of seconds (0 or more), not "${values['max-seconds']}".`);
      return 2;
    }
  }
  const given = path.resolve(positionals[0] as string);
  let problem: string | null;
  let root = given;
  try {
    const st = fs.statSync(given, { throwIfNoEntry: false });
    problem = !st ? `${given} does not exist.` : st.isDirectory() ? null : `${given} is not a directory.`;
    // The walk lstat's its root, so a root that is a symlink is scanned as what it points to (as
    // the engine's mount guard resolves it), not as one link and nothing below.
    if (!problem) root = fs.realpathSync(given);
  } catch (err) {
    problem = `${given} cannot be examined (${err instanceof Error ? err.message : String(err)}).`;
  }
  if (problem) {
    console.error(problem);
    return SCAN_EXIT_NOT_A_DIRECTORY;
  }
  const summary = scanTree(root, maxSeconds === undefined ? {} : { maxSeconds });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
