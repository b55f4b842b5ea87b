/**
 * Mounting a NAS export on one host over an open SSH session, for the console's mounts.apply:
 * looks at the directory first and refuses what a mount would break (another mount there, a
 * directory with entries, a file) or what the SSH user cannot see (the mount runs as root), then runs `mkdir -p DIR` and the exact recommended mount command
 * (electron/contract/mount-ops.ts), as root or through `sudo -n`. Never mounts over a mount, never
 * types a sudo password (sudo -n fails instead, and that becomes 'sudo-password-needed'), never
 * unmounts anything. Returns what it did as an outcome code with the command, exit status and
 * stderr tail; throws only for SSH errors (the caller turns them into a HostFailure).
 */
import { mountArgvFor, mountCommandFor, mountPointArgvFor, mountPointCommandFor, sudoersCommandFor, SUDO_PREFIX, type MountOutcome } from '../contract/mount-ops.ts';
import type { MountSpec } from '../contract/plan.ts';
import { runScript } from '../hosts/remote-script.ts';
import type { SshSession } from '../ssh/session.ts';
import { describeMount, inspectDirectories, type HostDirResult } from './live-check.ts';

/** A mount to a NAS that does not answer can take a while before mount.nfs gives up. */
export const MOUNT_TIMEOUT_MS = 150_000;
const STEP_TIMEOUT_MS = 30_000;
const STDERR_TAIL_LINES = 12;

export interface MountStepResult {
  outcome: MountOutcome;
  command: string | null;
  exitCode: number | null;
  stderrTail: string;
  message: string;
}

/** "server:/export" with a trailing slash of the export ignored. */
export function sameSource(mountSource: string, spec: Pick<MountSpec, 'server' | 'export'>): boolean {
  const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  const i = mountSource.lastIndexOf(':/');
  if (i < 0) return false;
  return mountSource.slice(0, i).toLowerCase() === spec.server.toLowerCase() && trim(mountSource.slice(i + 1)) === trim(spec.export);
}

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
}

/** What sudo itself said, when the failure is sudo's and not the command's. */
function sudoFailure(stderr: string, exitCode: number | null): MountOutcome | null {
  if (/sudo: (a )?password is required|sudo: a terminal is required/i.test(stderr)) return 'sudo-password-needed';
  if (exitCode === 127 && /sudo: (command )?not found|sudo: No such file/i.test(stderr)) return 'sudo-missing';
  if (/is not in the sudoers file|is not allowed to (execute|run)|not allowed to run sudo/i.test(stderr)) return 'sudo-refused';
  return null;
}

/** Where mkdir and mount are on the host (as the SSH user's PATH finds them), for a sudoers line. */
async function commandPaths(session: SshSession): Promise<{ mkdir: string; mount: string }> {
  const out = await runScript(session, 'for c in mkdir mount; do command -v "$c" || echo "/usr/bin/$c"; done\n', STEP_TIMEOUT_MS);
  const [mkdir = '', mount = ''] = out.stdout.split('\n').map((l) => l.trim());
  return { mkdir: mkdir.startsWith('/') ? mkdir : '/usr/bin/mkdir', mount: mount.startsWith('/') ? mount : '/usr/bin/mount' };
}

/**
 * What to put in sudoers so `user` may run exactly this spec's mkdir and mount without a password.
 * Never "NOPASSWD: mkdir, mount" with any arguments: whoever may mount anything anywhere is root
 * (a bind mount over /etc). When sudoers cannot name the arguments exactly, the advice says so.
 */
async function sudoersAdvice(session: SshSession, user: string, spec: MountSpec): Promise<string> {
  const paths = await commandPaths(session);
  const mkdir = sudoersCommandFor(paths.mkdir, mountPointArgvFor(spec.directory));
  const mount = sudoersCommandFor(paths.mount, mountArgvFor(spec));
  if (mkdir && mount) {
    return `Allow ${user} exactly these two commands without a password, with this sudoers line (visudo -f /etc/sudoers.d/ferry-mount): "${user} ALL=(root) NOPASSWD: ${mkdir}, ${mount}".`;
  }
  return `sudoers cannot name this spec's arguments exactly (they hold blanks or special characters), and a line allowing mkdir and mount with any arguments ("NOPASSWD: ${paths.mkdir}, ${paths.mount}") gives ${user} full root: only add it if ${user} may be root anyway.`;
}

async function sudoMessage(outcome: MountOutcome, host: string, user: string, advice: () => Promise<string>): Promise<string> {
  switch (outcome) {
    case 'sudo-password-needed':
      return `sudo on ${host} asks ${user} for a password, and Ferry never types one over SSH. ${await advice()} Or run the commands on ${host} yourself, then check again.`;
    case 'sudo-missing':
      return `${host} has no sudo. Log in as root (edit the host's SSH user), or run the command on ${host} yourself as root, then check again.`;
    default:
      return `sudo on ${host} does not let ${user} run this command. ${await advice()} Or log in as root, or run the commands yourself, then check again.`;
  }
}

/**
 * Why Ferry must not mount at the directory, or null. The mount points come first and from
 * /proc/self/mountinfo alone, so another mount is refused even when the SSH user cannot search the
 * directory (the mount runs as root, which can). The checks below it ran as the SSH user: what that
 * user cannot see is refused, never read as missing or empty.
 */
