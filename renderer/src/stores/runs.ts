/**
 * Runs store: every run of a plan task (runs.list, kept current by `runs.changed`), the live
 * snapshot of each run Ferry reports on (`runs.progress`, or runs.get when a run page opens), and
 * each repeating task's schedule (runs.schedule, kept current by the `runs.schedule` event), and
 * the console's side of starting a task: what the operator must answer first (a host key to
 * compare, a password or passphrase) and starting it again with that answer. A cache of
 * controller state: it subscribes to the events BEFORE it loads the snapshot, so a reload
 * reconnects to running runs without a gap. Renders figures as they come; computes no rates.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { HostFailure, HostSecret, Run, RunSnapshot, TaskSchedule } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import { latestRunByTask } from '../domain/runs.ts';
import { useSnapshot } from './snapshot.ts';

/** What the console must ask before the task can start. */
export type RunQuestion =
  | { kind: 'host-key'; task: string; failure: HostFailure }
  | { kind: 'secret'; task: string; secret: 'password' | 'passphrase'; failure: HostFailure };

export type RunControl = 'pause' | 'resume' | 'cancel';

const QUESTION_CODES: Record<string, 'host-key' | 'password' | 'passphrase' | undefined> = {
  'host-key-unknown': 'host-key',
  'password-needed': 'password',
  'passphrase-needed': 'passphrase',
  'passphrase-wrong': 'passphrase',
};

