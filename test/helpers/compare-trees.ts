/**
 * An independent, strict comparator of two directory trees for tests. It uses only node:fs and
 * node:crypto (none of Ferry's own filesystem code), so it can judge the engine's output.
 *
 * Compared, for every path (names as bytes; the roots themselves included unless { root: false }):
 *   presence ('missing' in b / 'extra' in b), type, permission bits incl. setuid/setgid/sticky (not for
 *   symlinks, whose mode Linux fixes at 0777), uid/gid, mtime to the nanosecond (files, dirs, symlinks,
 *   fifos, sockets), size and content of regular files (byte by byte, which is stricter than
 *   comparing SHA-256 and faster for the 5 GiB sparse fixture), symlink targets (bytes), hard-link grouping (the
 *   set of paths sharing an inode must be the same set in both trees), and sparseness (if a's file has
 *   holes, b's must too: its allocated blocks may not cover its whole size).
 * Not compared: atime, ctime, inode numbers themselves, directory sizes, extended attributes.
 * A file that cannot be read (e.g. mode 000 when not root) is reported as 'unreadable'.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

export type DiffKind =
  | 'missing'
  | 'extra'
  | 'type'
  | 'mode'
  | 'owner'
  | 'mtime'
  | 'size'
  | 'content'
  | 'link-target'
  | 'hardlink'
  | 'sparse'
  | 'unreadable';

export interface Difference {
  kind: DiffKind;
  /** Relative path as bytes ('' for the root). */
  rel: Buffer;
  /** Printable path: bytes outside printable ASCII as \xNN. */
  path: string;
  detail: string;
}

export interface CompareOptions {
  /** Compare uid/gid (default true). */
  owner?: boolean;
  /** Compare mtimes (default true). */
  mtime?: boolean;
  /** Compare hard-link grouping (default true). */
  hardLinks?: boolean;
  /** Require holes to stay holes (default true). */
  sparse?: boolean;
  /** Compare the two roots' own metadata (default true). */
  root?: boolean;
}

interface Node {
  rel: Buffer;
  st: fs.BigIntStats;
}

const SLASH = Buffer.from('/');

export function printable(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

function typeOf(st: fs.BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'unknown';
}

function joinAbs(root: Buffer, rel: Buffer): Buffer {
  return rel.length === 0 ? root : Buffer.concat([root, SLASH, rel]);
}

/** Every entry under root (root itself has rel ''), keyed by the rel bytes as latin1. Iterative. */
function scan(root: Buffer): Map<string, Node> {
  const out = new Map<string, Node>();
  const stack: Buffer[] = [Buffer.alloc(0)];
  while (stack.length > 0) {
    const rel = stack.pop() as Buffer;
    const abs = joinAbs(root, rel);
    const st = fs.lstatSync(abs, { bigint: true });
    out.set(rel.toString('latin1'), { rel, st });
    if (!st.isDirectory()) continue;
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' })) {
      stack.push(rel.length === 0 ? name : Buffer.concat([rel, SLASH, name]));
    }
  }
  return out;
}

/** Offset of the first differing byte of two files of equal size, or -1 when identical. */
function firstDifference(absA: Buffer, absB: Buffer): number {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
  const fa = fs.openSync(absA, flags);
  try {
    const fb = fs.openSync(absB, flags);
    try {
      const size = 8 * 1024 * 1024;
      const ba = Buffer.allocUnsafe(size);
      const bb = Buffer.allocUnsafe(size);
      let pos = 0;
      for (;;) {
        const na = fs.readSync(fa, ba, 0, size, pos);
        const nb = fs.readSync(fb, bb, 0, size, pos);
        if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) {
          const n = Math.min(na, nb);
          let i = 0;
          while (i < n && ba[i] === bb[i]) i++;
          return pos + i;
        }
        if (na === 0) return -1;
        pos += na;
      }
    } finally {
      fs.closeSync(fb);
    }
  } finally {
    fs.closeSync(fa);
  }
}

function sha256(abs: Buffer): string {
  return createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
}

