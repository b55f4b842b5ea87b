/**
 * Live checks of a plan on its hosts over SSH (`ferry plan check FILE --hosts`), needing no agent:
 * for every data address, on every host that serves it, the directory exists, is a mount (NFS
 * option warnings from the agent's checker), is readable on source hosts and writable on
 * destination hosts (a temp file is created and removed, nothing else is written), and every host
 * of the address sees the same mount; per host, Ferry's prerequisites (cores, memory, free disk) as
 * warnings. Every finding names the host, the directory and what to do. Reads only, apart from the
 * temp file and the probe's ~/.ferry directory.
 *
 *   const { ok, findings, facts } = await checkPlanOnHosts(plan, { auth, hostKeys: { dataDir } });
 *   // findings: { severity: 'error' | 'warning', code, host, address?, directory?, message }[]
 *
 * The directory checks are exported for the console's mounts.check (electron/controller/
 * mounts-service.ts), which runs them on sessions it already holds: `inspectDirectories` on one
 * open session, then `directoryFindings` per host and `sameStorageFindings` across a tunnel.
 */
import { randomBytes } from 'node:crypto';
import type { HostFacts } from '../../agent/protocol/facts.ts';
import { findMountFor, majorMinorOf, parseMountInfo, type MountInfoLine } from '../../agent/fs/mountinfo.ts';
import { checkNfsOptions, isNfsType } from '../../agent/probe/nfs-check.ts';
import { addressHosts, type Plan, type PlanHost } from '../contract/plan.ts';
import { probeOverSsh } from '../hosts/probe.ts';
import { mark, runScript } from '../hosts/remote-script.ts';
import type { SshSession } from '../ssh/session.ts';
import { shQuote } from '../ssh/shell.ts';
import { HostConnector, type HostConnectorOptions } from './host-connector.ts';

export type FindingSeverity = 'error' | 'warning';

export interface LiveFinding {
  severity: FindingSeverity;
  /** Stable: host-unreachable, cannot-inspect, dir-missing, not-a-directory, not-a-mount, inside-mount, not-nfs,
   * unreadable, read-only, not-writable, different-mounts, an NFS MountWarning code, or a
   * prerequisite code (cpu-cores, memory, disk-free). */
  code: string;
  host: string;
  /** The data address and its directory, for directory findings. */
  address?: string;
  directory?: string;
  message: string;
}

export interface LiveCheckResult {
  /** True when there is no error (warnings allowed). */
  ok: boolean;
  findings: LiveFinding[];
  /** Facts per host that could be probed. */
  facts: Record<string, HostFacts>;
}

export type LiveCheckOptions = Omit<HostConnectorOptions, 'hosts'> & {
  /** Opens a new SSH session to a plan host, instead of Ferry's own HostConnector; the check closes it. */
  connectHost?: (host: PlanHost) => Promise<SshSession>;
};

/** Network and cluster file systems, whose identity is their source (server:/export), not a device number. */
const SHARED_FS = /^(nfs|nfs4|cifs|smb3|ceph|glusterfs|fuse\.\w+|9p|lustre|gpfs)$/;

/** What the dir script saw at one directory on one host. */
export interface DirFacts {
  /**
   * 'cannot-inspect': the SSH user cannot search the directory or its nearest existing ancestor
   * (see `blocked`), so Ferry cannot tell whether it exists, what is in it or whether it is a mount.
   */
  state: 'missing' | 'not-a-directory' | 'present' | 'cannot-inspect';
  /** The directory with symlinks resolved (pwd -P); '' when not present. */
  real: string;
  dev: string;
  readable: boolean;
  /** Whether the directory has no entries; null when it cannot be listed (or is not present). */
  empty: boolean | null;
  /** Only for destination checks: null when writable, else the error text. */
  writeError: string | null;
  /** For 'cannot-inspect': the path the SSH user cannot search (the directory or an ancestor); else null. */
  blocked: string | null;
}

/** One directory to check on a host, and what it is for. */
export interface DirTarget {
  directory: string;
  /** Source directories must be readable; on destinations a temp file is created and removed. */
  role: 'source' | 'destination';
  tunnel: string;
  /** The plan's data address the directory belongs to, when the check is for one. */
  address?: string;
  /** The exact command to suggest when the directory is not a mount (default: a generic NFS example). */
  mountHint?: string;
}

