/**
 * Owns loading the optional Node-API addon (agent/native/ferry_fs.c, built by build/native.mjs) and the
 * fallbacks used when it is absent. The rest of the layer calls setTimes / setTimesFd / seekData /
 * seekHole / writeWhole here and never touches the addon directly.
 *
 * Where the addon is looked for, first hit wins (file name ferry_fs.node):
 *   1. $FERRY_NATIVE_DIR, either the file itself in that dir or <dir>/<platform>-<arch>/ferry_fs.node;
 *   2. next to the running bundle: <dir of this module>/../native/<platform>-<arch>/ (dist/agent/agent.mjs
 *      → dist/native/linux-x64/ferry_fs.node);
 *   3. the repository's build output: <dir of this module>/../../dist/native/<platform>-<arch>/ (sources
 *      run by tests).
 * FERRY_NATIVE_DISABLE=1 skips loading (to exercise the fallback).
 *
 * Fallback when absent (nativeStatus().available === false, the engine should report it):
 *   - times: fs.lutimesSync / fs.futimesSync, which libuv truncates to whole MICROSECONDS; the
 *     nanoseconds below are lost (we round so that the microseconds themselves come out exact);
 *   - sparse files: seekData/seekHole are unavailable, so dataSegments() reports the whole file as
 *     data and the destination keeps holes by skipping all-zero 4 KiB blocks (AtomicFileWriter sparse);
 *   - small files: canWriteWhole() is false (also when the process lacks OpenSSL's SHA256) and
 *     writeWholeFile takes AtomicFileWriter's calls one by one.
 * The addon is loaded lazily on first use, once per thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeFs {
  utimens(path: Buffer, atimeSec: bigint | null, atimeNsec: number, mtimeSec: bigint | null, mtimeNsec: number, noFollow: boolean): void;
  futimens(fd: number, atimeSec: bigint | null, atimeNsec: number, mtimeSec: bigint | null, mtimeNsec: number): void;
  /** Offset of the next data at or after offset, or -1 when there is none (ENXIO). */
  seekData(fd: number, offset: number): number;
  /** Offset of the next hole at or after offset (end of file counts as a hole), or -1 past the end. */
  seekHole(fd: number, offset: number): number;
  /**
   * A small file put in place in one call (see ferry_fs.c); present only where the process provides
   * OpenSSL's SHA256. Returns a WriteWholeStatus.
   */
  writeWhole?(
    tempPath: Buffer,
    finalPath: Buffer,
    data: Uint8Array,
    createMode: number,
    finalMode: number,
    expectedDev: bigint,
    uid: number,
    gid: number,
    atimeSec: bigint,
    atimeNsec: number,
    mtimeSec: bigint,
    mtimeNsec: number,
    flags: number,
    expectHash: Buffer | null,
    scratch: Buffer | null,
  ): number;
  /** lstat into the READ_WHOLE_STATS values (see ferry_fs.c); absent from an addon built before it. */
  lstatInto?(path: Buffer, stats: BigInt64Array): void;
  /** A small file read whole in one call (see ferry_fs.c); present with writeWhole. Returns bytes or a ReadWholeStatus. */
  readWhole?(path: Buffer, out: Buffer, offset: number, cap: number, stats: BigInt64Array, digest: Buffer): number;
}

/** writeWhole's flags and answers (ferry_fs.c). */
export const WriteWholeFlag = { fsync: 1, readBack: 2 } as const;
export const WriteWholeStatus = { ok: 0, otherDevice: 1, notRegular: 2, readBackDiffers: 3 } as const;

export interface NativeStatus {
  available: boolean;
  /** The file that was loaded. */
  path?: string;
  /** Why it is not available: the places searched, or the load error. */
  reason?: string;
}

export const NATIVE_FILE = 'ferry_fs.node';

let loaded: NativeFs | null | undefined;
let status: NativeStatus = { available: false, reason: 'not loaded yet' };

/** Candidate paths, in search order. Exported for tests and for the engine's diagnostics. */
export function nativeCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const target = `${process.platform}-${process.arch}`;
  const out: string[] = [];
  const fromEnv = env.FERRY_NATIVE_DIR;
  if (fromEnv) out.push(path.join(fromEnv, NATIVE_FILE), path.join(fromEnv, target, NATIVE_FILE));
  let here: string | null;
  try {
    here = path.dirname(fileURLToPath(import.meta.url));
  } catch {
    here = null; // not a file: URL (should not happen under Node)
  }
  if (here) {
    out.push(path.join(here, '..', 'native', target, NATIVE_FILE));
    out.push(path.join(here, '..', '..', 'dist', 'native', target, NATIVE_FILE));
  }
  return out;
}

/** The addon, or null when it is not available (see nativeStatus().reason). Loads on first call. */
export function loadNative(): NativeFs | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.FERRY_NATIVE_DISABLE === '1') {
    status = { available: false, reason: 'disabled by FERRY_NATIVE_DISABLE=1' };
    return loaded;
  }
  const candidates = nativeCandidates();
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      const mod = { exports: {} as Record<string, unknown> };
      process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
      const e = mod.exports;
      if (typeof e.utimens !== 'function' || typeof e.futimens !== 'function' || typeof e.seekData !== 'function' || typeof e.seekHole !== 'function') {
        throw new Error('it does not export utimens, futimens, seekData and seekHole');
      }
      loaded = e as unknown as NativeFs;
      status = { available: true, path: file };
      return loaded;
    } catch (err) {
      status = { available: false, reason: `could not load ${file}: ${err instanceof Error ? err.message : String(err)}` };
      return loaded;
    }
  }
  status = { available: false, reason: `no ${NATIVE_FILE} in ${candidates.join(', ')}` };
  return loaded;
}

