/**
 * Full verification's comparison of one entry: the source as re-listed at the end (type, size, mode,
 * owner, mtime, link target, SHA-256) against what the destination has now. Pure; returns null when
 * they agree, else a sentence naming every difference.
 */
import type { WireEntry, WireMeta } from '../protocol/wire.ts';
import type { EntryRow } from './journal.ts';

const oct = (m: number) => `0${(m & 0o7777).toString(8)}`;

export function compareEntry(row: EntryRow, dst: WireEntry, dstHash: string | undefined, owner: boolean): string | null {
  const src = row.vsMeta;
  if (!src) return 'It is no longer in the source (it changed after it was copied).';
  const d = dst.meta;
  const out: string[] = [];
  if (src.kind !== d.kind) return `Type differs: ${src.kind} at the source, ${d.kind} at the destination.`;
  if (src.kind === 'file') {
    if (src.size !== d.size) out.push(`size ${src.size} vs ${d.size}`);
    else if (row.vsHash && dstHash && row.vsHash !== dstHash) out.push(`SHA-256 ${row.vsHash.slice(0, 12)}… vs ${dstHash.slice(0, 12)}…`);
    else if (!dstHash) out.push('the destination could not hash it');
  }
  if (src.kind === 'symlink' && (src.target ?? '') !== (dst.target ?? '')) out.push('link target differs');
  if (src.kind !== 'symlink' && src.mode !== d.mode) out.push(`mode ${oct(src.mode)} vs ${oct(d.mode)}`);
  if (owner && (src.uid !== d.uid || src.gid !== d.gid)) out.push(`owner ${src.uid}:${src.gid} vs ${d.uid}:${d.gid}`);
  if (src.mtimeNs !== d.mtimeNs) out.push(`mtime ${src.mtimeNs} vs ${d.mtimeNs} ns`);
  return out.length ? `Differs: ${out.join('; ')}.` : null;
}

export function compareDir(src: WireMeta, dst: WireMeta, owner: boolean): string | null {
  const out: string[] = [];
  if (dst.kind !== 'dir') return `Type differs: dir at the source, ${dst.kind} at the destination.`;
  if (src.mode !== dst.mode) out.push(`mode ${oct(src.mode)} vs ${oct(dst.mode)}`);
  if (owner && (src.uid !== dst.uid || src.gid !== dst.gid)) out.push(`owner ${src.uid}:${src.gid} vs ${dst.uid}:${dst.gid}`);
  if (src.mtimeNs !== dst.mtimeNs) out.push(`mtime ${src.mtimeNs} vs ${dst.mtimeNs} ns`);
  return out.length ? `Differs: ${out.join('; ')}.` : null;
}
