/**
 * The console's runs of plan tasks: runs.list / start / get / pause / resume / cancel and the
 * `runs.changed` / `runs.progress` events. One RunOwner per watched run (never two for the same
 * run or the same plan task); every run is persisted in `<data-dir>/runs.json` (RunStore) with the
 * plan it started from, so `reattachAll()` at startup watches again every run that had not ended
 * when Ferry closed (runRemoteTask reattaches: same task id) and shows its true progress.
 * Starting first logs in to every host of the task (RunAccess.preflight): what needs the operator
 * comes back as `{ok:false, failure}` and no run is created. A plan problem is a call error
 * ('invalid-request') saying what to fix. close() stops watching; the tasks go on on the hosts.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { CallRequestParsed, ReportMeta } from '../contract/console.ts';
import type { Plan } from '../contract/plan.ts';
import { FINAL_RUN_STATES, type Run, type RunSnapshot, type RunStarted, type RunTrigger } from '../contract/task-runs.ts';
import type { AgentLocalFiles } from '../hosts/deploy.ts';
import { PlanTaskError, resolvePlanTask, type RemoteTaskLayout } from '../remote/plan-task.ts';
import type { RemoteControlMethod } from '../remote/run-handle.ts';
import { locateAgentBuild } from './agent-build.ts';
import { ControllerError } from './errors.ts';
import type { RunAccess } from './run-access.ts';
import { RunOwner, type RunOwnerOptions } from './run-owner.ts';
import { publicRun, RunStore, type RunRecord } from './run-store.ts';

export interface TaskRunsOptions {
  dataDir: string;
  access: RunAccess;
  plan: () => Promise<Plan>;
  /** The agent build to deploy; throws a ControllerError saying which build step is missing. */
  agentFiles: () => AgentLocalFiles;
  importReport: (file: string, taskName: string) => Promise<ReportMeta>;
  onRuns: (runs: Run[]) => void;
  onProgress: (snapshot: RunSnapshot) => void;
  /** A watch ended (the run's task is no longer busy()): the repeat schedule looks again. */
  onWatchEnded?: (task: string) => void;
  runner?: RunOwnerOptions['runner'];
}

function isFinal(run: Pick<Run, 'state'>): boolean {
  return FINAL_RUN_STATES.includes(run.state);
}

export class TaskRunsService {
  private readonly store: RunStore;
  private readonly owners = new Map<string, RunOwner>();
  /** Plan tasks with a runs.start in flight (a second start waits for nothing: it is refused). */
  private readonly starting = new Set<string>();
  private closed = false;

  constructor(private readonly opts: TaskRunsOptions) {
    this.store = new RunStore(opts.dataDir);
  }

  /** Every run, newest first. */
  async list(): Promise<Run[]> {
    const records = await this.store.list();
    return [...records].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(publicRun);
  }

  async get(req: CallRequestParsed<'runs.get'>): Promise<RunSnapshot> {
    const owner = this.owners.get(req.id);
    if (owner) return owner.snapshot();
    return staticSnapshot(await this.find(req.id));
  }

  /**
   * `trigger: 'schedule'` (the repeat schedule, never the console) runs the task in incremental
   * mode whatever its definition says; an unfinished run of the task is reattached as it is.
   */
  async start(req: CallRequestParsed<'runs.start'>, trigger: RunTrigger = 'manual'): Promise<RunStarted> {
    if (this.closed) throw new ControllerError('conflict', 'Ferry is shutting down; start the task again after it restarts.');
    if (this.starting.has(req.task)) throw new ControllerError('conflict', `Task "${req.task}" is being started already. Wait for it.`);
    this.starting.add(req.task);
    try {
      const unfinished = (await this.store.list()).find((r) => r.taskName === req.task && !isFinal(r));
      const watched = unfinished && this.owners.get(unfinished.id);
      if (unfinished && watched?.watching) return { ok: true, run: publicRun(watched.current) };
      const plan = unfinished?.plan ?? withTrigger(await this.opts.plan(), req.task, trigger);
      const layout = this.layoutOf(plan, req.task);
      const agentFiles = this.opts.agentFiles();
      const failure = await this.opts.access.preflight(plan, layout, req.secret);
      if (failure) {
        if (unfinished) await this.save({ ...unfinished, failure });
        return { ok: false, failure };
      }
      const record: RunRecord = unfinished
        ? { ...unfinished, state: unfinished.created ? unfinished.state : 'starting', failure: null, message: null }
        : newRecord(plan, layout, trigger);
      await this.save(record);
      this.watch(record, agentFiles);
      return { ok: true, run: publicRun(record) };
    } finally {
      this.starting.delete(req.task);
    }
  }

  pause(req: CallRequestParsed<'runs.pause'>): Promise<Run> {
    return this.control(req.id, 'task.pause');
  }

  resume(req: CallRequestParsed<'runs.resume'>): Promise<Run> {
    return this.control(req.id, 'task.resume');
  }

