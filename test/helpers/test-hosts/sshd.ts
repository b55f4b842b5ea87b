/**
 * Test lab sshd: writes one host's sshd_config and runs the system's OpenSSH server inside the
 * host's network namespace and its own private mount namespace (its own /root, /mnt and the test's
 * bind mounts), then waits until it listens. Owns only the processes it spawns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10_000;

export interface BindMount {
  /** Directory on the real filesystem (the workstation's view). */
  source: string;
  /** Where it appears inside the host, e.g. /mnt/src. */
  target: string;
  readOnly?: boolean;
}

export interface SshdHost {
  name: string;
  ns: string;
  /** Per-host directory: sshd_config, host key, root/ (the host's /root). */
  dir: string;
  rootDir: string;
  listen: string[];
  binds: BindMount[];
}

export interface RunningSshd {
  process: ChildProcess;
  pid: number;
  /** Everything sshd logged (-e sends its log to stderr). */
  log(): string;
  exited: Promise<void>;
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sshdConfig(host: SshdHost): string {
  return [
    ...host.listen.map((a) => `ListenAddress ${a}:22`),
    `HostKey ${path.join(host.dir, 'ssh_host_ed25519_key')}`,
    'PidFile none',
    'PermitRootLogin yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes yes',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PrintMotd no',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'LoginGraceTime 30',
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/** The shell script run (as root) inside the fresh mount namespace before sshd replaces it. */
export function mountScript(host: SshdHost): string {
  const lines = ['set -e', `mount --bind ${q(host.rootDir)} /root`, 'mount -t tmpfs -o mode=755,size=64m ferry-lab-mnt /mnt', 'mkdir -p /run/sshd'];
  for (const bind of host.binds) {
    lines.push(`mkdir -p ${q(bind.target)}`, `mount --bind ${q(bind.source)} ${q(bind.target)}`);
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${q(bind.target)}`);
  }
  lines.push(`exec ${SSHD} -D -e -f ${q(path.join(host.dir, 'sshd_config'))}`);
  return lines.join('\n');
}

export async function startSshd(host: SshdHost): Promise<RunningSshd> {
  await fs.writeFile(path.join(host.dir, 'sshd_config'), sshdConfig(host));
  const child = spawn('ip', ['netns', 'exec', host.ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', mountScript(host)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log = (log + chunk).slice(-256 * 1024);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`test lab: could not start sshd for ${host.name}`);

  const deadline = Date.now() + START_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (host.listen.every((a) => log.includes(`Server listening on ${a} port 22.`))) break;
    if (gone) throw new Error(`test lab: sshd for ${host.name} exited at start:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`test lab: sshd for ${host.name} did not listen within ${START_TIMEOUT_MS} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { process: child, pid, log: () => log, exited };
}

export async function stopSshd(sshd: RunningSshd): Promise<void> {
  if (sshd.process.exitCode === null && sshd.process.signalCode === null) {
    sshd.process.kill('SIGTERM');
    const timer = setTimeout(() => sshd.process.kill('SIGKILL'), 3000);
    await sshd.exited;
    clearTimeout(timer);
  }
}
