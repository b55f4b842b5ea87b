// The test comparator itself: identical for `cp -a` copies of the fixture (cp -a keeps modes, owners,
// nanosecond times incl. symlinks and dirs, hard links within the copy, and holes via SEEK_HOLE), and
// it finds one planted difference of each kind.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimes } from '../../agent/fs/native.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import type { DiffKind } from '../helpers/compare-trees.ts';
import { makeTree, removeTree } from '../helpers/make-tree.ts';
import type { TreeInfo } from '../helpers/make-tree.ts';

let dir = '';
let small = '';
let info: TreeInfo;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-compare-'));
  small = path.join(dir, 'small');
  info = await makeTree(small, { huge: false });
}, 120_000);
afterAll(() => removeTree(dir));

function cpA(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** Copies the small fixture, applies `mutate`, then puts back the mtimes of the listed paths. */
function planted(name: string, mutate: (b: string) => void, restore: string[] = []): ReturnType<typeof compareTrees> {
  const b = path.join(dir, name);
  cpA(small, b);
  mutate(b);
  for (const rel of restore) {
    const st = fs.lstatSync(path.join(small, rel), { bigint: true });
    setTimes(Buffer.from(path.join(b, rel)), st.atimeNs, st.mtimeNs, true);
  }
  return compareTrees(small, b);
}

const kinds = (diffs: ReturnType<typeof compareTrees>) => [...new Set(diffs.map((d) => d.kind))].sort();

describe('the fixture', () => {
  it('has the hard cases it promises', () => {
    const st = (rel: string) => fs.lstatSync(path.join(small, rel), { bigint: true });
    expect(st('hard/a/orig').nlink).toBe(3n);
    expect(st('hard/b/link1').ino).toBe(st('hard/link2').ino);
    expect(Number(st('modes/setuid').mode & 0o7777n)).toBe(0o4755);
    expect(Number(st('modes/sticky-dir').mode & 0o7777n)).toBe(0o1777);
    expect(st('sparse/small').blocks * 512n).toBeLessThan(st('sparse/small').size);
    expect(st('links/todir').isSymbolicLink()).toBe(true);
    expect(st('special/fifo').isFIFO()).toBe(true);
    expect(info.socket).toBe(true);
    expect(st('special/socket').isSocket()).toBe(true);
    // Nanosecond times that the microsecond-only fs.utimes could not have produced.
    for (const rel of ['files/one', 'links/rel', 'nested/a', '']) expect(st(rel).mtimeNs % 1000n).not.toBe(0n);
    const names = fs.readdirSync(path.join(small, 'names'), { encoding: 'buffer' }).map((n) => n.toString('hex'));
    expect(names).toContain('c4e3bac3');
    expect(names).toContain('636166e9');
    expect(names).toContain(Buffer.from('new\nline').toString('hex'));
    expect(names.some((n) => n.length === 510)).toBe(true);
    if (isRoot) expect(st('owners/odd-link').uid).toBe(34567n);
  });
});

describe('compareTrees', () => {
  it('reports cp -a copies as identical, including a 5 GiB sparse file', async () => {
    const big = path.join(dir, 'big');
    await makeTree(big, { huge: true });
    cpA(big, path.join(dir, 'big-copy'));
    const diffs = compareTrees(big, path.join(dir, 'big-copy'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    removeTree(big);
    removeTree(path.join(dir, 'big-copy'));
  }, 120_000);

  const cases: Array<[DiffKind, string, (b: string) => void, string[]]> = [
    ['missing', 'files/one', (b) => fs.unlinkSync(path.join(b, 'files/one')), ['files']],
    ['extra', 'files/new', (b) => fs.writeFileSync(path.join(b, 'files/new'), ''), ['files']],
    [
      'type',
      'files/4k',
      (b) => {
        fs.unlinkSync(path.join(b, 'files/4k'));
        fs.mkdirSync(path.join(b, 'files/4k'));
      },
      ['files'],
    ],
    ['mode', 'modes/setuid', (b) => fs.chmodSync(path.join(b, 'modes/setuid'), 0o755), []],
    ['mtime', 'links/todir', (b) => setTimes(Buffer.from(path.join(b, 'links/todir')), 0n, fs.lstatSync(path.join(b, 'links/todir'), { bigint: true }).mtimeNs + 1n, true), []],
    ['mtime', 'nested/a', (b) => setTimes(Buffer.from(path.join(b, 'nested/a')), 0n, 1n, true), []],
    ['size', 'files/1m1', (b) => fs.appendFileSync(path.join(b, 'files/1m1'), 'x'), ['files/1m1']],
    [
      'content',
      'files/1m1',
      (b) => {
        const fd = fs.openSync(path.join(b, 'files/1m1'), 'r+');
        const byte = Buffer.alloc(1);
        fs.readSync(fd, byte, 0, 1, 777_777);
        byte[0] = (byte[0] as number) ^ 1;
        fs.writeSync(fd, byte, 0, 1, 777_777);
        fs.closeSync(fd);
      },
      ['files/1m1'],
    ],
    [
      'link-target',
      'links/rel',
      (b) => {
        fs.unlinkSync(path.join(b, 'links/rel'));
        fs.symlinkSync('../files/4k', path.join(b, 'links/rel'));
      },
      ['links', 'links/rel'],
    ],
    [
      'hardlink',
      'hard/b/link1',
      (b) => {
        const p = path.join(b, 'hard/b/link1');
        fs.unlinkSync(p);
        const r = spawnSync('cp', ['-p', path.join(b, 'hard/link2'), p]);
        expect(r.status).toBe(0);
      },
      ['hard/b'],
    ],
    [
      'sparse',
      'sparse/small',
      (b) => {
        const p = path.join(b, 'sparse/small');
        const r = spawnSync('cp', ['-p', '--sparse=never', p, `${p}.dense`]);
        expect(r.status).toBe(0);
        fs.renameSync(`${p}.dense`, p);
      },
      ['sparse'],
    ],
  ];
  if (isRoot) cases.push(['owner', 'owners/odd-link', (b) => fs.lchownSync(path.join(b, 'owners/odd-link'), 1, 1), []]);

  it.each(cases.map((c, i) => [`${c[0]} (${c[1]})`, i] as const))('finds a planted %s difference', (_label, i) => {
    const [kind, rel, mutate, restore] = cases[i] as (typeof cases)[number];
    const diffs = planted(`plant-${i}`, mutate, restore);
    expect(kinds(diffs), formatDifferences(diffs)).toEqual([kind]);
    expect(diffs.map((d) => d.path)).toContain(rel);
    removeTree(path.join(dir, `plant-${i}`));
  });

  it('prints non-UTF-8 names safely and can ignore owners and mtimes', () => {
    const diffs = planted(
      'plant-names',
      (b) => {
        fs.writeFileSync(Buffer.from(`${b}/names/caf\xe9`, 'latin1'), 'changed');
        if (isRoot) fs.chownSync(path.join(b, 'files/one'), 7, 7);
      },
    );
    expect(diffs.find((d) => d.kind === 'size')?.path).toBe('names/caf\\xe9');
    expect(kinds(diffs)).toEqual(isRoot ? ['mtime', 'owner', 'size'] : ['mtime', 'size']);
    const relaxed = compareTrees(small, path.join(dir, 'plant-names'), { owner: false, mtime: false });
    expect(kinds(relaxed)).toEqual(['size']);
  });
});
