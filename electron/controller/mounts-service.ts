/**
 * The console's mounts on hosts (mounts.check, mounts.apply): finds the saved mount spec and its
 * tunnel, runs the shared directory checks of electron/remote/live-check.ts (the same code as
 * `ferry plan check --hosts`) or the mount of electron/remote/mount-on-host.ts on each host through
 * HostSessions (its connection, one operation at a time per host), and assembles per-host results.
 * A host that cannot be reached is that host's HostFailure, never a call error; only a wrong request
 * (no such mount spec, a host not in the tunnel) is. Never mounts without the request's confirm,
 * and only on the hosts asked for. `checkDirectoryOnHosts` is the part addresses.check
 * (address-check.ts) shares.
 */
import { posix } from 'node:path';
import type { Host, MountApplyHost, MountApplyResult, MountCheckResult, MountFinding, MountHostCheck, MountSpec, PlanState, SeenMount, Tunnel } from '../contract/console.ts';
import { mountCommandFor } from '../contract/mount-ops.ts';
import { directoryFindings, inspectDirectories, isMountPoint, sameStorageFindings, type DirTarget, type HostDirResult, type LiveFinding } from '../remote/live-check.ts';
import { mountOnHost, sameSource } from '../remote/mount-on-host.ts';
import { ControllerError } from './errors.ts';
import type { HostSessions } from './host-sessions.ts';

export interface MountsServiceOptions {
  sessions: HostSessions;
  plan: () => Promise<PlanState>;
  hosts: () => Promise<Host[]>;
}

interface Target {
  spec: MountSpec;
  tunnel: Tunnel;
  /** The tunnel's hosts found in the inventory, in the tunnel's order. */
  hosts: Host[];
  /** Tunnel host names with no inventory host. */
  missing: string[];
}

export function finding(f: Pick<LiveFinding, 'severity' | 'code' | 'message'>): MountFinding {
  return { severity: f.severity, code: f.code, message: f.message };
}

export function seenMount(r: HostDirResult): SeenMount | null {
  if (!r.mount) return null;
  const { source, fsType, mountPoint, mountOptions, superOptions } = r.mount;
  return { source, fsType, mountPoint, mountOptions, superOptions };
}

/** The directory is a mount, but of another export than the spec says. */
function specFindings(r: HostDirResult, spec: MountSpec): MountFinding[] {
  if (!r.mount || !isMountPoint(r) || sameSource(r.mount.source, spec)) return [];
  return [
    {
      severity: 'error',
      code: 'spec-mismatch',
      message: `${spec.directory} on ${r.host} is a mount of ${r.mount.source} (${r.mount.fsType}), not of ${spec.server}:${spec.export} as the mount spec says. Unmount it and mount the right export there, or correct the mount spec.`,
    },
  ];
}

function hostCheck(host: Host, r: HostDirResult, spec: MountSpec): MountHostCheck {
  const findings = [...directoryFindings(r).map(finding), ...specFindings(r, spec)];
  return hostCheckResult(host, r, findings, r.mount && isMountPoint(r) ? sameSource(r.mount.source, spec) : null);
}

/** One host's answer to a directory check (mounts.check, addresses.check): what was seen and the findings. */
export function hostCheckResult(host: Host, r: HostDirResult, findings: MountFinding[], matchesSpec: boolean | null): MountHostCheck {
  const present = r.facts.state === 'present';
  return {
    ok: true,
    hostId: host.id,
    hostName: host.name,
    verdict: findings.length === 0 ? 'ok' : 'findings',
    state: r.facts.state,
    isMount: isMountPoint(r),
    mount: seenMount(r),
    matchesSpec,
    readable: present ? r.facts.readable : null,
    writable: present && r.check.role === 'destination' ? r.facts.writeError === null : null,
    findings,
  };
}

/** A host an address or a tunnel names that the inventory does not have. */
export function notInInventory(name: string, who: string, fix: string): MountFinding {
  return { severity: 'error', code: 'host-not-in-inventory', message: `${who} host "${name}", which is not in the host inventory. Add it on the Hosts step, or ${fix}.` };
}

/** Where a directory lies in its file system: the mount's root plus the path below the mount point. */
function placeInStorage(r: HostDirResult): string | null {
  if (r.facts.state !== 'present' || !r.mount) return null;
  const mountPoint = r.mount.mountPoint === '/' ? '' : r.mount.mountPoint;
  return posix.join(r.mount.root, r.facts.real.slice(mountPoint.length) || '/');
}

/**
 * Hosts that see the same storage but another directory of it at the same path (a symbolic link or
 * a bind that differs per host). Only asked when the storage is the same: otherwise
 * sameStorageFindings already said so.
 */
function sameDirectoryFindings(results: HostDirResult[]): MountFinding[] {
  const placed = results.filter((r) => placeInStorage(r) !== null);
  if (new Set(placed.map(placeInStorage)).size <= 1) return [];
  const first = placed[0] as HostDirResult;
  const seen = placed.map((r) => `${r.host}: ${r.facts.real}`).join('; ');
  return [
    {
      severity: 'error',
      code: 'different-directories',
      message: `The hosts see the same storage but different directories of it at ${first.check.directory} (${seen}), through symbolic links or binds that differ per host. Every host must see the same directory there: make the links the same, or name the real directory instead.`,
    },
  ];
}

