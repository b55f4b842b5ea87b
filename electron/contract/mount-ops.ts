/**
 * Mounts on the hosts of a tunnel, as the console sees them: `mounts.check` (what every host of
 * the tunnel has at a mount spec's directory, and whether they all see the same NAS export) and
 * `mounts.apply` (create the directory and run the recommended mount command on chosen hosts,
 * after the operator confirmed, then check again). Outcomes the operator acts on are values with
 * stable codes, never call errors; a host that cannot be reached is a HostFailure. Also the one
 * function that builds the mount command, so the command the console shows is the command Ferry
 * runs. Pure: schemas and string building only.
 */
import { z } from 'zod';
import { RECOMMENDED_NFS_OPTIONS } from '../../agent/protocol/nfs.ts';
import { HostFailure } from './host-ops.ts';
import { MountDirectory, PlanName, type MountSpec } from './plan.ts';

/** Words a shell takes as they are (no blanks, quotes, globs or expansions). */
const PLAIN_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * Quotes one word for a POSIX shell, leaving plain words (addresses, paths) as they are. "[" and "]"
 * are not plain: unquoted they are a glob (/mnt/nas[1] could become /mnt/nas1), so IPv6 servers
 * ([fd00::5]:/export) are quoted.
 */
function shellWord(value: string): string {
  if (PLAIN_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The arguments of the mount command, one per word (what `mount` receives). */
export function mountArgvFor(spec: Pick<MountSpec, 'server' | 'export' | 'directory'>): string[] {
  return ['mount', '-t', 'nfs', '-o', RECOMMENDED_NFS_OPTIONS.join(','), `${spec.server}:${spec.export}`, spec.directory];
}

/** The arguments of `mkdir -p DIR`, run before the mount command. */
export function mountPointArgvFor(directory: string): string[] {
  return ['mkdir', '-p', directory];
}

/**
 * The exact mount command for a mount spec: shown by the console, copied by the operator, and run
 * by `mounts.apply`. Values with shell metacharacters are quoted, so what is shown is safe to run.
 */
export function mountCommandFor(spec: Pick<MountSpec, 'server' | 'export' | 'directory'>): string {
  return mountArgvFor(spec).map(shellWord).join(' ');
}

/** `mkdir -p DIR`, run before the mount command. */
export function mountPointCommandFor(directory: string): string {
  return mountPointArgvFor(directory).map(shellWord).join(' ');
}

/**
 * A sudoers Cmnd for exactly these arguments ("/usr/bin/mount -t nfs -o vers\=3\,hard …"), or null
 * when sudoers cannot say them exactly: its arguments are split on blanks and matched as globs, so
 * only plain words are given, with ",", ":" and "=" escaped as sudoers(5) requires.
 */
export function sudoersCommandFor(commandPath: string, argv: readonly string[]): string | null {
  const args = argv.slice(1);
  if (!PLAIN_WORD.test(commandPath) || !args.every((a) => PLAIN_WORD.test(a))) return null;
  return [commandPath, ...args.map((a) => a.replace(/[,:=]/g, (c) => `\\${c}`))].join(' ');
}

/** Privileged commands run through sudo when asked: `-n` never prompts for a password over SSH. */
export const SUDO_PREFIX = 'sudo -n ';

export const MountFinding = z.object({
  severity: z.enum(['error', 'warning']),
  /**
   * Stable: cannot-inspect, dir-missing, not-a-directory, not-a-mount, inside-mount, not-nfs, spec-mismatch,
   * unreadable, read-only, not-writable, an NFS MountWarning code; for the tunnel:
   * different-mounts, different-directories (same storage, another directory of it), host-not-in-inventory.
   */
  code: z.string(),
  /** What was found and what to do, in English. */
  message: z.string(),
});
export type MountFinding = z.infer<typeof MountFinding>;

/** The mount a directory is on, as /proc/self/mountinfo of the host shows it. */
export const SeenMount = z.object({
  /** "server:/export" for NFS. */
  source: z.string(),
  fsType: z.string(),
  mountPoint: z.string(),
  /** Per-mount options (rw, relatime, …). */
  mountOptions: z.array(z.string()),
  /** File-system options; for NFS the effective ones (vers, hard, rsize, …). */
  superOptions: z.array(z.string()),
});
export type SeenMount = z.infer<typeof SeenMount>;

const hostRef = { hostId: z.string(), hostName: z.string() };

/** One host of the tunnel: what it has at the directory, or why it could not be asked. */
export const MountHostCheck = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    ...hostRef,
    /** 'ok' when there is no finding at all; 'findings' otherwise (see `findings` for their severity). */
    verdict: z.enum(['ok', 'findings']),
    /** 'cannot-inspect': the SSH user cannot search the directory or an ancestor (finding cannot-inspect). */
    state: z.enum(['missing', 'not-a-directory', 'present', 'cannot-inspect']),
    /** The directory is itself a mount point. */
    isMount: z.boolean(),
    /** The mount the directory is on (its own or a parent's); null when it is missing. */
    mount: SeenMount.nullable(),
    /** The directory's mount is the spec's server:/export; null when it is not a mount. */
    matchesSpec: z.boolean().nullable(),
    readable: z.boolean().nullable(),
    /** Destination tunnels only (a temp file is created and removed); null otherwise. */
    writable: z.boolean().nullable(),
    findings: z.array(MountFinding),
  }),
  z.object({ ok: z.literal(false), ...hostRef, failure: HostFailure }),
]);
export type MountHostCheck = z.infer<typeof MountHostCheck>;

