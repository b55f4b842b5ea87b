/**
 * Importing a plan file into the controller: hosts are merged into the inventory by name
 * (added or updated), then the plan's tunnels, mounts, addresses and tasks replace the current
 * ones. The whole file is validated first, so a bad file changes nothing.
 */
import type { PlanState } from '../contract/plan.ts';
import { parsePlanText } from '../plan/plan-file.ts';
import { ControllerError } from './errors.ts';
import type { HostsService } from './hosts-service.ts';
import type { PlanService } from './plan-service.ts';

export async function importPlanYaml(
  yaml: string,
  hosts: HostsService,
  plan: PlanService,
): Promise<{ hostsAdded: number; hostsUpdated: number; plan: PlanState }> {
  const parsed = parsePlanText(yaml);
  if (!parsed.ok) {
    const first = parsed.problems[0];
    throw new ControllerError(
      'invalid-request',
      `The plan file has ${parsed.problems.length} problem(s); first${first?.line ? ` (line ${first.line})` : ''}: ${first?.message}`,
      parsed.problems.map((p) => ({ path: p.line ? `${p.path} (line ${p.line})` : p.path, message: p.message })),
    );
  }
  const existing = new Map((await hosts.list()).map((h) => [h.name, h]));
  let hostsAdded = 0;
  let hostsUpdated = 0;
  for (const spec of parsed.plan.hosts) {
    const current = existing.get(spec.name);
    if (current) {
      await hosts.update(current.id, spec);
      hostsUpdated++;
    } else {
      await hosts.add(spec);
      hostsAdded++;
    }
  }
  const { tunnels, mounts, addresses, tasks } = parsed.plan;
  return { hostsAdded, hostsUpdated, plan: await plan.replace({ tunnels, mounts, addresses, tasks }) };
}
