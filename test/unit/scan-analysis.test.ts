// The shared pre-migration scan (agent/probe/scan.ts) on real trees: exact counts, bytes and
// histogram of a small known tree; a directory of 200,001 entries listed as huge (in /dev/shm when
// writable); a 100-level chain flagged as deep nesting; a thousand near-empty directories flagged
// as latency-bound; an unreadable directory counted; a time limit giving a partial summary; and
// the agent's `scan` subcommand printing the same summary (its schema checked) and refusing a
// missing directory with its own exit code; and a root given as a symlink to a directory scanned
// as the directory it points to, by the agent and by `ferry scan`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTree } from '../../agent/probe/scan.ts';
import { runScanCommand } from '../../agent/probe/scan-command.ts';
import { buildEngine, runCliSync } from '../helpers/engine-build.ts';
import { DEEP_NESTING_LEVELS, HUGE_DIR_ENTRIES, SCAN_EXIT_NOT_A_DIRECTORY, ScanSummary } from '../../agent/protocol/scan.ts';
import { makeDeepChain, removeTree } from '../helpers/make-tree.ts';

let dir = '';
let bigBase = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-scan-'));
  let shm = true;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
  } catch {
    shm = false;
  }
  bigBase = fs.mkdtempSync(path.join(shm ? '/dev/shm' : os.tmpdir(), 'ferry-scan-big-'));
});
afterAll(() => {
  removeTree(dir);
  removeTree(bigBase);
});

function write(rel: string, size: number): void {
  const p = path.join(dir, 'known', rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, Buffer.alloc(size, 1));
}

describe('scanTree', () => {
  it('counts kinds, bytes and the histogram of a known tree exactly', () => {
    write('empty.txt', 0);
    write('a/small.bin', 100);
    write('a/b/mid.bin', 70_000);
    write('a/b/c/big.bin', 2 * 1024 * 1024);
    fs.symlinkSync('small.bin', path.join(dir, 'known', 'a', 'link'));
    fs.linkSync(path.join(dir, 'known', 'a', 'small.bin'), path.join(dir, 'known', 'hard.bin'));
    const s = scanTree(path.join(dir, 'known'));
    expect(ScanSummary.parse(s)).toEqual(s);
    expect(s.counts).toEqual({ file: 5, dir: 3, symlink: 1, fifo: 0, socket: 0, char: 0, block: 0 });
    expect(s.entries).toBe(9);
    expect(s.bytes).toBe(0 + 100 + 70_000 + 2 * 1024 * 1024 + 100);
    expect(s.hardLinkedFiles).toBe(2);
    expect(s.maxDepth).toBe(4);
    expect(s.deepestPath).toBe('a/b/c/big.bin');
    const byBucket = Object.fromEntries(s.sizeHistogram.map((h) => [h.bucket, h.files]));
    expect(byBucket).toMatchObject({ '0 B': 1, '< 4 KiB': 2, '< 64 KiB': 0, '< 1 MiB': 1, '< 16 MiB': 1 });
    expect(s.sizeHistogram.reduce((n, h) => n + h.bytes, 0)).toBe(s.bytes);
    expect(s.hugeDirs).toEqual([]);
    expect(s.partial).toBe(false);
    expect(s.warnings).toEqual([]);
  });

  it('lists a directory over 200,000 entries as huge, with a warning saying what it means', () => {
    const root = path.join(bigBase, 'tree');
    const huge = path.join(root, 'projects', 'huge');
    fs.mkdirSync(huge, { recursive: true });
    fs.mkdirSync(path.join(root, 'small'));
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(root, 'small', `f${i}`), 'x');
    // Symlinks: one syscall each, the quickest entry to make.
    for (let i = 0; i <= HUGE_DIR_ENTRIES; i++) fs.symlinkSync('t', path.join(huge, `e${i}`));
    const started = Date.now();
    const s = scanTree(root);
    const seconds = (Date.now() - started) / 1000;
    expect(s.entries).toBe(HUGE_DIR_ENTRIES + 1 + 10 + 3);
    expect(s.hugeDirs).toEqual([{ path: 'projects/huge', entries: HUGE_DIR_ENTRIES + 1 }]);
    expect(s.hugeDirsOmitted).toBe(0);
    const w = s.warnings.find((x) => x.code === 'huge-directory');
    expect(w).toMatchObject({ path: 'projects/huge', value: HUGE_DIR_ENTRIES + 1 });
    expect(w?.message).toMatch(/lists slowly over NFS.*splits it into batches/);
    console.log(`scanned ${s.entries} entries in ${seconds.toFixed(2)} s`);
  }, 120_000);

  it('flags a 100-level chain as deep nesting, and stops at a time limit with a partial summary', () => {
    const root = path.join(dir, 'deep');
    makeDeepChain(root, 100);
    const s = scanTree(root);
    expect(s.maxDepth).toBe(101);
    expect(s.deepestPath).toBe(`${'d/'.repeat(100)}leaf`);
    const w = s.warnings.find((x) => x.code === 'deep-nesting');
    expect(w).toMatchObject({ value: 101, path: s.deepestPath });
    expect(w?.message).toContain(`over ${DEEP_NESTING_LEVELS}`);
    expect(s.warnings.some((x) => x.code === 'latency-bound')).toBe(false);

    const none = scanTree(path.join(dir, 'known'), { maxSeconds: 0 });
    expect(none.partial).toBe(false); // fewer items than one clock check: finished
  });

  it('calls a thousand near-empty directories latency-bound and counts what it cannot read', () => {
    const root = path.join(dir, 'sparse');
    for (let i = 0; i < 1200; i++) fs.mkdirSync(path.join(root, `p${i % 30}`, `d${i}`), { recursive: true });
    fs.writeFileSync(path.join(root, 'p0', 'd0', 'only'), 'x');
    const s = scanTree(root);
    expect(s.counts.dir).toBe(1230);
    expect(s.warnings.find((x) => x.code === 'latency-bound')).toMatchObject({ value: 1230 });
    // Symlinks count as entries a directory holds: 1,000 directories of 3 links each are not sparse.
    const linked = path.join(dir, 'linked');
    for (let i = 0; i < 1000; i++) {
      fs.mkdirSync(path.join(linked, `d${i}`), { recursive: true });
      for (let j = 0; j < 3; j++) fs.symlinkSync('t', path.join(linked, `d${i}`, `l${j}`));
    }
    expect(scanTree(linked).warnings).toEqual([]);

    // A time limit that has passed: stops at the first clock check, marked partial.
    const partial = scanTree(root, { maxSeconds: 0 });
    expect(partial.partial).toBe(true);
    expect(partial.entries).toBeLessThan(s.entries);
    expect(partial.warnings[0]?.code).toBe('partial');

    if (process.getuid?.() === 0) return; // root reads mode 000 directories: nothing to count
    fs.chmodSync(path.join(root, 'p1'), 0o000);
    try {
      const locked = scanTree(root);
      expect(locked.errorCount).toBe(1);
      expect(locked.errors[0]?.path).toBe('p1');
      expect(locked.warnings.some((x) => x.code === 'unreadable')).toBe(true);
    } finally {
      fs.chmodSync(path.join(root, 'p1'), 0o755);
    }
  }, 120_000);
});

