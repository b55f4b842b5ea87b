/**
 * known_hosts: parsing OpenSSH's format and deciding whether a presented host key is known,
 * unknown, changed or revoked. Handles plain and hashed (`|1|salt|hash`) host fields, `[host]:port`,
 * comma lists, `*`/`?` wildcards, `!` negation and the @revoked / @cert-authority markers.
 * Pure: text and key blobs in, verdicts out; reading and writing the files is host-key-store.ts.
 * Never says "known" for a key it has not found, whatever the input.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostEntry {
  /** Where it came from, for messages ("path:line"). */
  source: string;
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written (comma list of patterns, or one hashed `|1|…|…`). */
  hosts: string;
  keyType: string;
  /** Base64 key blob. */
  key: string;
}

export type HostKeyVerdict =
  | { status: 'known'; source: string }
  | { status: 'unknown' }
  /** The host is known with another key (same type) or only with keys of other types. */
  | { status: 'changed'; knownAt: string[]; knownTypes: string[] }
  | { status: 'revoked'; source: string };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) continue;
    entries.push({ source: `${file}:${i + 1}`, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name a host is recorded under: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH-style glob: `*` any run, `?` one character; case-insensitive like OpenSSH host matching. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|');
  // ["", "1", salt, hash]
  if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether an entry's host field names this host and port. */
export function entryMatchesHost(entry: Pick<KnownHostEntry, 'hosts'>, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hosts.startsWith('|')) return hashedMatch(entry.hosts, name);
  let matched = false;
  for (const raw of entry.hosts.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (!pattern || !globMatch(pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Decides about a presented key (its type from the blob, e.g. "ssh-ed25519", and the blob itself). */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyVerdict {
  const presented = keyBlob.toString('base64');
  const same = (e: KnownHostEntry): boolean => e.keyType === keyType && e.key === presented;
  // A revoked key is refused whichever host it is recorded for (OpenSSH does the same).
  const revoked = entries.find((e) => e.marker === 'revoked' && same(e));
  if (revoked) return { status: 'revoked', source: revoked.source };
  const forHost = entries.filter((e) => e.marker === null && entryMatchesHost(e, host, port));
  const match = forHost.find(same);
  if (match) return { status: 'known', source: match.source };
  if (forHost.length === 0) return { status: 'unknown' };
  return { status: 'changed', knownAt: forHost.map((e) => e.source), knownTypes: [...new Set(forHost.map((e) => e.keyType))] };
}

/** A line for Ferry's own known_hosts file (plain, readable, OpenSSH-compatible). */
export function formatKnownHostsLine(host: string, port: number, keyType: string, keyBlob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyType} ${keyBlob.toString('base64')}`;
}

/** "SHA256:…" as OpenSSH prints it (unpadded base64 of the blob's SHA-256). */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519", …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return 'unknown';
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms to offer, known types for this host first (as OpenSSH does), so a host known
 * by its RSA key is not asked for an ed25519 one and then reported as unknown or changed.
 */
export function hostKeyAlgorithmsFor(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const known = entries.filter((e) => e.marker === null && entryMatchesHost(e, host, port)).flatMap((e) => ALGORITHMS_FOR_TYPE[e.keyType] ?? []);
  return [...new Set([...known, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}
