/**
 * Builds a fixture tree with every case that is hard to copy faithfully, for filesystem and engine
 * tests. Times are set with the native addon (nanoseconds), bottom-up, after all content exists.
 *
 * Contents (relative to the root):
 *   files/empty, files/one, files/4k, files/1m1          0 B, 1 B, 4 KiB, 1 MiB + 1 (pseudo-random)
 *   empty/                                               an empty directory
 *   nested/a/b/c/deep.txt                                nested directories
 *   links/rel -> ../files/one, links/abs -> /etc/passwd, links/dangling -> nowhere/missing,
 *   links/todir -> ../nested                             symlinks (relative, absolute, dangling, to a dir)
 *   hard/a/orig = hard/b/link1 = hard/link2              a hard-link group across directories
 *   hard/x = hard/a/y                                    a second group
 *   sparse/small                                         1 MiB hole, 4 KiB data, 1 MiB hole
 *   sparse/huge                                          (huge: true) 5 GiB hole, "ferry" at 5 GiB, 1 MiB hole
 *   names/<GBK c4 e3 ba c3>, names/caf<e9>, names/new\nline, names/<255 × 'n'>, names/<85 × '日'> (255 bytes),
 *   names/<GBK>/inner                                    non-UTF-8 names, a newline, 255-byte names
 *   modes/setuid (4755), modes/setgid (2750), modes/sticky-dir (1777), modes/setgid-dir (2775),
 *   modes/unreadable (000; root can still read it, so it only stops non-root copies)
 *   special/fifo, special/socket                         a FIFO (mkfifo) and a unix socket (left by a child node)
 *   owners/odd-file 12345:54321, owners/odd-dir 23456:65432, owners/odd-link (lchown) 34567:45678,
 *   owners/setuid-odd 4711 as 2345:3456                  only when running as root
 * Not included: a path longer than PATH_MAX (see makeDeepChain, which builds one in a child process
 * with relative mkdir/chdir steps; the comparator cannot walk such paths with absolute names).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds dist/native/<target>/ferry_fs.node if missing or stale (idempotent; quick when up to date). */
export function ensureNativeBuilt(): void {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'build', 'native.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build/native.mjs failed:\n${r.stdout}\n${r.stderr}`);
}

export interface MakeTreeOptions {
  /** Include the 5 GiB sparse file (default true). */
  huge?: boolean;
  /** Include the FIFO and socket (default true). */
  special?: boolean;
}

export interface TreeInfo {
  root: string;
  /** Whether odd owners were set (running as root). */
  owners: boolean;
  /** Whether a socket could be created. */
  socket: boolean;
}

export const GBK_NAME = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]);
export const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
export const NEWLINE_NAME = Buffer.from('new\nline');
export const LONG_ASCII_NAME = Buffer.from('n'.repeat(255));
export const LONG_UTF8_NAME = Buffer.from('日'.repeat(85));

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

