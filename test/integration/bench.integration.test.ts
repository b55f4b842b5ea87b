// Keeps `npm run bench` (build/bench.mjs) from rotting: a tiny run (scale 0.002, one round) of every
// dataset and tool must print a ratio line per tool and dataset, the floor of the small-file datasets
// and the PASS/MISS targets, and write figures for every tool to its --json file. Real figures come
// from running the bench by hand.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../helpers/engine-build.ts';
import type { EngineBuild } from '../helpers/engine-build.ts';
import { REPO_ROOT } from '../helpers/make-tree.ts';

let b: EngineBuild;
let tmp = '';

beforeAll(async () => {
  b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-test-'));
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface ToolFigures {
  best: number;
  filesPerSec: number;
  mbPerSec: number;
  runs: number[];
  rss?: Record<string, number>;
}

describe('npm run bench', () => {
  it('a tiny run prints ratios and targets and writes figures for every tool', () => {
    const json = path.join(tmp, 'bench.json');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'build/bench.mjs'), '--scale', '0.002', '--rounds', '1', '--json', json, '--cli', b.cli], {
      env: b.env,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const dataset of ['small', 'large', 'wide']) expect(r.stdout).toMatch(new RegExp(`^${dataset}: `, 'm'));
    for (const tool of ['tar', 'cp', 'rsync']) expect(r.stdout.match(new RegExp(`^  ratio Ferry/${tool}: \\d+\\.\\d\\dx \\(Ferry (faster|slower)\\)$`, 'gm'))).toHaveLength(3);
    expect(r.stdout).toMatch(/^ {2}(PASS|MISS) {2}small files: Ferry files\/s >= 1\.0x tar: /m);
    expect(r.stdout).toMatch(/^ {2}(PASS|MISS) {2}large files: Ferry MB\/s >= 1\.0x tar: /m);
    expect(r.stdout.match(/^ {2}(PASS|MISS) {2}\w+: peak RSS of every Ferry process <= 300 MB: /gm)).toHaveLength(3);
    // The floor (the per-file work alone) for the two small-file datasets, not for the large files.
    expect(r.stdout.match(/^ {2}Ferry CPU \/ floor CPU: \d+\.\d\dx /gm)).toHaveLength(2);

    const doc = JSON.parse(fs.readFileSync(json, 'utf8')) as { datasets: Record<string, { files: number; bytes: number; tools: Record<string, ToolFigures>; ratios: Record<string, number>; floor?: ToolFigures }> };
    expect([doc.datasets.small?.floor?.best, doc.datasets.wide?.floor?.best].every((s) => s !== undefined && s > 0)).toBe(true);
    expect(doc.datasets.large?.floor).toBeUndefined();
    expect(Object.keys(doc.datasets).sort()).toEqual(['large', 'small', 'wide']);
    for (const d of Object.values(doc.datasets)) {
      expect(d.files).toBeGreaterThan(0);
      for (const tool of ['ferry', 'tar', 'cp', 'rsync']) {
        const t = d.tools[tool] as ToolFigures;
        expect(t.runs).toHaveLength(1);
        expect(t.best).toBeGreaterThan(0);
        expect(t.mbPerSec).toBeGreaterThan(0);
      }
      for (const tool of ['tar', 'cp', 'rsync']) expect(d.ratios[tool]).toBeGreaterThan(0);
      const rss = d.tools.ferry?.rss ?? {};
      for (const role of ['coordinator', 'source', 'destination', 'cli']) expect(rss[role], role).toBeGreaterThan(10_000_000);
    }
    // Its data directory (as root: a tmpfs it mounted) is gone again.
    const where = /data on (?:a tmpfs mounted at )?(\/\S+?)[ .]/.exec(r.stdout)?.[1] ?? '';
    expect(where).toMatch(/ferry-bench-/);
    expect(fs.existsSync(where)).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${where} `);
  }, 300_000);
});
