// The bench's floor: what copying a tree of small files costs when only the per-file work Ferry's
// rules require is done, through Ferry's own C calls back to back in one thread, with no TLS, no
// journal, no messages and no second process. For every entry: an lstat (lstatInto, as a source lists);
// for every file: readWhole at the source (open, fstat, read, fstat, close, SHA-256) and writeWhole at
// the destination (exclusive create under a temp name, device check, write, fsync, read-back compared
// with the source's SHA-256, times, close, rename). Directories are made as they are met.
//
// Usage: <Node 24> build/bench-floor.mjs ADDON SRC DST   (run by build/bench.mjs, which times it)
// Prints {"files": N, "bytes": B} and exits 0; exits 1 on any file it cannot copy this way (a file
// larger than the cap, for one: the floor is for small-file datasets).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CAP = 256 * 1024;
const [addonPath, src, dst] = process.argv.slice(2);
const addon = { exports: {} };
process.dlopen(addon, addonPath, os.constants.dlopen.RTLD_NOW);
const { lstatInto, readWhole, writeWhole } = addon.exports;
if (!lstatInto || !readWhole || !writeWhole) throw new Error(`${addonPath} lacks lstatInto, readWhole or writeWhole: rebuild it (npm run build).`);

const stats = new BigInt64Array(11);
const data = Buffer.allocUnsafe(CAP);
const scratch = Buffer.allocUnsafe(CAP + 1);
const digest = Buffer.alloc(32);
const dev = BigInt(fs.statSync(dst).dev);
const S_IFMT = 0o170000n;
const S_IFDIR = 0o040000n;
const S_IFREG = 0o100000n;
const NS = 1_000_000_000n;
let files = 0;
let bytes = 0;

/** [seconds, nanoseconds 0..999999999] of a ns time (before 1970 too). */
function split(ns) {
  const frac = ((ns % NS) + NS) % NS;
  return [(ns - frac) / NS, Number(frac)];
}

const stack = [''];
while (stack.length > 0) {
  const rel = stack.pop();
  for (const name of fs.readdirSync(path.join(src, rel))) {
    const r = path.join(rel, name);
    const from = Buffer.from(path.join(src, r));
    lstatInto(from, stats);
    const type = stats[0] & S_IFMT;
    if (type === S_IFDIR) {
      fs.mkdirSync(path.join(dst, r));
      stack.push(r);
      continue;
    }
    if (type !== S_IFREG) continue;
    const n = readWhole(from, data, 0, CAP, stats, digest);
    if (n < 0) throw new Error(`${from} could not be read whole (status ${n}): the floor is for files of at most ${CAP} bytes.`);
    const mode = Number(stats[0] & 0o7777n);
    const [aSec, aNs] = split(stats[6]);
    const [mSec, mNs] = split(stats[7]);
    const to = path.join(dst, r);
    const status = writeWhole(Buffer.from(`${to}.floor-tmp`), Buffer.from(to), data.subarray(0, n), mode | 0o600, mode, dev, -1, -1, aSec, aNs, mSec, mNs, 3, digest, scratch);
    if (status !== 0) throw new Error(`${to} could not be written whole (status ${status}).`);
    files++;
    bytes += n;
  }
}
console.log(JSON.stringify({ files, bytes }));
