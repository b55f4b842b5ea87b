/**
 * The console's addresses.check: finds the saved data address, the hosts that serve it (its
 * agents, else every host of its tunnel) and the tunnel's mount specs, and runs mounts.check's
 * shared directory check (checkDirectoryOnHosts, with the live-check.ts findings) on those hosts.
 * What differs from a mount spec's check is only what "on the NAS" means here: a directory below a
 * planned mount of the tunnel is fine (the result says which mount, and whether it is the spec's
 * export), so the not-a-mount / inside-mount findings do not apply to it. Reads only, apart from
 * the destination temp file the shared check creates and removes; a host that cannot be reached is
 * that host's HostFailure, only a wrong request (no such address or tunnel) is a call error.
 */
import type { AddressCheckResult, Host, MountFinding, MountHostCheck, MountSpec } from '../contract/console.ts';
import { mountCommandFor } from '../contract/mount-ops.ts';
import { describeMount, directoryFindings, isMountPoint, type DirTarget, type HostDirResult } from '../remote/live-check.ts';
import { sameSource } from '../remote/mount-on-host.ts';
import { ControllerError } from './errors.ts';
import { checkDirectoryOnHosts, finding, hostCheckResult, notInInventory, type MountsServiceOptions } from './mounts-service.ts';

/** Findings a directory below a planned mount does not have: it is on the NAS, as planned. */
const BELOW_PLANNED_MOUNT = new Set(['not-a-mount', 'inside-mount']);

function isBelow(directory: string, parent: string): boolean {
  return parent === '/' || directory === parent || directory.startsWith(`${parent}/`);
}

/** The tunnel's mount spec deepest above (or at) the directory: its command is the hint for a missing one. */
function specAbove(specs: MountSpec[], directory: string): MountSpec | undefined {
  return specs.filter((s) => isBelow(directory, s.directory)).sort((a, b) => b.directory.length - a.directory.length)[0];
}

function addressHostCheck(host: Host, r: HostDirResult, specs: MountSpec[]): MountHostCheck {
  const dir = r.check.directory;
  const planned = r.mount ? specs.find((s) => s.directory === r.mount?.mountPoint) : undefined;
  const below = planned !== undefined && !isMountPoint(r);
  const findings: MountFinding[] = directoryFindings(r)
    .filter((f) => !(below && BELOW_PLANNED_MOUNT.has(f.code)))
    .map(finding);
  const matchesSpec = planned && r.mount ? sameSource(r.mount.source, planned) : null;
  if (planned && r.mount && matchesSpec === false) {
    findings.push({
      severity: 'error',
      code: 'spec-mismatch',
      message: `${dir} on ${host.name} is on ${describeMount(r.mount)}, but the mount spec of tunnel "${planned.tunnel}" says ${planned.server}:${planned.export} is mounted at ${planned.directory}. Mount the right export there (the Mounts step checks and mounts it), or correct the mount spec.`,
    });
  }
  return hostCheckResult(host, r, findings, matchesSpec ?? null);
}

export class AddressCheckService {
  constructor(private readonly options: MountsServiceOptions) {}

  /** addresses.check: the address's directory on the hosts that serve it. */
  async check(name: string): Promise<AddressCheckResult> {
    const [state, inventory] = await Promise.all([this.options.plan(), this.options.hosts()]);
    const address = state.addresses.find((a) => a.name === name);
    if (!address) throw new ControllerError('not-found', `There is no data address "${name}". Save it on the Data addresses step first, or reload the list.`);
    const tunnel = state.tunnels.find((t) => t.name === address.tunnel);
    if (!tunnel) throw new ControllerError('not-found', `Data address "${name}" is on tunnel "${address.tunnel}", which does not exist. Create the tunnel on the Tunnels step, or edit the address.`);
    const byName = new Map(inventory.map((h) => [h.name, h]));
    const names = address.agents ?? tunnel.hosts;
    const hosts = names.flatMap((n) => byName.get(n) ?? []);
    const missing = names.filter((n) => !byName.has(n)).map((n) => notInInventory(n, `Data address "${name}" is served by`, address.agents ? 'edit the address\'s agents' : 'remove it from the tunnel'));
    const specs = state.mounts.filter((m) => m.tunnel === tunnel.name);
    const hint = specAbove(specs, address.directory);
    const dir: DirTarget = { directory: address.directory, role: tunnel.role, tunnel: tunnel.name, address: name, ...(hint ? { mountHint: mountCommandFor(hint) } : {}) };
    const checked = await checkDirectoryOnHosts(this.options.sessions, hosts, dir, (host, r) => addressHostCheck(host, r, specs));
    return {
      address: name,
      tunnel: tunnel.name,
      directory: address.directory,
      role: tunnel.role,
      ...checked,
      findings: [...checked.findings, ...missing],
      ok: checked.ok && missing.length === 0,
      checkedAt: new Date().toISOString(),
    };
  }
}
