/**
 * Data address checks store: the last addresses.check this console asked for, per address name,
 * which address has a check in flight, and a refused call per address. A cache of what Ferry
 * answered: the hosts hold the truth, so nothing here is kept across a reload. Only reads hosts
 * (through addresses.check); never changes the plan.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AddressCheckResult } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';

export const useAddressChecksStore = defineStore('ferry.addressChecks', () => {
  const checks = ref<Record<string, AddressCheckResult>>({});
  const pending = ref<Record<string, boolean>>({});
  const problems = ref<Record<string, Problem | null>>({});

  /** Checks the address on the hosts that serve it; a second call while one runs is ignored (null). */
  async function check(name: string): Promise<AddressCheckResult | null> {
    if (pending.value[name]) return null;
    pending.value = { ...pending.value, [name]: true };
    problems.value = { ...problems.value, [name]: null };
    try {
      const result = await consoleApi().call('addresses.check', { name });
      checks.value = { ...checks.value, [name]: result };
      return result;
    } catch (err) {
      problems.value = { ...problems.value, [name]: describeError(err) };
      return null;
    } finally {
      pending.value = { ...pending.value, [name]: false };
    }
  }

  /** Forgets what was shown for an address (after it was edited, renamed or removed). */
  function forget(name: string): void {
    const drop = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).filter(([x]) => x !== name));
    checks.value = drop(checks.value);
    pending.value = drop(pending.value);
    problems.value = drop(problems.value);
  }

  return { checks, pending, problems, check, forget };
});
