/**
 * Mount operations store: the last check (mounts.check) and the last mount run (mounts.apply) this
 * console asked for, per mount spec, and which spec has a call in flight. A cache of what Ferry
 * answered: the hosts hold the truth, so nothing here is kept across a reload. Never calls
 * mounts.apply without the confirmation the dialog collected.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MountApplyResult, MountCheckResult } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import type { MountKey } from '../domain/plan-edit.ts';

export type MountOp = 'checking' | 'mounting';

/** One key per mount spec (tunnel + directory). */
export function mountOpKey(k: MountKey): string {
  return `${k.tunnel}\u0000${k.directory}`;
}

export const useMountOpsStore = defineStore('ferry.mountOps', () => {
  const checks = ref<Record<string, MountCheckResult>>({});
  const applies = ref<Record<string, MountApplyResult>>({});
  const pending = ref<Record<string, MountOp | null>>({});
  const problems = ref<Record<string, Problem | null>>({});

  async function run<T>(k: MountKey, op: MountOp, work: () => Promise<T>): Promise<T | null> {
    const key = mountOpKey(k);
    if (pending.value[key]) return null;
    pending.value = { ...pending.value, [key]: op };
    problems.value = { ...problems.value, [key]: null };
    try {
      return await work();
    } catch (err) {
      problems.value = { ...problems.value, [key]: describeError(err) };
      return null;
    } finally {
      pending.value = { ...pending.value, [key]: null };
    }
  }

  /** Checks the spec's directory on every host of its tunnel; a new check replaces the mount run shown. */
  async function check(k: MountKey): Promise<MountCheckResult | null> {
    const result = await run(k, 'checking', () => consoleApi().call('mounts.check', { tunnel: k.tunnel, directory: k.directory }));
    if (result) {
      const key = mountOpKey(k);
      checks.value = { ...checks.value, [key]: result };
      const { [key]: _dropped, ...rest } = applies.value;
      applies.value = rest;
    }
    return result;
  }

  /** Mounts on the chosen hosts (the operator confirmed in the dialog); the check that follows is kept too. */
  async function apply(k: MountKey, hostIds: string[], useSudo: boolean): Promise<MountApplyResult | null> {
    const result = await run(k, 'mounting', () => consoleApi().call('mounts.apply', { tunnel: k.tunnel, directory: k.directory, hostIds, useSudo, confirm: true }));
    if (result) {
      const key = mountOpKey(k);
      applies.value = { ...applies.value, [key]: result };
      checks.value = { ...checks.value, [key]: result.check };
    }
    return result;
  }

  /** Forgets what was shown for a spec (after it was edited or removed). */
  function forget(k: MountKey): void {
    const key = mountOpKey(k);
    const drop = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).filter(([x]) => x !== key));
    checks.value = drop(checks.value);
    applies.value = drop(applies.value);
    problems.value = drop(problems.value);
  }

  return { checks, applies, pending, problems, check, apply, forget };
});
