/**
 * What to do with an entry the source has and the destination may already have: copy it, skip it as
 * unchanged, or keep the destination's version (overwrite policy). Pure: it sees the source's
 * metadata and the destination probe, never the disk. In checksum mode an equal-size file is copied
 * "unless the source's hash turns out equal" (the source checks before sending: skipIfHash).
 */
import type { TaskSpec } from '../protocol/task.ts';
import type { ProbeResult, WireMeta } from '../protocol/wire.ts';

export type Decision = { action: 'copy'; skipIfHash?: string } | { action: 'unchanged' } | { action: 'keep'; reason: string };

export function needsProbe(spec: Pick<TaskSpec, 'mode' | 'overwrite'>): boolean {
  return spec.mode === 'incremental' || spec.overwrite !== 'always';
}

export function decide(spec: Pick<TaskSpec, 'mode' | 'overwrite' | 'checksum'>, src: WireMeta, dst: ProbeResult): Decision {
  if (!dst.exists) return { action: 'copy' };
  if (dst.kind !== src.kind) return spec.overwrite === 'never' ? { action: 'keep', reason: `A ${dst.kind} of that name is already at the destination (overwrite: never).` } : { action: 'copy' };
  const sameSize = dst.size === src.size;
  const sameTime = dst.mtimeNs === src.mtimeNs;
  const hashKnown = spec.checksum && src.kind === 'file' && sameSize && dst.hash !== undefined;
  const looksSame = spec.checksum && src.kind === 'file' ? sameSize : sameSize && sameTime;
  const copy: Decision = hashKnown ? { action: 'copy', skipIfHash: dst.hash as string } : { action: 'copy' };

  if (spec.mode === 'incremental' && looksSame) {
    // size+mtime equal: unchanged; checksum: equal size, the source compares hashes before sending.
    if (!spec.checksum || src.kind !== 'file') return { action: 'unchanged' };
    if (spec.overwrite === 'never') return { action: 'keep', reason: 'Already at the destination (overwrite: never).' };
    return copy;
  }
  switch (spec.overwrite) {
    case 'always':
      return copy;
    case 'never':
      return { action: 'keep', reason: 'Already at the destination (overwrite: never).' };
    case 'if-newer':
      return BigInt(src.mtimeNs) > BigInt(dst.mtimeNs ?? '0')
        ? copy
        : { action: 'keep', reason: 'The destination is as new or newer (overwrite: if-newer).' };
    case 'if-different':
      if (looksSame && !spec.checksum) return { action: 'unchanged' };
      return copy;
  }
}