export const MountCheckResult = z.object({
  tunnel: z.string(),
  directory: z.string(),
  role: z.enum(['source', 'destination']),
  /** The command `mounts.apply` runs (without sudo). */
  command: z.string(),
  hosts: z.array(MountHostCheck),
  /**
   * Whether every host that has something at the directory sees the same storage there (for NFS:
   * the same server:/export); null when fewer than two hosts could be compared.
   */
  sameMount: z.boolean().nullable(),
  /** Findings about the tunnel as a whole (different mounts between hosts, hosts missing from the inventory). */
  findings: z.array(MountFinding),
  /** True when every host was reached and no host nor the tunnel has an error (warnings allowed). */
  ok: z.boolean(),
  checkedAt: z.string(),
});
export type MountCheckResult = z.infer<typeof MountCheckResult>;

/** What `mounts.apply` did on one host. Only 'mounted' changed anything. */
export const MountOutcome = z.enum([
  'mounted',
  /** The directory already is a mount of the spec's server:/export: nothing was run. */
  'already-mounted',
  /** The directory is a mount of something else: refused, never mounted over. */
  'other-mount',
  /** The directory has entries and is not a mount: refused (a mount would hide them). */
  'directory-not-empty',
  /**
   * The SSH user cannot search the directory or its nearest existing ancestor, so Ferry cannot tell
   * what a mount there would cover: refused.
   */
  'cannot-inspect',
  'not-a-directory',
  /** The SSH user is not root and sudo was not asked for. */
  'root-needed',
  /** sudo wants a password; Ferry never types one over the channel. */
  'sudo-password-needed',
  'sudo-missing',
  /** sudo refused the command (not in sudoers for it). */
  'sudo-refused',
  'mkdir-failed',
  'mount-failed',
]);
export type MountOutcome = z.infer<typeof MountOutcome>;

export const MountApplyHost = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    ...hostRef,
    outcome: MountOutcome,
    /** The commands run, joined with " && " as a shell would; null when nothing was run. */
    command: z.string().nullable(),
    /** Exit status of the last command run; null when nothing was run. */
    exitCode: z.number().int().nullable(),
    /** The last lines of its stderr. */
    stderrTail: z.string(),
    /** What happened and what to do, in English. */
    message: z.string(),
  }),
  z.object({ ok: z.literal(false), ...hostRef, failure: HostFailure }),
]);
export type MountApplyHost = z.infer<typeof MountApplyHost>;

export const MountApplyResult = z.object({
  tunnel: z.string(),
  directory: z.string(),
  command: z.string(),
  hosts: z.array(MountApplyHost),
  /** The check of the whole tunnel, run after the mounts. */
  check: MountCheckResult,
});
export type MountApplyResult = z.infer<typeof MountApplyResult>;

const MountKey = { tunnel: PlanName, directory: MountDirectory };

export const mountOpCalls = {
  /** Checks a mount spec's directory on every host of its tunnel over SSH (no agent needed). */
  'mounts.check': { req: z.object(MountKey).strict(), res: MountCheckResult },
  /**
   * Creates the directory and runs the mount command on the chosen hosts of the tunnel (as root, or
   * through `sudo -n`), refusing a directory that is another mount or not empty, then checks again.
   */
  'mounts.apply': {
    req: z
      .object({
        ...MountKey,
        hostIds: z.array(z.string().min(1)).min(1, 'Choose at least one host to mount on.').max(500),
        useSudo: z.boolean(),
        confirm: z.literal(true, 'Confirm the mount: Ferry runs commands as root on these hosts.'),
      })
      .strict(),
    res: MountApplyResult,
  },
} as const;
