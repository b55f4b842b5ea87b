// `ferry migrate` end to end with real agent processes over TLS on 127.0.0.1: the fixture tree with
// every hard case, checked by the independent comparator (test/helpers/compare-trees.ts), then the
// modes: incremental, overwrite policies, filters, mirror, dry run, files changing while read and
// unreadable entries.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { makeTree, removeTree } from '../helpers/make-tree.ts';
import { buildEngine, finishedEvent, runCli, runCliSync } from '../helpers/engine-build.ts';
import type { EngineBuild } from '../helpers/engine-build.ts';
import { Report } from '../../agent/protocol/report.ts';

let b: EngineBuild;
let tmp: string;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-engine-it-'));
  fs.chmodSync(tmp, 0o755);
}, 120_000);
afterAll(() => removeTree(tmp));

function dirs(name: string) {
  const root = path.join(tmp, name);
  fs.mkdirSync(root, { recursive: true });
  return { src: path.join(root, 'src'), dst: path.join(root, 'dst'), state: path.join(root, 'state'), report: path.join(root, 'report.json'), root };
}

function migrate(d: ReturnType<typeof dirs>, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const run = runCliSync(b, ['migrate', d.src, d.dst, '--json', '--state-dir', d.state, '--report', d.report, ...extra], env);
  return { run, fin: finishedEvent(run), report: () => Report.parse(JSON.parse(fs.readFileSync(d.report, 'utf8'))) };
}

function lastInDirectoryOrder(dir: string): string {
  const d = fs.opendirSync(dir);
  let last = '';
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) last = e.name;
  } finally {
    d.closeSync();
  }
  return last;
}

function write(file: string, content: string | Buffer, mtimeSec?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  if (mtimeSec !== undefined) fs.utimesSync(file, mtimeSec, mtimeSec);
}

