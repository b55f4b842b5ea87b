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