function refuse(seen: HostDirResult, host: string, spec: MountSpec): { outcome: MountOutcome; message: string } | null {
  const dir = spec.directory;
  // Linux stacks mounts: the topmost one at the directory is what it shows.
  const top = seen.mountsAt.at(-1);
  if (top) {
    if (sameSource(top.source, spec)) return { outcome: 'already-mounted', message: `${dir} on ${host} already is a mount of ${spec.server}:${spec.export} (${top.fsType}). Nothing was run.` };
    return { outcome: 'other-mount', message: `${dir} on ${host} already is a mount of something else: ${describeMount(top)}. Ferry never mounts over another mount. If that mount is not needed, unmount it yourself (umount ${dir}); otherwise choose another directory.` };
  }
  const { facts } = seen;
  if (facts.state === 'cannot-inspect' || (facts.state === 'present' && facts.empty === null)) {
    const where = facts.blocked === null || facts.blocked === dir ? dir : `${facts.blocked} (on the way to ${dir})`;
    return {
      outcome: 'cannot-inspect',
      message: `The SSH user on ${host} cannot look into ${where}, so Ferry cannot tell whether ${dir} exists, holds files or is a mount, and does not mount there blind. Give the user search and read permission there, or log in as root, or run the command on ${host} yourself after checking the directory; then mount again.`,
    };
  }
  if (facts.state === 'not-a-directory') return { outcome: 'not-a-directory', message: `${dir} on ${host} is a file, not a directory. Ferry does not replace it: choose another directory in the mount spec, or remove the file yourself.` };
  if (facts.state === 'present' && facts.empty === false) {
    return { outcome: 'directory-not-empty', message: `${dir} on ${host} is not empty and is not a mount: a mount there would hide its files. Move them away or choose an empty directory, then mount again.` };
  }
  return null;
}

async function remoteUid(session: SshSession): Promise<number | null> {
  const out = await runScript(session, 'id -u\n', STEP_TIMEOUT_MS);
  const uid = Number(out.stdout.trim());
  return out.code === 0 && Number.isInteger(uid) ? uid : null;
}

/**
 * Mounts `spec` at its directory on the host behind `session`. `user` is the SSH user (for the
 * messages). With `useSudo` and a non-root user, the commands run as `sudo -n …`; as root they
 * run directly either way.
 */
export async function mountOnHost(session: SshSession, host: string, user: string, spec: MountSpec, options: { useSudo: boolean }): Promise<MountStepResult> {
  const dir = spec.directory;
  const mountCommand = mountCommandFor(spec);
  const nothing = (outcome: MountOutcome, message: string): MountStepResult => ({ outcome, command: null, exitCode: null, stderrTail: '', message });

  const [seen] = await inspectDirectories(session, host, [{ directory: dir, role: 'source', tunnel: spec.tunnel }]);
  if (!seen) throw new Error(`The directory check on ${host} returned nothing.`);
  const refusal = refuse(seen, host, spec);
  if (refusal) return nothing(refusal.outcome, refusal.message);

  const uid = await remoteUid(session);
  const viaSudo = uid !== 0 && options.useSudo;
  if (uid !== 0 && !options.useSudo) {
    return nothing('root-needed', `${user} on ${host} is not root, and mounting needs root. Tick "use sudo" (with passwordless sudo for this mkdir and mount), log in as root, or run the command yourself.`);
  }
  const prefix = viaSudo ? SUDO_PREFIX : '';
  const steps = [prefix + mountPointCommandFor(dir), prefix + mountCommand];
  const ran: string[] = [];
  for (const [i, command] of steps.entries()) {
    ran.push(command);
    // LC_ALL=C: sudo's and mount's messages are matched in English.
    const out = await runScript(session, `export LC_ALL=C\n${command}\n`, i === 0 ? STEP_TIMEOUT_MS : MOUNT_TIMEOUT_MS);
    if (out.code === 0) continue;
    const result = { command: ran.join(' && '), exitCode: out.code, stderrTail: tail(out.stderr) };
    const sudo = viaSudo ? sudoFailure(out.stderr, out.code) : null;
    if (sudo) return { outcome: sudo, ...result, message: await sudoMessage(sudo, host, user, () => sudoersAdvice(session, user, spec)) };
    // mount's first line says what went wrong ("mount: /mnt/x: unknown filesystem type 'nfs'."); the sentence goes on after it.
    const said = (result.stderrTail.split('\n').find((l) => l.trim()) ?? `exit ${out.code}`).trim().replace(/[.\s]+$/, '');
    if (i === 0) return { outcome: 'mkdir-failed', ...result, message: `Ferry could not create ${dir} on ${host}: ${said}. Check the parent directory's permissions, then mount again.` };
    return {
      outcome: 'mount-failed',
      ...result,
      message: `The mount command failed on ${host} (exit ${out.code ?? 'unknown'}): ${said}. Check that the host has the NFS client (mount.nfs, package nfs-common or nfs-utils), that ${spec.server} is the NAS's mount address and ${spec.export} its export, and that the NAS allows this host; then mount again.`,
    };
  }
  return { outcome: 'mounted', command: ran.join(' && '), exitCode: 0, stderrTail: '', message: `Mounted ${spec.server}:${spec.export} at ${dir} on ${host}${viaSudo ? ' (through sudo)' : ''}.` };
}