/** One directory on one host, as inspected. */
export interface HostDirResult {
  host: string;
  check: DirTarget;
  facts: DirFacts;
  /** The mount the directory is on (its own mount point or a parent's), null when missing. */
  mount: MountInfoLine | null;
  /**
   * Mounts whose mount point is the directory (as given, or its real path), in mountinfo order:
   * the last is the topmost. Read from /proc/self/mountinfo, which any user can read, so this
   * holds even when the directory itself could not be inspected.
   */
  mountsAt: MountInfoLine[];
}

/**
 * Every fact is a labelled line ("state present", "real /mnt/nas", ...), so a command that prints
 * nothing (cd into a directory the user cannot search) can never shift the others. A path that
 * does not show up to `[ -e ]` is only 'missing' when its nearest existing ancestor is a directory
 * the SSH user can search: otherwise (EACCES, or a link that cannot be followed) it is
 * 'cannot-inspect', because a check as this user says nothing about what root would find there.
 */
function dirScript(checks: DirTarget[]): string {
  const tag = randomBytes(4).toString('hex');
  const lines = ['export LC_ALL=C'];
  checks.forEach((c, i) => {
    lines.push(
      `d=${shQuote(c.directory)}`,
      mark(`dir ${i}`),
      'p="$d"; while [ ! -e "$p" ] && [ ! -L "$p" ]; do p=$(dirname "$p"); done',
      'if [ -L "$p" ] && [ ! -e "$p" ]; then echo "state cannot-inspect"; echo "blocked $p"',
      'elif [ "$p" != "$d" ]; then',
      '  if [ -d "$p" ] && [ ! -x "$p" ]; then echo "state cannot-inspect"; echo "blocked $p"; else echo "state missing"; fi',
      'elif [ ! -d "$d" ]; then echo "state not-a-directory"',
      'elif ! real=$(cd "$d" 2>/dev/null && pwd -P); then echo "state cannot-inspect"; echo "blocked $d"',
      'else',
      '  echo "state present"; echo "real $real"; echo "dev $(stat -L -c %d "$d")"',
      '  if ls -A "$d" > /dev/null 2>&1 && [ -r "$d" ] && [ -x "$d" ]; then echo "access readable"; else echo "access unreadable"; fi',
      '  if ! ls -A "$d" > /dev/null 2>&1; then echo "listing unlisted"; elif [ -z "$(ls -A "$d" | head -n 1)" ]; then echo "listing empty"; else echo "listing entries"; fi',
    );
    if (c.role === 'destination') {
      lines.push(`  t="$d/.ferry-check-${tag}-${i}"`, '  if err=$( (: > "$t") 2>&1 ); then rm -f "$t"; echo "write ok"; else echo "write error $err"; fi');
    }
    lines.push('fi');
  });
  lines.push(mark('mountinfo'), 'cat /proc/self/mountinfo', mark('end'), '');
  return lines.join('\n');
}

/** The labelled lines of one directory's section: label -> rest of the line (the first line wins). */
function labelled(lines: string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of lines) {
    const m = /^(state|blocked|real|dev|access|listing|write) ?(.*)$/.exec(line);
    if (m?.[1] && !fields.has(m[1])) fields.set(m[1], m[2] ?? '');
  }
  return fields;
}

function parseDir(lines: string[], destination: boolean): DirFacts {
  const f = labelled(lines);
  const state = f.get('state')?.trim() ?? '';
  const absent = { real: '', dev: '', readable: false, empty: null, writeError: null, blocked: null };
  if (state === 'cannot-inspect') return { ...absent, state, blocked: f.get('blocked') || null };
  if (state === 'not-a-directory') return { ...absent, state };
  if (state !== 'present') return { ...absent, state: 'missing' };
  const real = f.get('real') ?? '';
  // A present directory without its real path was not fully inspected: never guess at it.
  if (!real.startsWith('/')) return { ...absent, state: 'cannot-inspect' };
  const dev = f.get('dev')?.trim() ?? '';
  const listing = f.get('listing')?.trim();
  const write = f.get('write')?.trim() ?? '';
  return {
    state: 'present',
    real,
    dev: /^\d+$/.test(dev) ? majorMinorOf(BigInt(dev)) : '',
    readable: f.get('access')?.trim() === 'readable',
    empty: listing === 'empty' ? true : listing === 'entries' ? false : null,
    writeError: destination && write !== 'ok' ? write.replace(/^error\s*/, '').replace(/^.*?: /, '') || 'unknown error' : null,
    blocked: null,
  };
}

