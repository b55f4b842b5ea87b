/**
 * The guided flow's progress, as the navigation shows it: each step is done, needs attention
 * (with the reason), or still to do. Derived from the plan, the host inventory and the
 * operator's planning notes. Pure; no Vue, no DOM.
 */
import type { Host } from '../../../electron/contract/console.ts';
import type { Step } from '../nav.ts';
import { addressesWithRole, hostCountCheck, onPlannedMount } from './plan-edit.ts';
import type { PlanState } from './plan-types.ts';

export type StepState = 'done' | 'attention' | 'todo';
export type StepReason =
  | 'hosts-fewer-than-planned'
  | 'tunnels-missing-role'
  | 'tunnels-fewer-hosts'
  | 'mounts-missing'
  | 'addresses-missing-role'
  | 'addresses-off-mount'
  /** The Run step (run-step.ts). */
  | 'runs-failed'
  | 'runs-need-action';

export interface StepStatus {
  state: StepState;
  reason?: StepReason;
}

export interface ProgressInputs {
  /** null while not loaded yet: no verdict rather than a wrong one. */
  plan: PlanState | null;
  hosts: readonly Host[] | null;
  /** Instances per tunnel from the Plan step, or null when it is not filled in. */
  plannedInstances: number | null;
}

export function stepStatuses({ plan, hosts, plannedInstances }: ProgressInputs): Partial<Record<Step, StepStatus>> {
  const out: Partial<Record<Step, StepStatus>> = {};
  out.plan = { state: plannedInstances === null ? 'todo' : 'done' };
  if (hosts) {
    if (hosts.length === 0) out.hosts = { state: 'todo' };
    // Both sides need the planned instances: source and destination hosts are distinct machines.
    else if (plannedInstances !== null && hosts.length < 2 * plannedInstances) out.hosts = { state: 'attention', reason: 'hosts-fewer-than-planned' };
    else out.hosts = { state: 'done' };
  }
  if (!plan) return out;

  const roles = new Set(plan.tunnels.map((t) => t.role));
  if (plan.tunnels.length === 0) out.tunnels = { state: 'todo' };
  else if (plan.tunnels.some((t) => hostCountCheck(t, plannedInstances).state === 'fewer')) out.tunnels = { state: 'attention', reason: 'tunnels-fewer-hosts' };
  else if (roles.size < 2) out.tunnels = { state: 'attention', reason: 'tunnels-missing-role' };
  else out.tunnels = { state: 'done' };

  if (plan.mounts.length === 0) out.mounts = { state: 'todo' };
  else if (plan.tunnels.some((t) => !plan.mounts.some((m) => m.tunnel === t.name))) out.mounts = { state: 'attention', reason: 'mounts-missing' };
  else out.mounts = { state: 'done' };

  if (plan.addresses.length === 0) out.addresses = { state: 'todo' };
  else if (addressesWithRole(plan, 'source').length === 0 || addressesWithRole(plan, 'destination').length === 0) {
    out.addresses = { state: 'attention', reason: 'addresses-missing-role' };
  } else if (plan.mounts.length > 0 && plan.addresses.some((a) => !onPlannedMount(plan, a))) {
    out.addresses = { state: 'attention', reason: 'addresses-off-mount' };
  } else out.addresses = { state: 'done' };

  out.tasks = { state: plan.tasks.length > 0 ? 'done' : 'todo' };
  return out;
}
