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
 */
import { randomBytes } from 'node:crypto';
import type { HostFacts } from '../../agent/protocol/facts.ts';
import { findMountFor, majorMinorOf, parseMountInfo, type MountInfoLine } from '../../agent/fs/mountinfo.ts';
import { checkNfsOptions, isNfsType } from '../../agent/probe/nfs-check.ts';
import { addressHosts, type DataAddress, type Plan, type PlanHost, type Tunnel } from '../contract/plan.ts';
import { probeOverSsh } from '../hosts/probe.ts';
import { mark, runScript } from '../hosts/remote-script.ts';
import type { SshSession } from '../ssh/session.ts';
import { shQuote } from '../ssh/shell.ts';
import { HostConnector, type HostConnectorOptions } from './host-connector.ts';

export type FindingSeverity = 'error' | 'warning';

export interface LiveFinding {
  severity: FindingSeverity;
  /** Stable: host-unreachable, dir-missing, not-a-directory, not-a-mount, inside-mount, not-nfs,
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

interface DirFacts {
  state: 'missing' | 'not-a-directory' | 'present';
  real: string;
  dev: string;
  readable: boolean;
  /** Only for destination checks: null when writable, else the error text. */
  writeError: string | null;
}

interface DirCheck {
  address: DataAddress;
  tunnel: Tunnel;
  role: 'source' | 'destination';
}

function dirScript(checks: DirCheck[]): string {
  const tag = randomBytes(4).toString('hex');
  const lines = ['export LC_ALL=C'];
  checks.forEach((c, i) => {
    lines.push(
      `d=${shQuote(c.address.directory)}`,
      mark(`dir ${i}`),
      'if [ ! -e "$d" ]; then echo missing',
      'elif [ ! -d "$d" ]; then echo not-a-directory',
      'else',
      '  echo present; (cd "$d" && pwd -P); stat -L -c %d "$d"',
      '  if ls -A "$d" > /dev/null 2>&1 && [ -r "$d" ] && [ -x "$d" ]; then echo readable; else echo unreadable; fi',
    );
    if (c.role === 'destination') {
      lines.push(`  t="$d/.ferry-check-${tag}-${i}"`, '  if err=$( (: > "$t") 2>&1 ); then rm -f "$t"; echo writable; else echo "write-error $err"; fi');
    }
    lines.push('fi');
  });
  lines.push(mark('mountinfo'), 'cat /proc/self/mountinfo', mark('end'), '');
  return lines.join('\n');
}

function parseDir(lines: string[], destination: boolean): DirFacts {
  const [state = '', real = '', dev = '', readable = '', write = ''] = lines.map((l) => l.trim());
  if (state !== 'present') return { state: state === 'not-a-directory' ? 'not-a-directory' : 'missing', real: '', dev: '', readable: false, writeError: null };
  return {
    state: 'present',
    real,
    dev: /^\d+$/.test(dev) ? majorMinorOf(BigInt(dev)) : '',
    readable: readable === 'readable',
    writeError: destination && write !== 'writable' ? write.replace(/^write-error\s*/, '').replace(/^.*?: /, '') || 'unknown error' : null,
  };
}

/** What identifies the storage behind a directory, comparable across hosts where it can be told. */
function storageIdentity(mount: MountInfoLine): string {
  return SHARED_FS.test(mount.fsType) ? `${mount.fsType} ${mount.source} ${mount.root}` : `${mount.fsType} dev ${mount.majorMinor} ${mount.root}`;
}

function describeMount(mount: MountInfoLine): string {
  return `${mount.source} (${mount.fsType}) on ${mount.mountPoint}`;
}

interface HostDirResult {
  host: string;
  check: DirCheck;
  facts: DirFacts;
  mount: MountInfoLine | null;
}

