/**
 * Checking a data address on its hosts, as the console asks for it: `addresses.check` looks at the
 * address's directory on every host that serves it (its agents, else every host of its tunnel):
 * that it exists and is a directory, which mount it is on (a subdirectory of the tunnel's planned
 * NAS mount is fine), that a source host can read it and a destination host can write it (a temp
 * file is created and removed), and whether every host sees the same storage there. The per-host
 * results are mounts.check's MountHostCheck, so the console shows both the same way; a host that
 * cannot be reached is its HostFailure, never a call error. Pure: schemas only.
 */
import { z } from 'zod';
import { MountCheckResult } from './mount-ops.ts';
import { PlanName } from './plan.ts';

/**
 * mounts.check's result without the mount command, plus the address. In each host's check,
 * `mount` is the mount the directory is on (its own or a parent's) and `matchesSpec` says whether
 * that mount is the export of the tunnel's mount spec at its mount point (null when no mount spec
 * of the tunnel is planned there).
 */
export const AddressCheckResult = MountCheckResult.omit({ command: true }).extend({ address: PlanName });
export type AddressCheckResult = z.infer<typeof AddressCheckResult>;

export const addressCheckCalls = {
  /** Checks a saved data address on the hosts that serve it over SSH (no agent needed). */
  'addresses.check': { req: z.object({ name: PlanName }).strict(), res: AddressCheckResult },
} as const;
