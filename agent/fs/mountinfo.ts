/**
 * Parser for /proc/self/mountinfo (see proc(5)). Pure: text in, records out.
 * Fields are unescaped (the kernel writes space, tab, newline and backslash as \040, \011, \012, \134).
 * Lines that do not have the documented shape are skipped rather than guessed at.
 */

export interface MountInfoLine {
  mountId: number;
  parentId: number;
  /** "major:minor" of the mounted filesystem's device. */
  majorMinor: string;
  /** Root of the mount within its filesystem. */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  optionalFields: string[];
  fsType: string;
  source: string;
  /** Per-superblock options; for NFS these are the effective mount options (vers, hard, rsize…). */
  superOptions: string[];
}

export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfoLine(line: string): MountInfoLine | null {
  const fields = line.trim().split(' ');
  const separator = fields.indexOf('-', 6);
  if (separator < 0 || fields.length < separator + 4) return null;
  const [mountId, parentId, majorMinor, root, mountPoint, mountOptions] = fields;
  if (!mountId || !parentId || !majorMinor || !root || !mountPoint || !mountOptions) return null;
  return {
    mountId: Number(mountId),
    parentId: Number(parentId),
    majorMinor,
    root: unescapeMountField(root),
    mountPoint: unescapeMountField(mountPoint),
    mountOptions: mountOptions.split(','),
    optionalFields: fields.slice(6, separator),
    fsType: fields[separator + 1] ?? '',
    source: unescapeMountField(fields[separator + 2] ?? ''),
    superOptions: (fields[separator + 3] ?? '').split(',').filter(Boolean),
  };
}

export function parseMountInfo(text: string): MountInfoLine[] {
  const lines: MountInfoLine[] = [];
  for (const line of text.split('\n')) {
    const parsed = line ? parseMountInfoLine(line) : null;
    if (parsed) lines.push(parsed);
  }
  return lines;
}

/**
 * "major:minor" of a st_dev as Linux (glibc's gnu_dev_major/minor) encodes it, matching mountinfo's
 * third field. Example: 0x34n → "0:52".
 */
export function majorMinorOf(dev: bigint | number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n);
  const minor = (d & 0xffn) | ((d >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

/**
 * The mount that holds `path` (absolute, already resolved by realpath, compared as a string in the same
 * decoding the mountinfo text was read in): the mount with the longest mount point that is `path` or
 * one of its ancestors, preferring mounts of the device `majorMinor` when given; among mounts stacked
 * on the same point the last (topmost) wins. Null when nothing matches.
 */
export function findMountFor(mounts: readonly MountInfoLine[], path: string, majorMinor?: string): MountInfoLine | null {
  const holds = (m: MountInfoLine) => m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
  const best = (pool: readonly MountInfoLine[]) => {
    let found: MountInfoLine | null = null;
    for (const m of pool) if (holds(m) && (!found || m.mountPoint.length >= found.mountPoint.length)) found = m;
    return found;
  };
  if (majorMinor !== undefined) {
    const sameDevice = best(mounts.filter((m) => m.majorMinor === majorMinor));
    if (sameDevice) return sameDevice;
  }
  return best(mounts);
}