/** Whether the addon is in use, where it came from, or why not. Triggers loading. */
export function nativeStatus(): NativeStatus {
  loadNative();
  return { ...status };
}

/** True when nanosecond times and SEEK_DATA/SEEK_HOLE are available. */
export function isNativeAvailable(): boolean {
  return loadNative() !== null;
}

const NS_PER_SEC = 1_000_000_000n;

function secPart(ns: bigint): bigint {
  // Floor division, so times before 1970 get a non-negative nanosecond part.
  const q = ns / NS_PER_SEC;
  return ns % NS_PER_SEC < 0n ? q - 1n : q;
}

function nsecPart(ns: bigint, sec: bigint): number {
  return Number(ns - sec * NS_PER_SEC);
}

/**
 * Seconds as a double that libuv (which truncates to whole microseconds) turns into exactly
 * floor(ns / 1000) microseconds: aim at the middle of the microsecond, so a double's rounding error
 * (about 0.24 µs at 2026 timestamps) cannot push it into the previous one.
 */
export function nsToFallbackSeconds(ns: bigint): number {
  const sec = secPart(ns);
  const usec = Math.floor(nsecPart(ns, sec) / 1000);
  return Number(sec) + (usec + 0.5) / 1e6;
}

/**
 * Sets atime and mtime (nanoseconds since the epoch) on a path. With noFollow the link itself is
 * changed, never its target. Without the addon: microsecond precision (see header).
 */
export function setTimes(absPath: Buffer, atimeNs: bigint, mtimeNs: bigint, noFollow: boolean): void {
  const n = loadNative();
  if (n) {
    const as = secPart(atimeNs);
    const ms = secPart(mtimeNs);
    n.utimens(absPath, as, nsecPart(atimeNs, as), ms, nsecPart(mtimeNs, ms), noFollow);
    return;
  }
  fallbackSetTimes(absPath, atimeNs, mtimeNs, noFollow);
}

/** Like setTimes, on an open file descriptor. */
export function setTimesFd(fd: number, atimeNs: bigint, mtimeNs: bigint): void {
  const n = loadNative();
  if (n) {
    const as = secPart(atimeNs);
    const ms = secPart(mtimeNs);
    n.futimens(fd, as, nsecPart(atimeNs, as), ms, nsecPart(mtimeNs, ms));
    return;
  }
  fs.futimesSync(fd, nsToFallbackSeconds(atimeNs), nsToFallbackSeconds(mtimeNs));
}

/** readWhole's answers below 0 (ferry_fs.c); its stats array holds READ_WHOLE_STATS values. */
export const ReadWholeStatus = { changed: -1, notRegular: -2, notSmall: -3 } as const;
export const READ_WHOLE_STATS = 11;

/** Whether readWhole can run here (the addon, with SHA256 in this process). Triggers loading. */
export function canReadWhole(): boolean {
  return loadNative()?.readWhole !== undefined;
}

/**
 * Reads the small dense regular file at path (at most cap bytes) into out[offset..] in one call:
 * open, fstat, read, fstat, close, SHA-256 into digest. Returns the bytes read or a ReadWholeStatus;
 * stats get the first fstat ([mode, uid, gid, nlink, size, blocks, atimeNs, mtimeNs, ctimeNs, dev,
 * ino]). Only where canReadWhole().
 */
export function readWhole(path: Buffer, out: Buffer, offset: number, cap: number, stats: BigInt64Array, digest: Buffer): number {
  // Callers check canReadWhole() first.
  return (loadNative() as NativeFs).readWhole!(path, out, offset, cap, stats, digest);
}

/** The addon's lstatInto, or null where it is not loaded (callers fall back to fs.lstatSync). */
export function nativeLstatInto(): ((path: Buffer, stats: BigInt64Array) => void) | null {
  const n = loadNative();
  return n?.lstatInto ? n.lstatInto.bind(n) : null;
}

/** Whether writeWhole can run here (the addon, with SHA256 in this process). Triggers loading. */
export function canWriteWhole(): boolean {
  return loadNative()?.writeWhole !== undefined;
}

/**
 * The addon's one-call small-file write (ferry_fs.c writeWhole: its steps and the WriteWholeStatus it
 * returns); uid -1 keeps the new file's owner; times in ns since the epoch. Only where canWriteWhole().
 */
export function writeWhole(
  tempPath: Buffer,
  finalPath: Buffer,
  data: Uint8Array,
  createMode: number,
  finalMode: number,
  expectedDev: bigint,
  uid: number,
  gid: number,
  atimeNs: bigint,
  mtimeNs: bigint,
  flags: number,
  expectHash: Buffer | null,
  scratch: Buffer | null,
): number {
  const n = loadNative() as NativeFs;
  const as = secPart(atimeNs);
  const ms = secPart(mtimeNs);
  // Callers check canWriteWhole() first.
  return n.writeWhole!(tempPath, finalPath, data, createMode, finalMode, expectedDev, uid, gid, as, nsecPart(atimeNs, as), ms, nsecPart(mtimeNs, ms), flags, expectHash, scratch);
}

/** The fallback path of setTimes, exported so tests can check it while the addon is present. */
export function fallbackSetTimes(absPath: Buffer, atimeNs: bigint, mtimeNs: bigint, noFollow: boolean): void {
  const a = nsToFallbackSeconds(atimeNs);
  const m = nsToFallbackSeconds(mtimeNs);
  if (noFollow) fs.lutimesSync(absPath, a, m);
  else fs.utimesSync(absPath, a, m);
}