/** Findings of one directory on one host. */
function dirFindings(r: HostDirResult): LiveFinding[] {
  const { host, check, facts, mount } = r;
  const dir = check.address.directory;
  const base = { host, address: check.address.name, directory: dir };
  const out: LiveFinding[] = [];
  const error = (code: string, message: string) => out.push({ severity: 'error', code, ...base, message });
  const warning = (code: string, message: string) => out.push({ severity: 'warning', code, ...base, message });
  if (facts.state === 'missing') {
    error('dir-missing', `${dir} does not exist on ${host}. Mount the ${check.role} NAS there (or create the mount point and mount it), or correct the directory of data address "${check.address.name}".`);
    return out;
  }
  if (facts.state === 'not-a-directory') {
    error('not-a-directory', `${dir} on ${host} is not a directory. Give the directory where the NAS is mounted in data address "${check.address.name}".`);
    return out;
  }
  if (mount && mount.mountPoint === facts.real) {
    if (isNfsType(mount.fsType)) {
      for (const w of checkNfsOptions(mount.fsType, mount.superOptions)) warning(w.code, `${dir} on ${host}: ${w.message}`);
    } else {
      warning('not-nfs', `${dir} on ${host} is a ${mount.fsType} mount (${mount.source}), not NFS. Ferry is built and tested for NAS file systems mounted over NFS v3; check that this is the storage you mean.`);
    }
  } else if (mount && (isNfsType(mount.fsType) || SHARED_FS.test(mount.fsType))) {
    warning('inside-mount', `${dir} on ${host} is not a mount point itself but a directory inside ${describeMount(mount)}. That works; check that the plan should name the subdirectory rather than the mount point.`);
  } else {
    error(
      'not-a-mount',
      `${dir} on ${host} is not a mount: it is a plain directory on ${mount ? describeMount(mount) : 'the local disk'}. The NAS is probably not mounted there. Mount it (for example: mount -t nfs -o vers=3,hard,noresvport SERVER:/EXPORT ${dir}) and check again.`,
    );
  }
  if (!facts.readable) error('unreadable', `${dir} on ${host} cannot be listed by the SSH user. Give the user read and search permission (or log in as root) so the ${check.role} agent can ${check.role === 'source' ? 'read the files' : 'check what it wrote'}.`);
  if (check.role === 'destination' && facts.writeError !== null) {
    const readOnly = /read-only/i.test(facts.writeError) || mount?.mountOptions.includes('ro') === true;
    if (readOnly) error('read-only', `${dir} on ${host} is read-only (${facts.writeError}). A destination must be writable: remount the NAS read-write (mount -o remount,rw ${mount?.mountPoint ?? dir}), or check the export's permissions on the NAS.`);
    else error('not-writable', `Ferry cannot create a file in ${dir} on ${host} (${facts.writeError}). Give the SSH user write permission there (or log in as root).`);
  }
  return out;
}

/** Hosts of one address that see different storage at its directory. */
function sameMountFindings(results: HostDirResult[]): LiveFinding[] {
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
      address: first.check.address.name,
      directory: first.check.address.directory,
      message: `The hosts of tunnel "${first.check.tunnel.name}" do not see the same storage at ${first.check.address.directory} (${seen}). Every host of a tunnel must mount the same NAS export at the same path: fix the mounts, or remove the odd host from the tunnel.`,
    },
  ];
}

async function checkHost(session: SshSession, host: string, checks: DirCheck[]): Promise<{ facts: HostFacts; dirs: HostDirResult[] }> {
  const facts = await probeOverSsh(session);
  const out = await runScript(session, dirScript(checks), 60_000);
  if (!out.sections.has('end')) throw new Error(`The directory checks on ${host} returned incomplete output (${out.stderr.trim() || `exit ${out.code}`}). Check that the host is Linux with a POSIX shell and /proc.`);
  const mounts = parseMountInfo((out.sections.get('mountinfo') ?? []).join('\n'));
  const dirs = checks.map((check, i) => {
    const d = parseDir(out.sections.get(`dir ${i}`) ?? [], check.role === 'destination');
    return { host, check, facts: d, mount: d.state === 'present' ? findMountFor(mounts, d.real, d.dev || undefined) : null };
  });

  return { facts, dirs };
}

export async function checkPlanOnHosts(plan: Plan, options: LiveCheckOptions): Promise<LiveCheckResult> {
  const connector = new HostConnector({ ...options, hosts: plan.hosts });
  const perHost = new Map<string, DirCheck[]>();
  for (const address of plan.addresses) {
    const tunnel = plan.tunnels.find((t) => t.name === address.tunnel);
    if (!tunnel) continue;
    for (const name of addressHosts(plan, address)) perHost.set(name, [...(perHost.get(name) ?? []), { address, tunnel, role: tunnel.role }]);
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
  for (const r of dirResults) findings.push(...dirFindings(r));
  for (const address of plan.addresses) findings.push(...sameMountFindings(dirResults.filter((r) => r.check.address.name === address.name)));
  return { ok: !findings.some((f) => f.severity === 'error'), findings, facts };
}
