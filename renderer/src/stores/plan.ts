/**
 * Plan store: tunnels, mount specs, data addresses and task definitions (plan.get, kept
 * current by `plan.changed`), and the plan file (export / import). A cache of controller
 * state: every change is a call, and the plan Ferry answers with replaces the cache. Calls
 * that Ferry refuses throw ConsoleCallError (code, message, issues) for the form to show.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CallRequest, CallResponse, PlanState } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { addressesWithRole, sameMount, type MountKey } from '../domain/plan-edit.ts';
import { useSnapshot } from './snapshot.ts';

const EMPTY: PlanState = { tunnels: [], mounts: [], addresses: [], tasks: [] };

export const usePlanStore = defineStore('ferry.plan', () => {
  const plan = ref<PlanState>(EMPTY);
  const { status, error, apply, load, init: startSnapshot } = useSnapshot('plan.get', {}, (next) => (plan.value = next));

  const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  const tunnels = computed(() => byName(plan.value.tunnels));
  const addresses = computed(() => byName(plan.value.addresses));
  const tasks = computed(() => byName(plan.value.tasks));
  const mounts = computed(() => [...plan.value.mounts].sort((a, b) => a.tunnel.localeCompare(b.tunnel) || a.directory.localeCompare(b.directory)));
  const sourceAddresses = computed(() => byName(addressesWithRole(plan.value, 'source')));
  const destinationAddresses = computed(() => byName(addressesWithRole(plan.value, 'destination')));
  /** The plan once loaded, null before: progress checks give no verdict on a plan not seen yet. */
  const loaded = computed(() => (status.value === 'ready' ? plan.value : null));

  const init = () => startSnapshot((api) => api.on('plan.changed', apply));

  /** Every change answers with the whole plan; it replaces the cache even if the event was missed. */
  async function change<N extends 'tunnels.save' | 'tunnels.remove' | 'mounts.save' | 'mounts.remove' | 'addresses.save' | 'addresses.remove' | 'taskDefs.save' | 'taskDefs.remove'>(
    name: N,
    req: CallRequest<N>,
  ): Promise<PlanState> {
    const next = (await consoleApi().call(name, req)) as PlanState;
    apply(next);
    return next;
  }

  const saveTunnel = (req: CallRequest<'tunnels.save'>) => change('tunnels.save', req);
  const removeTunnel = (name: string) => change('tunnels.remove', { name });
  const saveAddress = (req: CallRequest<'addresses.save'>) => change('addresses.save', req);
  const removeAddress = (name: string) => change('addresses.remove', { name });
  const saveTask = (req: CallRequest<'taskDefs.save'>) => change('taskDefs.save', req);
  const removeTask = (name: string) => change('taskDefs.remove', { name });
  const removeMount = (key: MountKey) => change('mounts.remove', { tunnel: key.tunnel, directory: key.directory });

  /**
   * Saves a mount spec. Mounts are keyed by tunnel + directory, so an edit that moves either
   * saves the new spec first and then removes the old one (never losing the spec on a refusal).
   */
  async function saveMount(mount: CallRequest<'mounts.save'>['mount'], previous?: MountKey): Promise<PlanState> {
    const next = await change('mounts.save', { mount });
    if (previous && !sameMount(previous, { tunnel: mount.tunnel, directory: mount.directory.trim() })) {
      if (next.mounts.some((m) => sameMount(m, previous))) return removeMount(previous);
    }
    return next;
  }

  async function exportYaml(): Promise<string> {
    return (await consoleApi().call('plan.exportYaml', {})).yaml;
  }

  async function importYaml(yaml: string): Promise<CallResponse<'plan.importYaml'>> {
    const result = await consoleApi().call('plan.importYaml', { yaml });
    apply(result.plan);
    return result;
  }

  return {
    plan,
    status,
    error,
    loaded,
    tunnels,
    mounts,
    addresses,
    tasks,
    sourceAddresses,
    destinationAddresses,
    init,
    load,
    saveTunnel,
    removeTunnel,
    saveMount,
    removeMount,
    saveAddress,
    removeAddress,
    saveTask,
    removeTask,
    exportYaml,
    importYaml,
  };
});