/** What identifies the storage behind a directory, comparable across hosts where it can be told. */
export function storageIdentity(mount: MountInfoLine): string {
  return SHARED_FS.test(mount.fsType) ? `${mount.fsType} ${mount.source} ${mount.root}` : `${mount.fsType} dev ${mount.majorMinor} ${mount.root}`;
}

export function describeMount(mount: MountInfoLine): string {
  return `${mount.source} (${mount.fsType}) on ${mount.mountPoint}`;
}

/** True when the directory itself is the mount point of `mount`. */
export function isMountPoint(r: Pick<HostDirResult, 'facts' | 'mount'>): boolean {
  return r.facts.state === 'present' && r.mount !== null && r.mount.mountPoint === r.facts.real;
}

/** "data address "x"" or "the mount spec of tunnel "t"": what the operator edits to fix a wrong directory. */
function owner(check: DirTarget): string {
  return check.address !== undefined ? `data address "${check.address}"` : `the mount spec of tunnel "${check.tunnel}"`;
}

/** Findings of one directory on one host. */
export function directoryFindings(r: HostDirResult): LiveFinding[] {
  const { host, check, facts, mount } = r;
  const dir = check.directory;
  const base = { host, ...(check.address !== undefined ? { address: check.address } : {}), directory: dir };
  const out: LiveFinding[] = [];
  const error = (code: string, message: string) => out.push({ severity: 'error', code, ...base, message });
  const warning = (code: string, message: string) => out.push({ severity: 'warning', code, ...base, message });
  const mountHint = check.mountHint ?? `for example: mount -t nfs -o vers=3,hard,noresvport SERVER:/EXPORT ${dir}`;
  if (facts.state === 'cannot-inspect') {
    const where = facts.blocked === null || facts.blocked === dir ? `${dir} itself` : `${facts.blocked}, on the way to it`;
    error('cannot-inspect', `The SSH user on ${host} cannot search ${where}, so Ferry cannot tell whether ${dir} exists, what is in it or whether it is a mount. Give the user search permission there (chmod o+x, or a group it is in), or log in as root, then check again.`);
    return out;
  }
  if (facts.state === 'missing') {
    error('dir-missing', `${dir} does not exist on ${host}. Mount the ${check.role} NAS there (create the mount point and mount it: ${mountHint}), or correct the directory of ${owner(check)}.`);
    return out;
  }
  if (facts.state === 'not-a-directory') {
    error('not-a-directory', `${dir} on ${host} is not a directory. Give the directory where the NAS is mounted in ${owner(check)}.`);
    return out;
  }
  if (mount && isMountPoint(r)) {
    if (isNfsType(mount.fsType)) {
      for (const w of checkNfsOptions(mount.fsType, mount.superOptions)) warning(w.code, `${dir} on ${host}: ${w.message}`);
    } else {
      warning('not-nfs', `${dir} on ${host} is a ${mount.fsType} mount (${mount.source}), not NFS. Ferry is built and tested for NAS file systems mounted over NFS v3; check that this is the storage you mean.`);
    }
  } else if (mount && (isNfsType(mount.fsType) || SHARED_FS.test(mount.fsType))) {
    warning('inside-mount', `${dir} on ${host} is not a mount point itself but a directory inside ${describeMount(mount)}. That works; check that ${owner(check)} should name the subdirectory rather than the mount point.`);
  } else {
    error('not-a-mount', `${dir} on ${host} is not a mount: it is a plain directory on ${mount ? describeMount(mount) : 'the local disk'}. The NAS is probably not mounted there. Mount it (${mountHint}) and check again.`);
  }
  if (!facts.readable) error('unreadable', `${dir} on ${host} cannot be listed by the SSH user. Give the user read and search permission (or log in as root) so the ${check.role} agent can ${check.role === 'source' ? 'read the files' : 'check what it wrote'}.`);
  if (check.role === 'destination' && facts.writeError !== null) {
    const readOnly = /read-only/i.test(facts.writeError) || mount?.mountOptions.includes('ro') === true;
    if (readOnly) error('read-only', `${dir} on ${host} is read-only (${facts.writeError}). A destination must be writable: remount the NAS read-write (mount -o remount,rw ${mount?.mountPoint ?? dir}), or check the export's permissions on the NAS.`);
    else error('not-writable', `Ferry cannot create a file in ${dir} on ${host} (${facts.writeError}). Give the SSH user write permission there (or log in as root).`);
  }
  return out;
}

