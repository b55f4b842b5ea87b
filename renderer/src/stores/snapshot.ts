/**
 * The snapshot half that the cache stores share: one call loads the whole state, events push it
 * again, and a reconnect loads it once more. Owns the load status, the load error and the
 * revision that lets a pushed snapshot win over a slower answer. Subscribes BEFORE the first
 * load, so no change falls between the two. Never decides what the state means: the store's own
 * `store` function keeps it.
 */
import { ref } from 'vue';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import type { CallName, CallRequest, CallResponse, ConsoleApi } from '../api/types.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export function useSnapshot<N extends CallName>(call: N, req: CallRequest<N>, store: (next: CallResponse<N>) => void) {
  const status = ref<LoadStatus>('idle');
  const error = ref<Problem | null>(null);
  /** Bumped by every snapshot; an answer to a load that started before it is dropped. */
  let revision = 0;
  let started = false;

  /** Takes a whole snapshot (from an event, a call's answer or the store itself): it replaces the state. */
  function apply(next: CallResponse<N>): void {
    revision += 1;
    store(next);
    status.value = 'ready';
    error.value = null;
  }

  /** Loads the snapshot; a failure is kept in `error` (and in `status` until a first snapshot came). */
  async function load(): Promise<void> {
    const seen = revision;
    if (status.value !== 'ready') status.value = 'loading';
    try {
      const next = await consoleApi().call(call, req);
      if (revision === seen) apply(next);
    } catch (err) {
      error.value = describeError(err);
      if (status.value !== 'ready') status.value = 'error';
    }
  }

  /**
   * Starts the store once (later calls return at once): `subscribe` registers its events, then
   * `first` loads (by default the snapshot); after the event stream reconnects, `reconnect` runs
   * (by default `first` again).
   */
  async function init(subscribe: (api: ConsoleApi) => void, first: () => Promise<unknown> = load, reconnect: () => void = () => void first()): Promise<void> {
    if (started) return;
    started = true;
    const api = consoleApi();
    subscribe(api);
    api.onReconnect(reconnect);
    await first();
  }

  return { status, error, apply, load, init };
}
