/**
 * Planning store: the operator's capacity-planning notes (data size, expected speed, speed of
 * one instance) and what they give (instances per tunnel, ETA). These are notes, not plan
 * state, so they live in this browser's localStorage rather than in Ferry's plan.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { DEFAULT_PLANNING_INPUTS, evaluatePlanning, parseStoredInputs, type PlanningInputs } from '../domain/planning.ts';

export const PLANNING_STORAGE_KEY = 'ferry.planning.v1';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled: the notes last for this page load
  }
}

export const usePlanningStore = defineStore('ferry.planning', () => {
  const inputs = ref<PlanningInputs>(parseStoredInputs(storage()?.getItem(PLANNING_STORAGE_KEY) ?? null));
  const outcome = computed(() => evaluatePlanning(inputs.value));
  const instancesPerTunnel = computed(() => (outcome.value.kind === 'ok' ? outcome.value.plan.instancesPerTunnel : null));

  watch(
    inputs,
    (value) => {
      try {
        storage()?.setItem(PLANNING_STORAGE_KEY, JSON.stringify(value));
      } catch {
        // quota or privacy mode: keep working from memory
      }
    },
    { deep: true },
  );

  // Another console tab changed the notes: follow it.
  globalThis.addEventListener?.('storage', (event: StorageEvent) => {
    if (event.key === PLANNING_STORAGE_KEY) inputs.value = parseStoredInputs(event.newValue);
  });

  function reset(): void {
    inputs.value = { ...DEFAULT_PLANNING_INPUTS };
  }

  return { inputs, outcome, instancesPerTunnel, reset };
});