export const useRunsStore = defineStore('ferry.runs', () => {
  const runs = ref<Run[]>([]);
  const { status, error, apply: applyRuns, load: loadRuns, init: startSnapshot } = useSnapshot('runs.list', {}, (next) => (runs.value = next));
  /** Latest snapshot per run id (replaced whole by each event). */
  const snapshots = shallowRef<Record<string, RunSnapshot>>({});
  const question = ref<RunQuestion | null>(null);
  /** The task being started by this console, if any. */
  const starting = ref<string | null>(null);
  /** Why the last start did not happen (a failure no prompt can fix, or a call error), per task. */
  const startProblems = ref<Record<string, { failure: HostFailure | null; problem: Problem | null }>>({});
  /** A control call in flight, per run id. */
  const pending = ref<Record<string, RunControl | null>>({});
  const controlProblems = ref<Record<string, Problem | null>>({});
  /** The repeat schedule of every task that has one (replaced whole by each event). */
  const schedules = ref<TaskSchedule[]>([]);
  /** Why the last runs.schedule call failed (null once schedules load or arrive); not a run-list problem. */
  const scheduleProblem = ref<Problem | null>(null);

  let scheduleRevision = 0;

  const latestByTask = computed(() => latestRunByTask(runs.value));
  const scheduleByTask = computed(() => new Map(schedules.value.map((s) => [s.task, s])));

  function applySchedules(next: TaskSchedule[]): void {
    scheduleRevision += 1;
    schedules.value = next;
    scheduleProblem.value = null;
  }

  /** The schedules; a failure leaves the last known ones and is kept in `scheduleProblem`. */
  async function loadSchedules(): Promise<void> {
    const seen = scheduleRevision;
    try {
      const next = await consoleApi().call('runs.schedule', {});
      if (scheduleRevision === seen) applySchedules(next);
    } catch (err) {
      if (scheduleRevision === seen) scheduleProblem.value = describeError(err);
    }
  }

  function applySnapshot(snapshot: RunSnapshot): void {
    const previous = snapshots.value[snapshot.run.id];
    if (previous && previous.updatedAt > snapshot.updatedAt) return;
    snapshots.value = { ...snapshots.value, [snapshot.run.id]: snapshot };
  }

  /** The run list, and the schedules beside it (not awaited: the list never waits for them). */
  async function load(): Promise<void> {
    void loadSchedules();
    await loadRuns();
  }

  function init(): Promise<void> {
    return startSnapshot(
      (api) => {
        api.on('runs.changed', applyRuns);
        api.on('runs.progress', applySnapshot);
        api.on('runs.schedule', applySchedules);
      },
      load,
      () => {
        void load();
        for (const id of Object.keys(snapshots.value)) void refresh(id);
      },
    );
  }

  /** Reads one run's snapshot (a run page opening, or after a reconnect). */
  async function refresh(id: string): Promise<void> {
    try {
      applySnapshot(await consoleApi().call('runs.get', { id }));
    } catch (err) {
      controlProblems.value = { ...controlProblems.value, [id]: describeError(err) };
    }
  }

  /**
   * Starts (or reattaches) a task; returns the run when Ferry started it. A failure the operator
   * can answer becomes `question`; any other is kept in `startProblems`.
   */
  async function start(task: string, answer?: { hostId: string; secret: HostSecret }): Promise<Run | null> {
    starting.value = task;
    startProblems.value = { ...startProblems.value, [task]: { failure: null, problem: null } };
    try {
      const result = await consoleApi().call('runs.start', answer ? { task, secret: answer } : { task });
      if (result.ok) {
        if (!runs.value.some((r) => r.id === result.run.id)) applyRuns([result.run, ...runs.value]);
        return result.run;
      }
      if (!ask(task, result.failure)) startProblems.value = { ...startProblems.value, [task]: { failure: result.failure, problem: null } };
      return null;
    } catch (err) {
      startProblems.value = { ...startProblems.value, [task]: { failure: null, problem: describeError(err) } };
      return null;
    } finally {
      starting.value = null;
    }
  }

  function ask(task: string, failure: HostFailure): boolean {
    const refusedPassword = failure.code === 'auth-failed' && failure.authMethod === 'password';
    const kind = refusedPassword ? 'password' : QUESTION_CODES[failure.code];
    if (kind === 'host-key') question.value = { kind: 'host-key', task, failure };
    else if (kind) question.value = { kind: 'secret', task, secret: kind, failure };
    return kind !== undefined;
  }

  /** The operator compared the fingerprint and accepted it: trust it, then start again. */
  async function acceptKey(): Promise<Run | null> {
    const q = question.value;
    if (q?.kind !== 'host-key' || !q.failure.hostKey) return null;
    question.value = null;
    try {
      const trusted = await consoleApi().call('hosts.trustKey', { id: q.failure.hostId, fingerprint: q.failure.hostKey.fingerprint });
      if (!trusted.ok) {
        if (!ask(q.task, trusted.failure)) startProblems.value = { ...startProblems.value, [q.task]: { failure: trusted.failure, problem: null } };
        return null;
      }
    } catch (err) {
      startProblems.value = { ...startProblems.value, [q.task]: { failure: null, problem: describeError(err) } };
      return null;
    }
    return start(q.task);
  }

  /** The operator typed the password or passphrase: start again with it. */
  async function giveSecret(value: string): Promise<Run | null> {
    const q = question.value;
    if (q?.kind !== 'secret') return null;
    question.value = null;
    const secret: HostSecret = q.secret === 'password' ? { password: value } : { passphrase: value };
    return start(q.task, { hostId: q.failure.hostId, secret });
  }

  function dismissQuestion(): void {
    question.value = null;
  }

  async function control(id: string, action: RunControl): Promise<void> {
    pending.value = { ...pending.value, [id]: action };
    controlProblems.value = { ...controlProblems.value, [id]: null };
    try {
      const api = consoleApi();
      const run = action === 'pause' ? await api.call('runs.pause', { id }) : action === 'resume' ? await api.call('runs.resume', { id }) : await api.call('runs.cancel', { id });
      // Before the first list (status not ready yet) there is nothing to keep it from.
      if (status.value !== 'ready' || runs.value.some((r) => r.id === id)) runs.value = runs.value.map((r) => (r.id === id ? run : r));
    } catch (err) {
      controlProblems.value = { ...controlProblems.value, [id]: describeError(err) };
    } finally {
      pending.value = { ...pending.value, [id]: null };
    }
  }

  return {
    runs,
    status,
    error,
    snapshots,
    question,
    starting,
    startProblems,
    pending,
    controlProblems,
    latestByTask,
    schedules,
    scheduleByTask,
    scheduleProblem,
    init,
    load,
    refresh,
    start,
    acceptKey,
    giveSecret,
    dismissQuestion,
    control,
  };
});
