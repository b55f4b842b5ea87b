/**
 * Probes a migration host over SSH: one POSIX shell script (uname, nproc, /proc/cpuinfo,
 * /proc/meminfo, df of Ferry's directory, id -u, /proc/self/mountinfo) and a parser that turns its
 * output into HostFacts, reusing the agent's mountinfo parser, NFS checks and prerequisite checks.
 * Reads only (it creates Ferry's directory if missing, nothing else); needs no agent on the host.
 */
import { HostFacts } from '../../agent/protocol/facts.ts';
import { parseMountInfo } from '../../agent/fs/mountinfo.ts';
import { checkPrerequisites, toMountEntry } from '../../agent/probe/host-facts.ts';
import { SshError } from '../ssh/errors.ts';
import type { SshSession } from '../ssh/session.ts';
import { shPath } from '../ssh/shell.ts';

const MARK = '@@ferry-probe:';
const PROBE_TIMEOUT_MS = 30_000;

/** uname -m → Node's arch names (what the agent runtime is built for); others pass through. */
export function nodeArch(machine: string): string {
  switch (machine) {
    case 'x86_64':
    case 'amd64':
      return 'x64';
    case 'aarch64':
    case 'arm64':
      return 'arm64';
    default:
      return machine;
  }
}

export function probeScript(agentDir: string): string {
  return [
    `d=${shPath(agentDir)}`,
    'mkdir -p "$d" 2>/dev/null',
    '[ -d "$d" ] || d="$HOME"',
    `echo '${MARK}uname'; uname -s; uname -r; uname -m; uname -n`,
    `echo '${MARK}nproc'; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN`,
    `echo '${MARK}cpumodel'; grep -m1 -i -E '^(model name|hardware|cpu model)[[:space:]]*:' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*:[[:space:]]*//'`,
    `echo '${MARK}meminfo'; grep '^MemTotal:' /proc/meminfo`,
    `echo '${MARK}dir'; (cd "$d" && pwd -P)`,
    // -P: one line per filesystem; 1024-byte blocks work with GNU and busybox df alike.
    `echo '${MARK}df'; df -Pk "$d" | tail -n 1`,
    `echo '${MARK}id'; id -u`,
    `echo '${MARK}mountinfo'; cat /proc/self/mountinfo 2>/dev/null || echo '${MARK}nomountinfo'`,
    `echo '${MARK}end'`,
    '',
  ].join('\n');
}

/** Splits the script's output into its sections. */
function sections(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of output.split('\n')) {
    if (line.startsWith(MARK)) {
      current = [];
      map.set(line.slice(MARK.length).trim(), current);
    } else current?.push(line);
  }
  return map;
}

/** Parses the probe script's stdout; throws a clear SshError when the output is not what it prints. */
export function parseProbeOutput(output: string, label: string, probedAt = new Date()): HostFacts {
  const parts = sections(output);
  const missing = ['uname', 'nproc', 'meminfo', 'df', 'id', 'end'].filter((s) => !parts.has(s));
  if (missing.length > 0) {
    throw new SshError('exec-failed', `The probe of ${label} returned incomplete output (missing: ${missing.join(', ')}). Check that the host is Linux with a POSIX shell, coreutils and /proc.`);
  }
  const [os = '', release = '', machine = '', hostname = ''] = (parts.get('uname') ?? []).map((l) => l.trim());
  const cores = Number((parts.get('nproc') ?? [])[0]);
  const memKb = Number(/MemTotal:\s+(\d+)\s*kB/.exec((parts.get('meminfo') ?? []).join('\n'))?.[1]);
  const dfLine = (parts.get('df') ?? []).find((l) => l.trim()) ?? '';
  const df = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(.*)$/.exec(dfLine.trim());
  const dir = (parts.get('dir') ?? []).find((l) => l.trim())?.trim() ?? '';
  const uid = Number((parts.get('id') ?? [])[0]);
  if (!Number.isFinite(cores) || !Number.isFinite(memKb) || !df || !Number.isFinite(uid)) {
    throw new SshError('exec-failed', `The probe of ${label} returned output Ferry cannot read (cores "${(parts.get('nproc') ?? [])[0] ?? ''}", df "${dfLine}"). Check that the host is Linux with coreutils and /proc.`);
  }
  const totalBytes = Number(df[2]) * 1024;
  const freeBytes = Number(df[4]) * 1024;
  const mountLines = parts.get('mountinfo');
  const mountsReadable = mountLines !== undefined && !parts.has('nomountinfo');
  const mounts = mountsReadable ? parseMountInfo(mountLines.join('\n')).map((m) => toMountEntry(m.mountPoint, m.fsType, m.source, m.superOptions)) : [];
  const memoryBytes = memKb * 1024;
  const facts: HostFacts = {
    hostname,
    os,
    platform: os.toLowerCase(),
    release,
    arch: nodeArch(machine),
    cpuCores: cores,
    cpuModel: (parts.get('cpumodel') ?? []).find((l) => l.trim())?.trim() || 'unknown',
    memoryBytes,
    isRoot: uid === 0,
    disk: { path: dir || (df[6] ?? ''), freeBytes, totalBytes },
    mounts,
    mountsReadable,
    prerequisites: checkPrerequisites(cores, memoryBytes, freeBytes),
    probedAt: probedAt.toISOString(),
  };
  return HostFacts.parse(facts);
}

/** Probes the host behind `session`; `agentDir` (default ~/.ferry) is where free disk is measured. */
export async function probeOverSsh(session: SshSession, agentDir = '~/.ferry'): Promise<HostFacts> {
  const result = await session.exec('sh -s', { stdin: probeScript(agentDir), timeoutMs: PROBE_TIMEOUT_MS });
  if (result.code !== 0) {
    const why = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ') || `exit ${result.code ?? result.signal}`;
    throw new SshError('exec-failed', `The probe of ${session.label} failed (${why}). Check that the user can run sh and read /proc.`);
  }
  return parseProbeOutput(result.stdout.toString('utf8'), session.label);
}
