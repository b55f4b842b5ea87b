/**
 * The migration plan minus hosts (which the host inventory owns): tunnels, mounts, data
 * addresses and task definitions, persisted in `<data-dir>/plan.json`. Every change is checked
 * against the whole plan (references, roles, unique names) before it is saved, so the stored
 * plan is always consistent; a change that would break it is refused with the reason.
 */
import path from 'node:path';
import { z } from 'zod';
import { checkPlanReferences, PlanState, PLAN_VERSION, type MountSpec, type Plan } from '../contract/plan.ts';
import type { Host } from '../contract/console.ts';
import { ControllerError } from './errors.ts';
import { JsonStore } from './store/json-store.ts';

const PlanFile = PlanState.extend({ version: z.literal(1) });

type Section = 'tunnels' | 'addresses' | 'tasks';

export class PlanService {
  private readonly store: JsonStore<typeof PlanFile>;

  constructor(
    dataDir: string,
    private readonly hosts: () => Promise<Host[]>,
    private readonly onChange: (state: PlanState) => void,
  ) {
    this.store = new JsonStore(path.join(dataDir, 'plan.json'), PlanFile, () => ({ version: 1 as const, tunnels: [], mounts: [], addresses: [], tasks: [] }));
  }

  async get(): Promise<PlanState> {
    const { tunnels, mounts, addresses, tasks } = await this.store.load();
    return { tunnels, mounts, addresses, tasks };
  }

  /** The whole plan, hosts included, as a plan file holds it. */
  async fullPlan(): Promise<Plan> {
    const [state, hosts] = await Promise.all([this.get(), this.hosts()]);
    return {
      version: PLAN_VERSION,
      hosts: hosts.map(toPlanHost),
      ...state,
    };
  }

  /** Adds or replaces (by `previousName`, else by name) one item of a section. */
  async save<S extends Section>(section: S, item: PlanState[S][number], previousName?: string): Promise<PlanState> {
    const key = previousName ?? item.name;
    return this.change((state) => {
      const list = state[section] as Array<{ name: string }>;
      const index = list.findIndex((x) => x.name === key);
      const next = index >= 0 ? list.map((x, i) => (i === index ? item : x)) : [...list, item];
      return { ...state, [section]: next };
    });
  }

  async remove(section: Section, name: string): Promise<PlanState> {
    return this.change((state) => {
      const list = state[section] as Array<{ name: string }>;
      if (!list.some((x) => x.name === name)) throw new ControllerError('not-found', `There is no ${section.slice(0, -1)} named "${name}".`);
      return { ...state, [section]: list.filter((x) => x.name !== name) };
    });
  }

  /** Mounts are keyed by tunnel + directory. */
  async saveMount(mount: MountSpec): Promise<PlanState> {
    return this.change((state) => ({
      ...state,
      mounts: [...state.mounts.filter((m) => !(m.tunnel === mount.tunnel && m.directory === mount.directory)), mount],
    }));
  }

  async removeMount(tunnel: string, directory: string): Promise<PlanState> {
    return this.change((state) => ({ ...state, mounts: state.mounts.filter((m) => !(m.tunnel === tunnel && m.directory === directory)) }));
  }

  /** Replaces the plan's sections (import); hosts are handled by the caller. */
  async replace(state: PlanState): Promise<PlanState> {
    return this.change(() => state);
  }

  private async change(apply: (state: PlanState) => PlanState): Promise<PlanState> {
    const hosts = await this.hosts();
    const file = await this.store.update((current) => {
      const next = { ...apply(current), version: 1 as const };
      const problems = checkPlanReferences({ ...next, version: PLAN_VERSION, hosts: hosts.map(toPlanHost) });
      if (problems.length > 0) {
        throw new ControllerError(
          'conflict',
          `This change would leave the plan inconsistent: ${problems[0]?.message}`,
          problems.map((p) => ({ path: p.path, message: p.message })),
        );
      }
      return next;
    });
    const state = { tunnels: file.tunnels, mounts: file.mounts, addresses: file.addresses, tasks: file.tasks };
    this.onChange(state);
    return state;
  }
}

function toPlanHost(h: Host): Plan['hosts'][number] {
  return { name: h.name, address: h.address, port: h.port, user: h.user, auth: h.auth, jumpHost: h.jumpHost, dataAddress: h.dataAddress };
}