describe('agent.mjs scan', () => {
  it('prints one ScanSummary line, and exits with its own code for a missing directory', async () => {
    // The real agent bundle on Ferry's Node 24 runtime, as a host runs it.
    const engine = await buildEngine();
    const run = (...args: string[]) => spawnSync(engine.node24, [engine.agentBundle, 'scan', ...args], { encoding: 'utf8' });
    const ok = run(path.join(dir, 'known'), '--json', '--max-seconds', '30');
    expect(ok.status, ok.stderr).toBe(0);
    const s = ScanSummary.parse(JSON.parse(ok.stdout.trim()));
    expect(s.entries).toBe(9);
    const missing = run(path.join(dir, 'nope'), '--json');
    expect(missing.status).toBe(SCAN_EXIT_NOT_A_DIRECTORY);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(run(path.join(dir, 'known')).status).toBe(2); // no --json
    expect(runScanCommand([path.join(dir, 'known'), '--json', '--max-seconds', 'soon'])).toBe(2);
  }, 120_000);
});

describe('a source root that is a symlink to a directory', () => {
  it('is scanned as the directory it points to, by the agent and by ferry scan', async () => {
    const real = path.join(dir, 'behind-link');
    fs.mkdirSync(path.join(real, 'sub'), { recursive: true });
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(real, 'sub', `f${i}`), Buffer.alloc(10 * (i + 1), 2));
    const link = path.join(dir, 'root-link');
    fs.symlinkSync(real, link);
    const engine = await buildEngine();
    const agent = spawnSync(engine.node24, [engine.agentBundle, 'scan', link, '--json'], { encoding: 'utf8' });
    expect(agent.status, agent.stderr).toBe(0);
    const fromAgent = ScanSummary.parse(JSON.parse(agent.stdout.trim()));
    expect(fromAgent.counts).toMatchObject({ file: 4, dir: 1, symlink: 0 });
    expect(fromAgent.entries).toBe(5);
    expect(fromAgent.bytes).toBe(10 + 20 + 30 + 40);
    expect(fromAgent.root).toBe(fs.realpathSync(real));
    const cli = runCliSync(engine, ['scan', link, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const fromCli = ScanSummary.parse(JSON.parse(cli.stdout.trim()));
    expect(fromCli.entries).toBe(5);
    expect(fromCli.bytes).toBe(100);
    // A link to a file is still not a directory to scan.
    fs.symlinkSync(path.join(real, 'sub', 'f0'), path.join(dir, 'file-link'));
    const fileLink = spawnSync(engine.node24, [engine.agentBundle, 'scan', path.join(dir, 'file-link'), '--json'], { encoding: 'utf8' });
    expect(fileLink.status).toBe(SCAN_EXIT_NOT_A_DIRECTORY);
    expect(fileLink.stderr).toMatch(/is not a directory/);
  }, 120_000);
});
