/**
 * Checks an NFS mount's options against the ones Ferry recommends for migrations:
 * vers=3, hard (never soft), noresvport, rsize=wsize=1048576, timeo >= 150 (deciseconds),
 * retrans >= 2. Pure: takes the option list as the kernel reports it in /proc/self/mountinfo
 * (super options, which for NFS carry the effective values) and returns one warning per deviation.
 */
import type { MountWarning } from '../protocol/facts.ts';
import { MIN_RETRANS, MIN_TIMEO_DECISECONDS, RECOMMENDED_IO_SIZE } from '../protocol/nfs.ts';

export { recommendedMountCommand } from '../protocol/nfs.ts';

export function isNfsType(fsType: string): boolean {
  return fsType === 'nfs' || fsType === 'nfs4';
}

/** Options as a map; a flag without '=' maps to ''. Later values win, as in the kernel. */
export function optionMap(options: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const option of options) {
    const eq = option.indexOf('=');
    if (eq < 0) map.set(option, '');
    else map.set(option.slice(0, eq), option.slice(eq + 1));
  }
  return map;
}

function nfsVersion(fsType: string, opts: Map<string, string>): string | null {
  const v = opts.get('vers') ?? opts.get('nfsvers');
  if (v !== undefined) return v;
  return fsType === 'nfs4' ? '4' : null;
}

export function checkNfsOptions(fsType: string, options: readonly string[]): MountWarning[] {
  const opts = optionMap(options);
  const warnings: MountWarning[] = [];
  const warn = (code: MountWarning['code'], option: string, found: string | null, recommended: string, message: string) =>
    warnings.push({ code, option, found, recommended, message });

  const version = nfsVersion(fsType, opts);
  if (version !== '3') {
    warn('nfs-version', 'vers', version, '3', `Mounted with NFS version ${version ?? 'unknown'}; remount with vers=3, the protocol the NAS migration is tested with.`);
  }
  if (opts.has('soft')) {
    warn('nfs-soft', 'soft', 'soft', 'hard', 'Mounted "soft": a slow NAS can make reads and writes fail silently and corrupt data. Remount with "hard".');
  } else if (!opts.has('hard')) {
    warn('nfs-not-hard', 'hard', null, 'hard', 'The mount does not say "hard". Remount with "hard" so I/O waits for the NAS instead of failing.');
  }
  if (!opts.has('noresvport')) {
    warn('nfs-resvport', 'noresvport', null, 'noresvport', 'Without "noresvport", reconnects after a network hiccup can fail for lack of reserved ports. Remount with "noresvport".');
  }
  for (const key of ['rsize', 'wsize'] as const) {
    const value = opts.get(key);
    if (value !== String(RECOMMENDED_IO_SIZE)) {
      warn(key === 'rsize' ? 'nfs-rsize' : 'nfs-wsize', key, value ?? null, String(RECOMMENDED_IO_SIZE), `${key}=${value ?? 'default'} limits throughput; remount with ${key}=${RECOMMENDED_IO_SIZE} (1 MiB).`);
    }
  }
  const timeo = Number(opts.get('timeo'));
  if (!(timeo >= MIN_TIMEO_DECISECONDS)) {
    warn('nfs-timeo', 'timeo', opts.get('timeo') ?? null, '600', `timeo=${opts.get('timeo') ?? 'default'} retries too early under load; use timeo=600 (at least ${MIN_TIMEO_DECISECONDS}).`);
  }
  const retrans = Number(opts.get('retrans'));
  if (opts.has('retrans') && !(retrans >= MIN_RETRANS)) {
    warn('nfs-retrans', 'retrans', opts.get('retrans') ?? null, '2', `retrans=${opts.get('retrans')} gives up too quickly; use retrans=2.`);
  }
  return warnings;
}