  cancel(req: CallRequestParsed<'runs.cancel'>): Promise<Run> {
    return this.control(req.id, 'task.cancel');
  }

  /** True while a run of the task is being started or watched (its record may already be final: a cancel ending). */
  busy(task: string): boolean {
    return this.starting.has(task) || [...this.owners.values()].some((o) => o.watching && o.current.taskName === task);
  }

  /** At startup: watches again every run that had not ended (without prompting: a host that needs a secret leaves it detached). */
  async reattachAll(): Promise<void> {
    const records = await this.store.list();
    let agentFiles: AgentLocalFiles | null = null;
    for (const record of records.filter((r) => !isFinal(r) && !(r.state === 'detached' && r.failure !== null))) {
      try {
        agentFiles ??= this.opts.agentFiles();
      } catch (err) {
        await this.save({ ...record, state: 'detached', message: err instanceof Error ? err.message : String(err) });
        continue;
      }
      this.watch(record, agentFiles);
    }
  }

  /** Stops watching every run (their tasks keep running on the hosts; the next Ferry reattaches). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.owners.values()].map((o) => o.stop()));
    this.owners.clear();
  }

  private async control(id: string, method: RemoteControlMethod): Promise<Run> {
    const record = await this.find(id);
    const owner = this.owners.get(id);
    if (isFinal(record)) throw new ControllerError('conflict', `Run ${id} has ended (${record.state}); there is nothing to ${method.slice(5)}.`);
    if (!owner?.watching) throw new ControllerError('conflict', `Ferry is not connected to the task of this run (${record.state}). Start task "${record.taskName}" again to reattach, then retry.`);
    return publicRun(await owner.control(method));
  }

  private watch(record: RunRecord, agentFiles: AgentLocalFiles): void {
    const owner = new RunOwner(record, {
      access: this.opts.access,
      agentFiles,
      workDir: path.join(this.opts.dataDir, 'runs'),
      importReport: this.opts.importReport,
      save: (r) => this.save(r),
      publish: (s) => this.opts.onProgress(s),
      ...(this.opts.runner ? { runner: this.opts.runner } : {}),
    });
    this.owners.set(record.id, owner);
    owner.start();
    void owner
      .whenDone()
      .catch(() => undefined)
      .then(() => this.opts.onWatchEnded?.(record.taskName));
  }

  private layoutOf(plan: Plan, task: string): RemoteTaskLayout {
    try {
      return resolvePlanTask(plan, task);
    } catch (err) {
      if (err instanceof PlanTaskError) throw new ControllerError('invalid-request', `Task "${task}" cannot run: ${err.message}`, [{ path: 'task', message: err.message }]);
      throw err;
    }
  }

  private async find(id: string): Promise<RunRecord> {
    const record = await this.store.find(id);
    if (!record) throw new ControllerError('not-found', `No run with id ${id}. Reload the run list.`);
    return record;
  }

  private async save(record: RunRecord): Promise<void> {
    await this.store.put(record);
    this.opts.onRuns(await this.list());
  }
}

/** The plan a run of `task` starts from: a scheduled run copies incrementally. */
function withTrigger(plan: Plan, task: string, trigger: RunTrigger): Plan {
  if (trigger !== 'schedule') return plan;
  return { ...plan, tasks: plan.tasks.map((t) => (t.name === task ? { ...t, options: { ...t.options, mode: 'incremental' as const } } : t)) };
}

function newRecord(plan: Plan, layout: RemoteTaskLayout, trigger: RunTrigger): RunRecord {
  return {
    id: randomUUID(),
    taskName: layout.task.name,
    trigger,
    taskId: null,
    state: 'starting',
    phase: null,
    message: null,
    errorCode: null,
    failure: null,
    coordinator: layout.coordinator.name,
    sources: layout.workers.filter((w) => w.role === 'source').map((w) => w.host.name),
    destinations: layout.workers.filter((w) => w.role === 'destination').map((w) => w.host.name),
    createdAt: new Date().toISOString(),
    endedAt: null,
    progress: null,
    passed: null,
    reportId: null,
    plan,
    created: false,
  };
}

/** A run Ferry does not watch: its record, no live figures. */
function staticSnapshot(record: RunRecord): RunSnapshot {
  return { run: publicRun(record), bytesPerSec: 0, filesPerSec: 0, etaSeconds: null, elapsedSeconds: 0, agents: [], samples: [], links: [], notes: [], updatedAt: new Date().toISOString() };
}

/** The agent build of `distDir` for runs, or a ControllerError naming the build step. */
export function runAgentFiles(distDir: string): AgentLocalFiles {
  const build = locateAgentBuild(distDir);
  if (!build.files || build.arches.length === 0) {
    throw new ControllerError('conflict', `This Ferry has no agent build to deploy (${distDir}/agent/agent.mjs and an agent runtime in ${distDir}/runtime are needed). Build it with "node build/build.mjs", then start the task again.`);
  }
  return build.files;
}