describe('ferry migrate', () => {
  it('copies the fixture tree exactly (independent comparison), verified, with a report', async () => {
    const d = dirs('fixture');
    await makeTree(d.src, { huge: true });
    const { run, fin, report } = migrate(d);
    expect(run.code, run.stderr).toBe(0);
    expect(fin.passed).toBe(true);
    const diffs = compareTrees(d.src, d.dst).filter((x) => !(x.kind === 'missing' && x.path.startsWith('special/')));
    expect(formatDifferences(diffs)).toBe('');
    const r = report();
    expect(r.summary.failed.total).toBe(0);
    expect(r.summary.skipped.byReason).toMatchObject({ fifo: 1 });
    expect(r.summary.hardLinks).toBe(3);
    expect(r.problems.map((p) => p.path.display).sort()).toEqual(expect.arrayContaining(['special/fifo']));
    // Nothing of Ferry's own is left behind in the destination.
    expect(fs.readdirSync(d.dst).filter((n) => n.startsWith('.ferry'))).toEqual([]);

    // The same migration again, incremental: nothing is copied.
    const again = migrate(d, ['--mode', 'incremental']);
    expect(again.run.code, again.run.stderr).toBe(0);
    expect(again.fin.summary.copied).toBe(0);
    expect(again.fin.summary.skippedUnchanged).toBeGreaterThan(20);
    expect(formatDifferences(compareTrees(d.src, d.dst).filter((x) => !(x.kind === 'missing' && x.path.startsWith('special/'))))).toBe('');
  }, 240_000);

  it('full verification rescans both trees and finds a difference planted after the copy', async () => {
    const d = dirs('verify-full');
    await makeTree(d.src, { huge: false, special: false });
    const ok = migrate(d, ['--verify', 'full']);
    expect(ok.run.code, ok.run.stderr).toBe(0);
    expect(ok.fin.summary.verified).toBeGreaterThan(10);
    expect(formatDifferences(compareTrees(d.src, d.dst))).toBe('');
    // Flip one byte at the destination, keeping size and mtime: incremental skips it, full verification catches it.
    const victim = path.join(d.dst, 'files', '4k');
    const st = fs.statSync(victim, { bigint: true });
    const fd = fs.openSync(victim, 'r+');
    fs.writeSync(fd, Buffer.of(fs.readFileSync(victim)[100]! ^ 0xff), 0, 1, 100);
    fs.closeSync(fd);
    const { setTimes } = await import('../../agent/fs/native.ts');
    setTimes(Buffer.from(victim), st.atimeNs, st.mtimeNs, true);
    const bad = migrate(d, ['--mode', 'incremental', '--verify', 'full']);
    expect(bad.run.code).toBe(1);
    expect(bad.fin.summary.different).toBe(1);
    expect(bad.report().problems).toContainEqual(expect.objectContaining({ path: { display: 'files/4k' }, category: 'different' }));
  }, 120_000);

  it('overwrite policies: never keeps, if-newer compares mtimes, if-different skips identical files', () => {
    const d = dirs('overwrite');
    const old = 1_600_000_000;
    const recent = 1_700_000_000;
    write(path.join(d.src, 'newer-at-source'), 'source v2', recent);
    write(path.join(d.dst, 'newer-at-source'), 'dest v1', old);
    write(path.join(d.src, 'older-at-source'), 'source v1', old);
    write(path.join(d.dst, 'older-at-source'), 'dest v2', recent);
    write(path.join(d.src, 'same'), 'same', old);
    write(path.join(d.dst, 'same'), 'same', old);
    write(path.join(d.src, 'new'), 'new file');
    const read = (n: string) => fs.readFileSync(path.join(d.dst, n), 'utf8');

    const never = migrate(d, ['--overwrite', 'never']);
    expect(never.run.code, never.run.stderr).toBe(0);
    expect([read('newer-at-source'), read('older-at-source'), read('new')]).toEqual(['dest v1', 'dest v2', 'new file']);
    expect(never.fin.summary.skippedByPolicy).toBe(3);

    const ifNewer = migrate(d, ['--overwrite', 'if-newer']);
    expect(ifNewer.run.code, ifNewer.run.stderr).toBe(0);
    expect([read('newer-at-source'), read('older-at-source')]).toEqual(['source v2', 'dest v2']);

    const ifDifferent = migrate(d, ['--overwrite', 'if-different']);
    expect(ifDifferent.run.code, ifDifferent.run.stderr).toBe(0);
    expect(read('older-at-source')).toBe('source v1');
    expect(ifDifferent.fin.summary.copied).toBe(1);
    expect(ifDifferent.fin.summary.skippedUnchanged).toBe(3);

    const checksum = migrate(d, ['--mode', 'incremental', '--checksum']);
    expect(checksum.run.code, checksum.run.stderr).toBe(0);
    expect(checksum.fin.summary.copied).toBe(0);
  }, 120_000);

  it('filters: include and exclude globs on byte paths, and an mtime window', () => {
    const d = dirs('filters');
    write(path.join(d.src, 'a.txt'), 'a');
    write(path.join(d.src, 'deep/er/b.txt'), 'b');
    write(path.join(d.src, 'deep/c.log'), 'c');
    write(path.join(d.src, 'skip/d.txt'), 'd');
    write(path.join(d.src, 'old.txt'), 'old', 1_000_000_000);
    const { run, fin } = migrate(d, ['--include', '*.txt', '--exclude', 'skip', '--newer-than', '2010-01-01']);
    expect(run.code, run.stderr).toBe(0);
    expect(fs.existsSync(path.join(d.dst, 'a.txt'))).toBe(true);
    expect(fs.existsSync(path.join(d.dst, 'deep/er/b.txt'))).toBe(true);
    expect(fs.existsSync(path.join(d.dst, 'deep/c.log'))).toBe(false);
    expect(fs.existsSync(path.join(d.dst, 'skip'))).toBe(false);
    expect(fs.existsSync(path.join(d.dst, 'old.txt'))).toBe(false);
    expect(fin.summary.copied).toBe(2);
  }, 60_000);

  it('mirror deletes extras (listed in the report), never excluded ones; dry run writes nothing', () => {
    const d = dirs('mirror');
    write(path.join(d.src, 'keep'), 'k');
    write(path.join(d.dst, 'extra-file'), 'x');
    write(path.join(d.dst, 'extra-dir/inner/f'), 'y');
    write(path.join(d.dst, 'protected.bak'), 'z');

    const snapshot = () => compareTrees(d.dst, d.dst).length === 0 && fs.readdirSync(d.dst).sort().join(',');
    const before = snapshot();
    const dry = migrate(d, ['--mirror', '--dry-run', '--exclude', '*.bak']);
    expect(dry.run.code, dry.run.stderr).toBe(0);
    expect(snapshot()).toBe(before);
    expect(fs.existsSync(path.join(d.dst, 'keep'))).toBe(false);
    const dr = dry.report();
    expect(dr.problems.filter((p) => p.category === 'would-copy').map((p) => p.path.display)).toEqual(['keep']);
    expect(dr.problems.filter((p) => p.category === 'would-delete').map((p) => p.path.display).sort()).toEqual(['extra-dir', 'extra-file']);

    const plain = migrate(d, ['--exclude', '*.bak']);
    expect(plain.run.code).toBe(0);
    expect(fs.existsSync(path.join(d.dst, 'extra-file'))).toBe(true);

    const mirror = migrate(d, ['--mirror', '--exclude', '*.bak']);
    expect(mirror.run.code, mirror.run.stderr).toBe(0);
    expect(fs.readdirSync(d.dst).sort()).toEqual(['keep', 'protected.bak']);
    expect(mirror.fin.summary.deleted).toBe(2);
    expect(mirror.report().problems.filter((p) => p.category === 'deleted').map((p) => p.path.display).sort()).toEqual(['extra-dir', 'extra-file']);
  }, 120_000);

  it('a file that keeps changing while read is retried, then reported as changed; the rest completes', async () => {
    const d = dirs('changing');
    write(path.join(d.src, 'steady'), 'steady');
    const hot = path.join(d.src, 'hot');
    write(hot, Buffer.alloc(64 * 1024 * 1024, 1));
    // A writer that rewrites a byte of the file every millisecond for the whole migration.
    const writer = spawn(process.execPath, ['-e', `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(hot)},'r+');let i=0;setInterval(()=>{fs.writeSync(fd,Buffer.of(i++&255),0,1,(i*4096)%(64*1024*1024));},1);`]);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const { run, fin, report } = migrate(d);
      expect(run.code).toBe(1);
      expect(fin.summary.changedDuringMigration).toBe(1);
      expect(report().problems).toContainEqual(expect.objectContaining({ path: { display: 'hot' }, category: 'changed' }));
      expect(fs.readFileSync(path.join(d.dst, 'steady'), 'utf8')).toBe('steady');
      expect(fs.existsSync(path.join(d.dst, 'hot'))).toBe(false);
    } finally {
      writer.kill('SIGKILL');
    }
  }, 120_000);

  it('a file that changed once after it was listed is copied as it is now, and full verification agrees', async () => {
    const d = dirs('changed-after-listing');
    // 24 files of 256 KiB at 1 MiB/s: the last one is read about 6 s after the listing.
    for (let f = 0; f < 24; f++) write(path.join(d.src, `f${String(f).padStart(2, '0')}`), Buffer.alloc(256 * 1024, f));
    // The source reads in the kernel's directory order (opendir, as its listing; readdirSync sorts):
    // the last name is read last.
    const lateName = lastInDirectoryOrder(d.src);
    const late = path.join(d.src, lateName);
    let listed = false;
    const { done } = runCli(b, ['migrate', d.src, d.dst, '--json', '--state-dir', d.state, '--report', d.report, '--bwlimit', '1M', '--concurrency', '1', '--verify', 'full'], (e) => {
      if (e.event === 'progress' && Number(e.entriesFound) >= 25) listed = true;
    });
    for (let waited = 0; !listed && waited < 30_000; waited += 25) await new Promise((r) => setTimeout(r, 25));
    expect(listed).toBe(true);
    // Grown and touched after the listing, before its copy: its listed size and mtime are stale now.
    fs.appendFileSync(late, Buffer.alloc(4096, 0xee));
    fs.utimesSync(late, 1_600_000_000, 1_600_000_000);
    expect(fs.existsSync(path.join(d.dst, lateName))).toBe(false);
    const run = await done;
    const fin = finishedEvent(run);
    expect(Report.parse(JSON.parse(fs.readFileSync(d.report, 'utf8'))).problems).toEqual([]);
    expect(run.code).toBe(0);
    // The journal took the meta the source copied (else the full rescan would call the file different).
    expect(fin.passed).toBe(true);
    expect(fin.summary).toMatchObject({ copied: 24, different: 0, changedDuringMigration: 0 });
    expect(fs.statSync(path.join(d.dst, lateName)).size).toBe(256 * 1024 + 4096);
    expect(formatDifferences(compareTrees(d.src, d.dst))).toBe('');
  }, 120_000);

  it('a small file that became a FIFO after it was listed is reported as changed, without waiting for a writer', async () => {
    const d = dirs('fifo-after-listing');
    // 24 files of 256 KiB at 1 MiB/s, as above: the last one is read about 6 s after the listing.
    for (let f = 0; f < 24; f++) write(path.join(d.src, `f${String(f).padStart(2, '0')}`), Buffer.alloc(256 * 1024, f));
    const lateName = lastInDirectoryOrder(d.src);
    let listed = false;
    const { done } = runCli(b, ['migrate', d.src, d.dst, '--json', '--state-dir', d.state, '--report', d.report, '--bwlimit', '1M', '--concurrency', '1'], (e) => {
      if (e.event === 'progress' && Number(e.entriesFound) >= 25) listed = true;
    });
    for (let waited = 0; !listed && waited < 30_000; waited += 25) await new Promise((r) => setTimeout(r, 25));
    expect(listed).toBe(true);
    fs.rmSync(path.join(d.src, lateName));
    expect(spawnSync('mkfifo', [path.join(d.src, lateName)]).status).toBe(0);
    const run = await done;
    const fin = finishedEvent(run);
    expect(run.code).toBe(1);
    expect(fin.summary).toMatchObject({ copied: 23, changedDuringMigration: 1 });
    const problems = Report.parse(JSON.parse(fs.readFileSync(d.report, 'utf8'))).problems;
    expect(problems).toEqual([expect.objectContaining({ path: { display: lateName }, category: 'changed' })]);
    expect(fs.existsSync(path.join(d.dst, lateName))).toBe(false);
  }, 120_000);

  it.runIf(isRoot)('unreadable files and directories are reported with the reason; the rest completes', () => {
    const d = dirs('unreadable');
    write(path.join(d.src, 'ok/fine'), 'fine');
    write(path.join(d.src, 'secret'), 'secret');
    fs.chmodSync(path.join(d.src, 'secret'), 0o000);
    write(path.join(d.src, 'closed/inside'), 'inside');
    fs.chmodSync(path.join(d.src, 'closed'), 0o000);
    fs.mkdirSync(d.dst);
    for (const p of [d.root, d.dst]) fs.chownSync(p, 65534, 65534);
    fs.mkdirSync(d.state);
    fs.chownSync(d.state, 65534, 65534);
    // The agents run as nobody, for whom mode 000 really is unreadable (root reads everything).
    const { run, fin, report } = migrate(d, [], { FERRY_TEST_AGENT_UID: '65534' });
    expect(run.code).toBe(1);
    expect(fs.readFileSync(path.join(d.dst, 'ok/fine'), 'utf8')).toBe('fine');
    expect(fin.summary.failed).toMatchObject({ total: 2, byReason: { EACCES: 2 } });
    const problems = report().problems.filter((p) => p.category === 'failed');
    expect(problems.map((p) => p.path.display).sort()).toEqual(['closed', 'secret']);
    expect(problems.every((p) => /permission denied|EACCES/i.test(p.reason))).toBe(true);
  }, 60_000);

  it('bad input gets a clear error that says what to do', () => {
    const d = dirs('bad-input');
    fs.mkdirSync(d.src, { recursive: true });
    const missing = runCliSync(b, ['migrate', path.join(d.root, 'nope'), d.dst]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    const inside = runCliSync(b, ['migrate', d.src, path.join(d.src, 'sub')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside the source/);
    const badMode = runCliSync(b, ['migrate', d.src, d.dst, '--mode', 'fast']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/--mode must be one of full, incremental/);
    const tinyRanges = runCliSync(b, ['migrate', d.src, d.dst, '--range-size', '64k']);
    expect(tinyRanges.code).toBe(2);
    expect(tinyRanges.stderr).toContain('--range-size must be at least 1M, not "64k".');
    const badRanges = runCliSync(b, ['migrate', d.src, d.dst, '--range-size', 'big']);
    expect(badRanges.stderr).toContain('--range-size wants a size like 128M or 1G, not "big".');
  });

  it('scan prints counts, histogram, depth and huge directories', async () => {
    const d = dirs('scan');
    await makeTree(d.src, { huge: false, special: false });
    const r = runCliSync(b, ['scan', d.src, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { counts: Record<string, number>; maxDepth: number; hugeDirs: unknown[] };
    expect(out.counts.symlink).toBeGreaterThanOrEqual(4);
    expect(out.maxDepth).toBeGreaterThanOrEqual(5);
    expect(out.hugeDirs).toEqual([]);
    const text = runCliSync(b, ['scan', d.src]);
    expect(text.stdout).toMatch(/File sizes:/);
  });
});

export { runCli };