function p(root: string, ...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat([Buffer.from(root), ...parts.flatMap((x) => [Buffer.from('/'), Buffer.from(x)])]);
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandom(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function writeAt(file: Buffer, data: Buffer, offset: number, size: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    fs.writeSync(fd, data, 0, data.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

export async function makeTree(root: string, options: MakeTreeOptions = {}): Promise<TreeInfo> {
  ensureNativeBuilt();
  const { setTimes } = await import('../../agent/fs/native.ts');
  const isRoot = process.getuid?.() === 0;
  fs.mkdirSync(root, { recursive: true });
  const mk = (...parts: string[]) => fs.mkdirSync(p(root, ...parts), { recursive: true });

  mk('files');
  fs.writeFileSync(p(root, 'files', 'empty'), '');
  fs.writeFileSync(p(root, 'files', 'one'), 'x');
  fs.writeFileSync(p(root, 'files', '4k'), pseudoRandom(4096, 1));
  fs.writeFileSync(p(root, 'files', '1m1'), pseudoRandom(MiB + 1, 2));

  mk('empty');
  mk('nested', 'a', 'b', 'c');
  fs.writeFileSync(p(root, 'nested', 'a', 'b', 'c', 'deep.txt'), 'deep\n');

  mk('links');
  fs.symlinkSync('../files/one', p(root, 'links', 'rel'));
  fs.symlinkSync('/etc/passwd', p(root, 'links', 'abs'));
  fs.symlinkSync('nowhere/missing', p(root, 'links', 'dangling'));
  fs.symlinkSync('../nested', p(root, 'links', 'todir'));

  mk('hard', 'a');
  mk('hard', 'b');
  fs.writeFileSync(p(root, 'hard', 'a', 'orig'), 'linked three times\n');
  fs.linkSync(p(root, 'hard', 'a', 'orig'), p(root, 'hard', 'b', 'link1'));
  fs.linkSync(p(root, 'hard', 'a', 'orig'), p(root, 'hard', 'link2'));
  fs.writeFileSync(p(root, 'hard', 'x'), 'linked twice\n');
  fs.linkSync(p(root, 'hard', 'x'), p(root, 'hard', 'a', 'y'));

  mk('sparse');
  writeAt(p(root, 'sparse', 'small'), pseudoRandom(4096, 3), MiB, 2 * MiB + 4096);
  if (options.huge ?? true) writeAt(p(root, 'sparse', 'huge'), Buffer.from('ferry'), 5 * GiB, 5 * GiB + MiB);

  mk('names');
  fs.writeFileSync(p(root, 'names', LATIN1_NAME), 'latin-1\n');
  fs.writeFileSync(p(root, 'names', NEWLINE_NAME), 'newline\n');
  fs.writeFileSync(p(root, 'names', LONG_ASCII_NAME), '255 ascii\n');
  fs.writeFileSync(p(root, 'names', LONG_UTF8_NAME), '255 utf-8\n');
  fs.mkdirSync(p(root, 'names', GBK_NAME));
  fs.writeFileSync(p(root, 'names', GBK_NAME, 'inner'), 'gbk dir\n');

  mk('modes');
  fs.writeFileSync(p(root, 'modes', 'setuid'), '#!/bin/sh\n');
  fs.chmodSync(p(root, 'modes', 'setuid'), 0o4755);
  fs.writeFileSync(p(root, 'modes', 'setgid'), '#!/bin/sh\n');
  fs.chmodSync(p(root, 'modes', 'setgid'), 0o2750);
  mk('modes', 'sticky-dir');
  fs.chmodSync(p(root, 'modes', 'sticky-dir'), 0o1777);
  mk('modes', 'setgid-dir');
  fs.chmodSync(p(root, 'modes', 'setgid-dir'), 0o2775);
  fs.writeFileSync(p(root, 'modes', 'unreadable'), 'secret\n');
  fs.chmodSync(p(root, 'modes', 'unreadable'), 0o000);

  let socket = false;
  if (options.special ?? true) {
    mk('special');
    const fifo = spawnSync('mkfifo', [path.join(root, 'special', 'fifo')]);
    if (fifo.status !== 0) throw new Error(`mkfifo failed: ${fifo.stderr}`);
    const sockPath = path.join(root, 'special', 'socket');
    if (Buffer.byteLength(sockPath) < 100) {
      const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sockPath)}, () => process.exit(0))`]);
      socket = r.status === 0 && fs.lstatSync(sockPath).isSocket();
    }
  }

  if (isRoot) {
    mk('owners', 'odd-dir');
    fs.writeFileSync(p(root, 'owners', 'odd-file'), 'odd owner\n');
    fs.chownSync(p(root, 'owners', 'odd-file'), 12345, 54321);
    fs.chownSync(p(root, 'owners', 'odd-dir'), 23456, 65432);
    fs.symlinkSync('odd-file', p(root, 'owners', 'odd-link'));
    fs.lchownSync(p(root, 'owners', 'odd-link'), 34567, 45678);
    fs.writeFileSync(p(root, 'owners', 'setuid-odd'), '#!/bin/sh\n');
    fs.chownSync(p(root, 'owners', 'setuid-odd'), 2345, 3456);
    fs.chmodSync(p(root, 'owners', 'setuid-odd'), 0o4711);
  }

  // Nanosecond times on everything, children before their directory, the root last.
  let n = 0n;
  const base = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z in ns
  const setAll = (abs: Buffer) => {
    const st = fs.lstatSync(abs);
    if (st.isDirectory()) for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) setAll(Buffer.concat([abs, Buffer.from('/'), name]));
    n += 1n;
    const mtime = base + n * 1_000_000_007n + 123_456_789n;
    setTimes(abs, mtime - 86_400_000_000_000n, mtime, true);
  };
  setAll(Buffer.from(root));
  return { root, owners: isRoot, socket };
}

/**
 * Creates root/d/d/…/d (depth levels, name 'd') with a file 'leaf' at the bottom, in a child process
 * that walks down with relative mkdir + chdir, so it works beyond PATH_MAX. Remove it with removeTree.
 */
export function makeDeepChain(root: string, depth: number, name = 'd'): void {
  fs.mkdirSync(root, { recursive: true });
  const script = `
    const fs = require('fs');
    process.chdir(${JSON.stringify(root)});
    for (let i = 0; i < ${depth}; i++) { fs.mkdirSync(${JSON.stringify(name)}); process.chdir(${JSON.stringify(name)}); }
    fs.writeFileSync('leaf', 'bottom');`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`makeDeepChain failed: ${r.stderr}`);
}

/** rm -rf, which (unlike fs.rmSync) copes with trees deeper than PATH_MAX and modes like 000. */
export function removeTree(dir: string): void {
  spawnSync('rm', ['-rf', '--', dir]);
}

/**
 * Bytes of the regular files under dir (Ferry's temp files included: data that arrived). Safe on a tree
 * a migration is writing: a temp file renamed or removed between readdir and stat is skipped.
 */
export function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}
