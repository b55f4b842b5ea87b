/**
 * Hosts store: the host inventory (hosts.list, kept current by `hosts.changed`) and the facts
 * of "This computer" (hosts.localFacts, probed on demand). A cache of controller state:
 * every change goes through a call, and the snapshot Ferry sends back replaces the cache.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CallRequest, Host, HostFacts } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import { useSnapshot, type LoadStatus } from './snapshot.ts';

export const useHostsStore = defineStore('ferry.hosts', () => {
  const hosts = ref<Host[]>([]);
  const { status: hostsStatus, error: hostsError, apply: applyHosts, load: loadHosts, init: startSnapshot } = useSnapshot('hosts.list', {}, (next) => (hosts.value = next));

  const facts = ref<HostFacts | null>(null);
  const factsStatus = ref<LoadStatus>('idle');
  const factsError = ref<Problem | null>(null);

  const sortedHosts = computed(() => [...hosts.value].sort((a, b) => a.name.localeCompare(b.name)));

  async function refreshFacts(): Promise<void> {
    factsStatus.value = 'loading';
    try {
      facts.value = await consoleApi().call('hosts.localFacts', {});
      factsStatus.value = 'ready';
      factsError.value = null;
    } catch (err) {
      factsError.value = describeError(err);
      factsStatus.value = 'error';
    }
  }

  /** The inventory and this computer's facts load together, first and after each reconnect. */
  const init = () =>
    startSnapshot(
      (api) => api.on('hosts.changed', applyHosts),
      () => Promise.all([loadHosts(), refreshFacts()]),
    );

  /** Adds a host; throws ConsoleCallError (with field issues) when Ferry refuses it. */
  async function add(spec: CallRequest<'hosts.add'>): Promise<Host> {
    const host = await consoleApi().call('hosts.add', spec);
    // The hosts.changed event normally arrives first; this keeps the list right if it was missed.
    if (!hosts.value.some((h) => h.id === host.id)) applyHosts([...hosts.value, host]);
    return host;
  }

  /** Replaces a host's definition; throws ConsoleCallError (with field issues) when Ferry refuses it. */
  async function update(id: string, spec: CallRequest<'hosts.update'>['spec']): Promise<Host> {
    const host = await consoleApi().call('hosts.update', { id, spec });
    if (hosts.value.some((h) => h.id === id && h.updatedAt !== host.updatedAt)) applyHosts(hosts.value.map((h) => (h.id === id ? host : h)));
    return host;
  }

  async function remove(id: string): Promise<void> {
    try {
      await consoleApi().call('hosts.remove', { id });
      if (hosts.value.some((h) => h.id === id)) applyHosts(hosts.value.filter((h) => h.id !== id));
      hostsError.value = null;
    } catch (err) {
      hostsError.value = describeError(err);
      await loadHosts();
    }
  }

  return { hosts, sortedHosts, hostsStatus, hostsError, facts, factsStatus, factsError, init, loadHosts, refreshFacts, add, update, remove };
});