function linkGroups(nodes: Map<string, Node>): Map<string, string> {
  const byIno = new Map<string, string[]>();
  for (const [key, n] of nodes) {
    if (n.st.isDirectory()) continue;
    const id = `${n.st.dev}:${n.st.ino}`;
    const list = byIno.get(id);
    if (list) list.push(key);
    else byIno.set(id, [key]);
  }
  const group = new Map<string, string>();
  for (const list of byIno.values()) {
    const label = list
      .map((k) => printable(Buffer.from(k, 'latin1')))
      .sort()
      .join(' | ');
    for (const k of list) group.set(k, label);
  }
  return group;
}

const oct = (n: bigint) => `0o${(n & 0o7777n).toString(8)}`;

export function compareTrees(a: string | Buffer, b: string | Buffer, options: CompareOptions = {}): Difference[] {
  const opt = { owner: true, mtime: true, hardLinks: true, sparse: true, root: true, ...options };
  const rootA = typeof a === 'string' ? Buffer.from(a) : a;
  const rootB = typeof b === 'string' ? Buffer.from(b) : b;
  const nodesA = scan(rootA);
  const nodesB = scan(rootB);
  const groupsA = opt.hardLinks ? linkGroups(nodesA) : null;
  const groupsB = opt.hardLinks ? linkGroups(nodesB) : null;
  const diffs: Difference[] = [];
  const add = (kind: DiffKind, rel: Buffer, detail: string) => diffs.push({ kind, rel, path: printable(rel), detail });

  for (const [key, na] of nodesA) {
    const nb = nodesB.get(key);
    const rel = na.rel;
    if (!nb) {
      add('missing', rel, `${typeOf(na.st)} is missing in b`);
      continue;
    }
    const isRoot = rel.length === 0;
    if (isRoot && !opt.root) continue;
    const sa = na.st;
    const sb = nb.st;
    const ta = typeOf(sa);
    const tb = typeOf(sb);
    if (ta !== tb) {
      add('type', rel, `${ta} vs ${tb}`);
      continue;
    }
    if (ta !== 'symlink' && (sa.mode & 0o7777n) !== (sb.mode & 0o7777n)) add('mode', rel, `${oct(sa.mode)} vs ${oct(sb.mode)}`);
    if (opt.owner && (sa.uid !== sb.uid || sa.gid !== sb.gid)) add('owner', rel, `${sa.uid}:${sa.gid} vs ${sb.uid}:${sb.gid}`);
    if (opt.mtime && sa.mtimeNs !== sb.mtimeNs) add('mtime', rel, `${sa.mtimeNs} vs ${sb.mtimeNs} ns`);
    const absA = joinAbs(rootA, rel);
    const absB = joinAbs(rootB, rel);
    if (ta === 'symlink') {
      const la = fs.readlinkSync(absA, { encoding: 'buffer' });
      const lb = fs.readlinkSync(absB, { encoding: 'buffer' });
      if (!la.equals(lb)) add('link-target', rel, `${printable(la)} vs ${printable(lb)}`);
    }
    if (ta === 'file') {
      if (sa.size !== sb.size) {
        add('size', rel, `${sa.size} vs ${sb.size} bytes`);
      } else {
        try {
          const at = firstDifference(absA, absB);
          if (at >= 0) {
            const hashes = sa.size <= 64n * 1024n * 1024n ? ` (sha256 ${sha256(absA).slice(0, 16)}… vs ${sha256(absB).slice(0, 16)}…)` : '';
            add('content', rel, `first difference at byte ${at}${hashes}`);
          }
        } catch (err) {
          add('unreadable', rel, err instanceof Error ? err.message : String(err));
        }
      }
      if (opt.sparse && sa.blocks * 512n < sa.size && sb.blocks * 512n >= sb.size && sb.size > 0n) {
        add('sparse', rel, `a has holes (${sa.blocks * 512n} of ${sa.size} bytes allocated), b has ${sb.blocks * 512n} allocated`);
      }
    }
    if (groupsA && groupsB && ta !== 'dir') {
      const ga = groupsA.get(key);
      const gb = groupsB.get(key);
      if (ga !== gb) add('hardlink', rel, `linked with [${ga}] vs [${gb}]`);
    }
  }
  for (const [key, nb] of nodesB) if (!nodesA.has(key)) add('extra', nb.rel, `${typeOf(nb.st)} only in b`);
  return diffs;
}

/** One line per difference, for assertion messages. */
export function formatDifferences(diffs: readonly Difference[]): string {
  return diffs.map((d) => `${d.kind} ${d.path || '.'}: ${d.detail}`).join('\n');
}