/** Hosts of one tunnel that see different storage at the same directory. */
export function sameStorageFindings(results: HostDirResult[]): LiveFinding[] {
  const present = results.filter((r) => r.facts.state === 'present' && r.mount);
  const identities = new Map<string, string[]>();
  for (const r of present) {
    const id = storageIdentity(r.mount as MountInfoLine);
    identities.set(id, [...(identities.get(id) ?? []), r.host]);
  }
  if (identities.size <= 1) return [];
  const first = present[0] as HostDirResult;
  const seen = present.map((r) => `${r.host}: ${describeMount(r.mount as MountInfoLine)}`).join('; ');
  return [
    {
      severity: 'error',
      code: 'different-mounts',
      host: present.map((r) => r.host).join(', '),
      ...(first.check.address !== undefined ? { address: first.check.address } : {}),
      directory: first.check.directory,
      message: `The hosts of tunnel "${first.check.tunnel}" do not see the same storage at ${first.check.directory} (${seen}). Every host of a tunnel must mount the same NAS export at the same path: fix the mounts, or remove the odd host from the tunnel.`,
    },
  ];
}

/**
 * Inspects directories on one host over an open session (one script: existence, mount, access,
 * emptiness, /proc/self/mountinfo). Reads only, apart from the destination temp file. Throws when
 * the host's output is incomplete (not Linux, no POSIX sh, no /proc).
 */
export async function inspectDirectories(session: SshSession, host: string, checks: DirTarget[]): Promise<HostDirResult[]> {
  const out = await runScript(session, dirScript(checks), 60_000);
  if (!out.sections.has('end')) throw new Error(`The directory checks on ${host} returned incomplete output (${out.stderr.trim() || `exit ${out.code}`}). Check that the host is Linux with a POSIX shell and /proc.`);
  const mounts = parseMountInfo((out.sections.get('mountinfo') ?? []).join('\n'));
  return checks.map((check, i) => {
    const d = parseDir(out.sections.get(`dir ${i}`) ?? [], check.role === 'destination');
    const mountsAt = mounts.filter((m) => m.mountPoint === check.directory || (d.real !== '' && m.mountPoint === d.real));
    return { host, check, facts: d, mount: d.state === 'present' ? findMountFor(mounts, d.real, d.dev || undefined) : null, mountsAt };
  });
}

async function checkHost(session: SshSession, host: string, checks: DirTarget[]): Promise<{ facts: HostFacts; dirs: HostDirResult[] }> {
  const facts = await probeOverSsh(session);
  return { facts, dirs: await inspectDirectories(session, host, checks) };
}

export async function checkPlanOnHosts(plan: Plan, options: LiveCheckOptions): Promise<LiveCheckResult> {
  const connector = new HostConnector({ ...options, hosts: plan.hosts });
  const perHost = new Map<string, DirTarget[]>();
  for (const address of plan.addresses) {
    const tunnel = plan.tunnels.find((t) => t.name === address.tunnel);
    if (!tunnel) continue;
    for (const name of addressHosts(plan, address)) perHost.set(name, [...(perHost.get(name) ?? []), { directory: address.directory, address: address.name, tunnel: tunnel.name, role: tunnel.role }]);
  }
  const findings: LiveFinding[] = [];
  const facts: Record<string, HostFacts> = {};
  const dirResults: HostDirResult[] = [];
  await Promise.all(
    [...perHost].map(async ([name, checks]) => {
      let session: SshSession | null = null;
      try {
        const host = connector.host(name);
        session = await (options.connectHost ? options.connectHost(host) : connector.connect(host));
        const r = await checkHost(session, name, checks);
        facts[name] = r.facts;
        dirResults.push(...r.dirs);
        for (const p of r.facts.prerequisites) if (!p.ok) findings.push({ severity: 'warning', code: p.code, host: name, message: `${name}: ${p.message}` });
      } catch (err) {
        findings.push({ severity: 'error', code: 'host-unreachable', host: name, message: `${name}: ${err instanceof Error ? err.message : String(err)}` });
      } finally {
        await session?.close();
      }
    }),
  );
  const order = plan.hosts.map((h) => h.name);
  dirResults.sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host));
  for (const r of dirResults) findings.push(...directoryFindings(r));
  for (const address of plan.addresses) findings.push(...sameStorageFindings(dirResults.filter((r) => r.check.address === address.name)));
  return { ok: !findings.some((f) => f.severity === 'error'), findings, facts };
}
