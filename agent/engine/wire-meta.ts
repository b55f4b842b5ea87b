/**
 * Converts between the filesystem layer's EntryMeta (bigints) and the wire's JSON form (decimal
 * strings), and between raw path bytes and base64. Pure functions, no IO.
 */
import type { EntryMeta } from '../fs/api.ts';
import type { WireMeta } from '../protocol/wire.ts';

/**
 * Size, times, mode, owner and inode as one string: equal signatures mean the entry did not change
 * between the listing and the copy (coordinator and source agree on it through CopyItem.sig).
 */
export function metaSig(m: WireMeta): string {
  return `${m.size}:${m.mtimeNs}:${m.ctimeNs}:${m.mode}:${m.uid}:${m.gid}:${m.ino}`;
}

export function metaToWire(m: EntryMeta): WireMeta {
  return {
    kind: m.kind,
    size: m.size,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    atimeNs: m.atimeNs.toString(),
    mtimeNs: m.mtimeNs.toString(),
    ctimeNs: m.ctimeNs.toString(),
    dev: m.dev.toString(),
    ino: m.ino.toString(),
    nlink: m.nlink,
    blocks: m.blocks,
  };
}

export function metaFromWire(w: WireMeta): EntryMeta {
  return {
    kind: w.kind,
    size: w.size,
    mode: w.mode,
    uid: w.uid,
    gid: w.gid,
    atimeNs: BigInt(w.atimeNs),
    mtimeNs: BigInt(w.mtimeNs),
    ctimeNs: BigInt(w.ctimeNs),
    dev: BigInt(w.dev),
    ino: BigInt(w.ino),
    nlink: w.nlink,
    blocks: w.blocks,
  };
}

export const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

const SLASH = 0x2f;

/** parent + '/' + name as relPath bytes (the root's children have no leading '/'). */
export function childRel(parent: Buffer, name: Buffer): Buffer {
  if (parent.length === 0) return name;
  const out = Buffer.allocUnsafe(parent.length + 1 + name.length);
  parent.copy(out, 0);
  out[parent.length] = SLASH;
  name.copy(out, parent.length + 1);
  return out;
}

/** Number of components (the root has depth 0). */
export function depthOf(rel: Buffer): number {
  if (rel.length === 0) return 0;
  let d = 1;
  for (let i = 0; i < rel.length; i++) if (rel[i] === SLASH) d++;
  return d;
}
