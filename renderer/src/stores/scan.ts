/**
 * Scan store: the last source scan of every task (tasks.scans, kept current by `scans.changed`),
 * which task's scan the Task step shows, and the console's side of starting one (the call error
 * when Ferry refused it). A cache of controller state: it subscribes to the event BEFORE it loads
 * the snapshot, so a scan that ends meanwhile is not missed. Computes nothing of the scan itself.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ScanRecord } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import { useSnapshot } from './snapshot.ts';

export const useScanStore = defineStore('ferry.scan', () => {
  /** Last scan per task name. */
  const scans = shallowRef<Record<string, ScanRecord>>({});
  const { status, error, apply, load, init: startSnapshot } = useSnapshot('tasks.scans', {}, (list) => (scans.value = Object.fromEntries(list.map((s) => [s.task, s]))));
  /** The task whose scan the Task step shows (null: the most recent scan's task). */
  const chosen = ref<string | null>(null);
  /** Why the last start of a scan was refused, per task. */
  const startProblems = ref<Record<string, Problem | null>>({});
  /** Tasks whose tasks.scan call is in flight. */
  const requesting = ref<Record<string, boolean>>({});

  function applyOne(record: ScanRecord): void {
    const current = scans.value[record.task];
    // A newer record (another scan started since, or its end already pushed) wins.
    if (current && (current.startedAt > record.startedAt || (current.startedAt === record.startedAt && current.state !== 'running'))) return;
    scans.value = { ...scans.value, [record.task]: record };
  }

  const init = () => startSnapshot((api) => api.on('scans.changed', apply));

  /** Starts a scan of the task's source and shows it; `instanceGbps` is the Plan step's speed of one instance. */
  async function scan(task: string, instanceGbps: number | null): Promise<void> {
    chosen.value = task;
    requesting.value = { ...requesting.value, [task]: true };
    startProblems.value = { ...startProblems.value, [task]: null };
    try {
      const record = await consoleApi().call('tasks.scan', instanceGbps && instanceGbps > 0 ? { task, instanceGbps } : { task });
      applyOne(record);
    } catch (err) {
      startProblems.value = { ...startProblems.value, [task]: describeError(err) };
    } finally {
      requesting.value = { ...requesting.value, [task]: false };
    }
  }

  function show(task: string): void {
    chosen.value = task;
  }

  /** The task shown: the chosen one, else the one scanned most recently. */
  const shownTask = computed(() => {
    if (chosen.value) return chosen.value;
    const latest = Object.values(scans.value).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
    return latest?.task ?? null;
  });

  const isRunning = (task: string) => requesting.value[task] === true || scans.value[task]?.state === 'running';

  return { scans, status, error, chosen, startProblems, requesting, shownTask, init, load, scan, show, isRunning };
});
