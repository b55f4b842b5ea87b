// The Node-API addon: nanosecond times on files, directories and symlinks, errors shaped like Node's,
// loading in Node 20, the Node 24 agent runtime and worker threads, and the microsecond fallback.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyMeta } from '../../agent/fs/apply.ts';
import { classify } from '../../agent/fs/errors.ts';
import { lstatMeta, metaFromStats, statEntry } from '../../agent/fs/meta.ts';
import { fallbackSetTimes, loadNative, nativeCandidates, nativeStatus, nsToFallbackSeconds, setTimes, setTimesFd } from '../../agent/fs/native.ts';
import { REPO_ROOT, ensureNativeBuilt } from '../helpers/make-tree.ts';

const TARGET = `${process.platform}-${process.arch}`;
const ADDON = path.join(REPO_ROOT, 'dist', 'native', TARGET, 'ferry_fs.node');
let dir = '';
const b = (...parts: string[]) => Buffer.from(path.join(dir, ...parts));
const mtimeOf = (p: Buffer) => fs.lstatSync(p, { bigint: true }).mtimeNs;
const atimeOf = (p: Buffer) => fs.lstatSync(p, { bigint: true }).atimeNs;

beforeAll(() => {
  ensureNativeBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-native-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function agentRuntime(): string | null {
  for (const c of [path.join(REPO_ROOT, 'dist', 'runtime', TARGET, 'bin', 'node'), '/tmp/n24/package/bin/node']) if (fs.existsSync(c)) return c;
  return null;
}

describe('addon', () => {
  it('is found in the repository build output', () => {
    const status = nativeStatus();
    expect(status.available, status.reason).toBe(true);
    expect(status.path).toBe(path.join(REPO_ROOT, 'dist', 'native', TARGET, 'ferry_fs.node'));
    expect(nativeCandidates({ FERRY_NATIVE_DIR: '/x' }).slice(0, 2)).toEqual(['/x/ferry_fs.node', `/x/${TARGET}/ferry_fs.node`]);
  });

  it('sets mtime and atime to the nanosecond on a file, a directory and a symlink (not its target)', () => {
    fs.writeFileSync(b('file'), 'x');
    fs.mkdirSync(b('dir'));
    fs.symlinkSync('file', b('link'));
    const targetBefore = mtimeOf(b('file'));
    const cases: Array<[Buffer, bigint]> = [
      [b('dir'), 1_767_225_600_123_456_789n],
      [b('link'), 1_767_225_601_987_654_321n],
      [b('file'), 1_767_225_602_000_000_001n],
    ];
    setTimes(b('link'), 1_000_000_000_000_000_007n, cases[1]![1], true);
    expect(mtimeOf(b('file'))).toBe(targetBefore);
    for (const [p, t] of cases) {
      setTimes(p, t - 999n, t, true);
      expect(mtimeOf(p)).toBe(t);
      expect(atimeOf(p)).toBe(t - 999n);
    }
    expect(statEntry(b('link')).mtimeNs).toBe(cases[1]![1]);
  });

  it('follows the link only without noFollow, and handles times before 1970', () => {
    fs.writeFileSync(b('target2'), 'x');
    fs.symlinkSync('target2', b('link2'));
    setTimes(b('link2'), 5n, 1_700_000_000_000_000_001n, false);
    expect(mtimeOf(b('target2'))).toBe(1_700_000_000_000_000_001n);
    setTimes(b('target2'), 0n, -1_500_000_000n, true); // 1969-12-31T23:59:58.5Z
    expect(mtimeOf(b('target2'))).toBe(-1_500_000_000n);
  });

  it('sets times on an open fd', () => {
    fs.writeFileSync(b('fdfile'), 'x');
    const fd = fs.openSync(b('fdfile'), 'r+');
    try {
      setTimesFd(fd, 1n, 1_767_225_603_111_111_111n);
    } finally {
      fs.closeSync(fd);
    }
    expect(mtimeOf(b('fdfile'))).toBe(1_767_225_603_111_111_111n);
  });

  it('applyMeta keeps nanoseconds and the order chown → chmod (setuid survives) → times', () => {
    fs.writeFileSync(b('applied'), 'x');
    const meta = { ...statEntry(b('applied')), mode: 0o4755, uid: 4321, gid: 8765, mtimeNs: 1_767_225_604_000_000_999n, atimeNs: 1n };
    applyMeta(b('applied'), meta, { owner: true });
    const st = fs.lstatSync(b('applied'), { bigint: true });
    expect(st.mtimeNs).toBe(meta.mtimeNs);
    expect(Number(st.mode & 0o7777n)).toBe(0o4755);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([4321n, 8765n]);
  });

  it('throws errors with code, errno and syscall like Node', () => {
    const n = loadNative();
    expect(n).not.toBeNull();
    let caught: unknown;
    try {
      n?.utimens(b('missing'), 1n, 0, 1n, 0, true);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'utimensat' });
    expect(classify(caught)).toMatchObject({ code: 'io', errno: 'ENOENT' });
    expect(() => n?.utimens(b('file'), 1n, 1_000_000_000, 1n, 0, true)).toThrow(RangeError);
    expect(() => n?.utimens(Buffer.from('/tmp/a\0b'), 1n, 0, 1n, 0, true)).toThrow(TypeError);
    expect(() => n?.seekData(-1, 0)).toThrow(RangeError);
    expect(() => n?.futimens(999_999, 1n, 0, 1n, 0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // null seconds leave that time alone (UTIME_OMIT)
    const before = atimeOf(b('file'));
    n?.utimens(b('file'), null, 0, 42n, 0, true);
    expect(atimeOf(b('file'))).toBe(before);
    expect(mtimeOf(b('file'))).toBe(42_000_000_000n);
  });

  it('lstatInto gives what lstat gives for every kind of entry, never following a symlink', () => {
    const names = ['lfile', 'ldir', 'llink', 'lfifo', 'old', Buffer.from([0x67, 0xbf, 0xfe, 0x0a]).toString('latin1')];
    fs.writeFileSync(b('lfile'), 'some bytes');
    fs.mkdirSync(b('ldir'));
    fs.symlinkSync('lfile', b('llink'));
    expect(spawnSync('mkfifo', [path.join(dir, 'lfifo')]).status).toBe(0);
    fs.writeFileSync(b('old'), '');
    loadNative()?.utimens(b('old'), -5n, 1, -86_400n, 999_999_999, true); // before 1970
    const gbk = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x67, 0xbf, 0xfe, 0x0a])]); // not UTF-8, with a newline
    fs.writeFileSync(gbk, 'x');
    expect(loadNative()?.lstatInto).toBeTypeOf('function');
    for (const name of names) {
      const p = name === names[5] ? gbk : b(name);
      expect(lstatMeta(p), name).toEqual(metaFromStats(fs.lstatSync(p, { bigint: true })));
    }
    expect(lstatMeta(b('llink')).kind).toBe('symlink');
    expect(lstatMeta(b('old')).mtimeNs).toBe(-86_400_000_000_000n + 999_999_999n);
    let caught: unknown;
    try {
      lstatMeta(b('no-such-entry'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'lstat' });
    expect(() => loadNative()?.lstatInto?.(b('lfile'), new BigInt64Array(3))).toThrow(TypeError);
  });

  it('loads in worker threads', async () => {
    const { Worker } = await import('node:worker_threads');
    const code = `const os = require('os'); const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(ADDON)}, os.constants.dlopen.RTLD_NOW);
      require('worker_threads').parentPort.postMessage(Object.keys(m.exports).sort().join(','));`;
    const results = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<string>((resolve, reject) => {
            const w = new Worker(code, { eval: true });
            w.once('message', (m: string) => void w.terminate().then(() => resolve(m)));
            w.once('error', reject);
          }),
      ),
    );
    expect(results).toEqual(['futimens,lstatInto,readWhole,seekData,seekHole,utimens,writeWhole', 'futimens,lstatInto,readWhole,seekData,seekHole,utimens,writeWhole']);
  });

  it('loads and works in the Node 24 agent runtime and in this Node', () => {
    const runtime = agentRuntime();
    expect(runtime, 'no Node 24 runtime: run `node build/fetch-runtime.mjs` (or npm run build)').not.toBeNull();
    const file = b('n24');
    fs.writeFileSync(file, 'x');
    const script = `const os = require('os'), fs = require('fs'); const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(ADDON)}, os.constants.dlopen.RTLD_NOW);
      m.exports.utimens(Buffer.from(${JSON.stringify(file.toString())}), 1n, 2, 1767225600n, 999999999, true);
      const fd = fs.openSync(${JSON.stringify(file.toString())}, 'r');
      console.log(process.versions.node.split('.')[0], String(fs.lstatSync(${JSON.stringify(file.toString())}, { bigint: true }).mtimeNs), m.exports.seekData(fd, 0), m.exports.seekHole(fd, 0), m.exports.seekData(fd, 1), typeof m.exports.writeWhole, typeof m.exports.readWhole);`;
    for (const node of [runtime as string, process.execPath]) {
      const r = spawnSync(node, ['-e', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const [major, ...rest] = r.stdout.trim().split(' ');
      // writeWhole and readWhole too: both binaries provide OpenSSL's SHA256 to addons.
      expect(rest).toEqual(['1767225600999999999', '0', '1', '-1', 'function', 'function']);
      expect(node === process.execPath || major === '24').toBe(true);
    }
  });

  it('needs no glibc newer than 2.28, the oldest the Node 24 runtime runs on (both builds)', () => {
    for (const target of ['linux-x64', 'linux-arm64']) {
      const r = spawnSync('objdump', ['-T', path.join(REPO_ROOT, 'dist', 'native', target, 'ferry_fs.node')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const versions = [...new Set(r.stdout.match(/GLIBC_[0-9.]+/g) ?? [])];
      expect(versions.length).toBeGreaterThan(0);
      const newer = versions.filter((v) => {
        const [major, minor] = v.slice('GLIBC_'.length).split('.').map(Number) as [number, number];
        return major > 2 || (major === 2 && minor > 28);
      });
      expect(newer, target).toEqual([]);
    }
  });
});

describe('fallback without the addon', () => {
  it('keeps exactly the microseconds', () => {
    fs.writeFileSync(b('fb'), 'x');
    fs.symlinkSync('fb', b('fblink'));
    const samples = [1_767_225_600_123_456_789n, 1_767_225_600_000_000_000n, 1_767_225_600_999_999_999n, 4_102_444_799_999_999_000n, 1n];
    for (let i = 0; i < 200; i++) samples.push(1_767_225_600_000_000_000n + BigInt(Math.floor(Math.random() * 1e15)));
    for (const t of samples) {
      fallbackSetTimes(b('fblink'), t, t, true);
      expect(mtimeOf(b('fblink'))).toBe((t / 1000n) * 1000n);
      expect(nsToFallbackSeconds(t)).toBeGreaterThan(Number(t / 1000n) / 1e6 - 1e-6);
    }
    fallbackSetTimes(b('fblink'), 1n, 1_767_225_600_123_456_789n, false);
    expect(mtimeOf(b('fb'))).toBe(1_767_225_600_123_456_000n);
  });

  it('reports itself unavailable when disabled, and loads from FERRY_NATIVE_DIR', async () => {
    const saved = { ...process.env };
    try {
      vi.resetModules();
      process.env.FERRY_NATIVE_DISABLE = '1';
      const disabled = await import('../../agent/fs/native.ts');
      expect(disabled.isNativeAvailable()).toBe(false);
      expect(disabled.nativeStatus().reason).toMatch(/FERRY_NATIVE_DISABLE/);
      fs.writeFileSync(b('viafallback'), 'x');
      disabled.setTimes(b('viafallback'), 1n, 1_767_225_600_123_456_789n, true);
      expect(mtimeOf(b('viafallback'))).toBe(1_767_225_600_123_456_000n);
      const meta = await import('../../agent/fs/meta.ts');
      expect(meta.lstatMeta(b('viafallback'))).toEqual(meta.metaFromStats(fs.lstatSync(b('viafallback'), { bigint: true })));
      const sparse = await import('../../agent/fs/sparse.ts');
      const fd = fs.openSync(b('viafallback'), 'r');
      expect(sparse.dataSegments(fd, 1)).toEqual([[0, 1]]);
      fs.closeSync(fd);

      vi.resetModules();
      delete process.env.FERRY_NATIVE_DISABLE;
      const custom = path.join(dir, 'custom-native');
      fs.mkdirSync(custom);
      fs.copyFileSync(ADDON, path.join(custom, 'ferry_fs.node'));
      process.env.FERRY_NATIVE_DIR = custom;
      const fromEnv = await import('../../agent/fs/native.ts');
      expect(fromEnv.nativeStatus()).toEqual({ available: true, path: path.join(custom, 'ferry_fs.node') });
    } finally {
      process.env = saved;
      vi.resetModules();
    }
  });
});