/** One directory on several hosts: each host's check, and whether they all see the same storage. */
export interface HostsDirectoryCheck {
  hosts: MountHostCheck[];
  sameMount: boolean | null;
  /** Across the hosts: different storage at the directory. */
  findings: MountFinding[];
  /** Every host was reached, and no host nor the comparison has an error. */
  ok: boolean;
}

/**
 * Inspects one directory on each host, in parallel, through its HostSessions connection (an
 * unreachable host is its HostFailure), turns each host's result into a MountHostCheck with
 * `toCheck`, and compares the storage and the directory of it the hosts see there. Shared by mounts.check and
 * addresses.check.
 */
export async function checkDirectoryOnHosts(sessions: HostSessions, targets: Host[], dir: DirTarget, toCheck: (host: Host, r: HostDirResult) => MountHostCheck): Promise<HostsDirectoryCheck> {
  const inspected = new Map<string, HostDirResult>();
  const hosts = await Promise.all(
    targets.map(async (host): Promise<MountHostCheck> => {
      const result = await sessions.run(host.id, 'checking', async ({ session }) => ({ dir: (await inspectDirectories(session, host.name, [dir]))[0] }));
      if (!result.ok) return { ok: false, hostId: host.id, hostName: host.name, failure: result.failure };
      if (!result.dir) throw new Error(`The directory check on ${host.name} returned nothing.`);
      inspected.set(host.id, result.dir);
      return toCheck(host, result.dir);
    }),
  );
  const compared = targets.flatMap((h) => inspected.get(h.id) ?? []);
  const storage = sameStorageFindings(compared).map(finding);
  const different = storage.length > 0 ? storage : sameDirectoryFindings(compared);
  const comparable = compared.filter((r) => r.facts.state === 'present' && r.mount).length;
  const ok = hosts.every((h) => h.ok && !h.findings.some((f) => f.severity === 'error')) && different.length === 0;
  return { hosts, sameMount: comparable < 2 ? null : different.length === 0, findings: different, ok };
}

export class MountsService {
  constructor(private readonly options: MountsServiceOptions) {}

  private async target(tunnelName: string, directory: string): Promise<Target> {
    const [state, inventory] = await Promise.all([this.options.plan(), this.options.hosts()]);
    const spec = state.mounts.find((m) => m.tunnel === tunnelName && m.directory === directory);
    if (!spec) throw new ControllerError('not-found', `There is no mount spec for ${directory} on tunnel "${tunnelName}". Save it on the Mounts step first, or reload the list.`);
    const tunnel = state.tunnels.find((t) => t.name === tunnelName);
    if (!tunnel) throw new ControllerError('not-found', `There is no tunnel "${tunnelName}". Create it on the Tunnels step, or correct the mount spec.`);
    const byName = new Map(inventory.map((h) => [h.name, h]));
    const hosts = tunnel.hosts.flatMap((name) => byName.get(name) ?? []);
    return { spec, tunnel, hosts, missing: tunnel.hosts.filter((name) => !byName.has(name)) };
  }

  /** mounts.check: the spec's directory on every host of its tunnel. */
  async check(tunnelName: string, directory: string): Promise<MountCheckResult> {
    const t = await this.target(tunnelName, directory);
    const command = mountCommandFor(t.spec);
    const dir: DirTarget = { directory, role: t.tunnel.role, tunnel: t.tunnel.name, mountHint: command };
    const checked = await checkDirectoryOnHosts(this.options.sessions, t.hosts, dir, (host, r) => hostCheck(host, r, t.spec));
    const findings = [...checked.findings, ...t.missing.map((name) => notInInventory(name, `Tunnel "${t.tunnel.name}" lists`, 'remove it from the tunnel'))];
    return { tunnel: t.tunnel.name, directory, role: t.tunnel.role, command, ...checked, findings, ok: checked.ok && t.missing.length === 0, checkedAt: new Date().toISOString() };
  }

  /** mounts.apply: mkdir and mount on the chosen hosts of the tunnel, then the check of the whole tunnel. */
  async apply(req: { tunnel: string; directory: string; hostIds: string[]; useSudo: boolean; confirm: true }): Promise<MountApplyResult> {
    const t = await this.target(req.tunnel, req.directory);
    const chosen = [...new Set(req.hostIds)].map((id) => {
      const host = t.hosts.find((h) => h.id === id);
      if (!host) throw new ControllerError('invalid-request', `Host ${id} is not a host of tunnel "${t.tunnel.name}" (or no longer in the inventory). Reload the page and choose among the tunnel's hosts.`);
      return host;
    });
    const hosts = await Promise.all(
      chosen.map(async (host): Promise<MountApplyHost> => {
        const result = await this.options.sessions.run(host.id, 'mounting', async ({ host: current, session }) => ({
          step: await mountOnHost(session, current.name, current.user, t.spec, { useSudo: req.useSudo }),
        }));
        if (!result.ok) return { ok: false, hostId: host.id, hostName: host.name, failure: result.failure };
        return { ok: true, hostId: host.id, hostName: host.name, ...result.step };
      }),
    );
    return { tunnel: t.tunnel.name, directory: req.directory, command: mountCommandFor(t.spec), hosts, check: await this.check(req.tunnel, req.directory) };
  }
}
