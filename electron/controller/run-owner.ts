/**
 * RunOwner: the one owner of one run while Ferry watches it. It calls runRemoteTask() (which
 * deploys, starts, creates or rejoins the task, and reattaches when the task already runs), turns
 * the runner's events into the run's record (saved on every change of state or phase, and every
 * PROGRESS_SAVE_MS while running) and its live snapshot (coalesced to one per
 * RUN_PROGRESS_MIN_INTERVAL_MS), sends pause / resume / cancel through the run's coordinator link,
 * and when the task ends imports its report into the stored reports and links it to the run.
 * stop() ends the watch only: the task goes on on the hosts and the record stays unfinished, so
 * the next Ferry reattaches. Never stops agents, never accepts host keys.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TaskStatus } from '../../agent/protocol/task.ts';
import type { ReportMeta } from '../contract/console.ts';
import { RUN_PROGRESS_MIN_INTERVAL_MS, type RunNote, type RunSnapshot, type RunState } from '../contract/task-runs.ts';
import type { AgentLocalFiles } from '../hosts/deploy.ts';
import { PlanTaskError } from '../remote/plan-task.ts';
import { RemoteHostsError, runRemoteTask, type RemoteRunEvent, type RemoteRunOptions } from '../remote/remote-runner.ts';
import type { RemoteControlMethod, RemoteRunHandle } from '../remote/run-handle.ts';
import type { RunAccess } from './run-access.ts';
import { RunMeter } from './run-meter.ts';
import { publicRun, type RunRecord } from './run-store.ts';
import { ControllerError } from './errors.ts';

/** How often the progress of a running run is written to runs.json (state changes are written at once). */
export const PROGRESS_SAVE_MS = 5000;
/** Messages kept per run for the console. */
export const MAX_NOTES = 20;

export interface RunOwnerOptions {
  access: RunAccess;
  agentFiles: AgentLocalFiles;
  /** Where the report is copied to before it is imported (`<data-dir>/runs`). */
  workDir: string;
  importReport: (file: string, taskName: string) => Promise<ReportMeta>;
  /** Persists the record and publishes the run list. */
  save: (record: RunRecord) => Promise<void>;
  publish: (snapshot: RunSnapshot) => void;
  /** Extra runner options (tests: agent home, data port, poll interval). */
  runner?: Partial<Pick<RemoteRunOptions, 'agentHome' | 'dataPort' | 'pollMs' | 'reconnect'>>;
}

export class RunOwner {
  private readonly meter = new RunMeter();
  private readonly notes: RunNote[] = [];
  private readonly abort = new AbortController();
  private readonly watchStarted = Date.now();
  private handle: RemoteRunHandle | null = null;
  private lastPublished = 0;
  private publishTimer: NodeJS.Timeout | null = null;
  private lastSaved = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private record: RunRecord,
    private readonly opts: RunOwnerOptions,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get current(): RunRecord {
    return this.record;
  }

  /** True while the runner watches the task (until it ends, detaches or stop()). */
  watching = false;

  start(): void {
    this.watching = true;
    this.done = this.watch().finally(() => {
      this.watching = false;
      this.handle = null;
      if (!this.abort.signal.aborted) this.schedulePublish();
    });
  }

  /** Settles when the watch has ended (`watching` is false by then), as stop() awaits it. */
  whenDone(): Promise<void> {
    return this.done;
  }

  /** Ends the watch (the task keeps running on the hosts). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
  }

  /** Pause / resume / cancel through the coordinator link; answers the updated run. */
  async control(method: RemoteControlMethod): Promise<RunRecord> {
    if (!this.handle) throw new ControllerError('conflict', `Ferry is not connected to the task of run ${this.record.id} (${this.record.state}). Start the task again to reattach, then retry.`);
    const status = await this.handle.control(method);
    await this.applyStatus(status, true);
    return this.record;
  }

  snapshot(): RunSnapshot {
    const links = this.handle?.links() ?? [];
    this.meter.setAgentHosts(new Map(links.flatMap((l) => (l.agentId ? [[l.agentId, l.host] as const] : []))));
    const reading = this.meter.reading();
    return {
      run: publicRun(this.record),
      bytesPerSec: reading.bytesPerSec,
      filesPerSec: reading.filesPerSec,
      etaSeconds: reading.etaSeconds,
      elapsedSeconds: (Date.now() - this.watchStarted) / 1000,
      agents: reading.agents,
      samples: reading.samples,
      links: links.map(({ agentId: _agentId, ...l }) => l),
      notes: [...this.notes],
      updatedAt: new Date().toISOString(),
    };
  }

  private async watch(): Promise<void> {
    const reportFile = path.join(this.opts.workDir, `${this.record.id}.report.json`);
    try {
      await fs.mkdir(this.opts.workDir, { recursive: true, mode: 0o700 });
      const result = await runRemoteTask({
        plan: this.record.plan,
        taskName: this.record.taskName,
        auth: this.opts.access.authProvider(),
        hostKeys: this.opts.access.keys,
        agentFiles: this.opts.agentFiles,
        // A run that never created its task starts a new one; an attached run only reattaches.
        restartIfDone: !this.record.created,
        reportFile,
        onEvent: (e) => void this.onEvent(e),
        onHandle: (h) => {
          this.handle = h;
        },
        signal: this.abort.signal,
        ...this.opts.runner,
      });
      if (result.outcome === 'interrupted' || !result.status) {
        await this.save();
        return;
      }
      await this.finish(result.status, result.passed, result.report ? reportFile : null);
    } catch (err) {
      if (this.abort.signal.aborted) {
        await this.save();
        return;
      }
      await this.detach(err);
    } finally {
      await fs.rm(reportFile, { force: true });
    }
  }

  private async finish(status: TaskStatus, passed: boolean, reportFile: string | null): Promise<void> {
    this.meter.add(status, Date.now());
    let reportId: string | null = null;
    let message = status.message;
    if (reportFile) {
      try {
        reportId = (await this.opts.importReport(reportFile, this.record.taskName)).id;
      } catch (err) {
        message = `The task ended, but its report could not be stored: ${err instanceof Error ? err.message : String(err)}`;
        this.note('error', null, message);
      }
    }
    this.record = {
      ...this.record,
      state: status.state as RunState,
      phase: status.phase,
      message,
      errorCode: status.errorCode,
      failure: null,
      progress: status.progress,
      passed: status.state === 'done' ? passed : null,
      reportId,
      endedAt: new Date().toISOString(),
    };
    // The final figures go out ahead of the record's runs.changed, never up to an interval after it: a
    // console must not show a run as ended next to the figures of a moment before its end.
    await this.publishSoon();
    await this.save();
  }

  /** The watch ended without a final state: Ferry lost the task, which may still be running. */
  private async detach(err: unknown): Promise<void> {
    if (err instanceof PlanTaskError) {
      this.record = { ...this.record, state: 'failed', message: err.message, endedAt: new Date().toISOString() };
      await this.save();
      return;
    }
    let failure = null;
    let message = err instanceof Error ? err.message : String(err);
    if (err instanceof RemoteHostsError) {
      const first = err.failures[0];
      const host = first && this.record.plan.hosts.find((h) => h.name === first.host);
      if (first && host) failure = await this.opts.access.failureOf(first.error, host, this.record.plan);
    }
    message = `Ferry lost contact with the task: ${message} The task may still be running on its hosts; start it again to reattach.`;
    this.note('error', null, message);
    this.record = { ...this.record, state: 'detached', message, failure };
    await this.save();
  }

  private async onEvent(e: RemoteRunEvent): Promise<void> {
    switch (e.type) {
      case 'started':
        this.record = { ...this.record, taskId: e.taskId, created: true, coordinator: e.coordinator, sources: e.sources, destinations: e.destinations, state: 'running', failure: null, message: null };
        if (e.resumed) this.note('info', e.coordinator, `Reattached to task ${e.taskId}.`);
        await this.save();
        break;
      case 'status':
        await this.applyStatus(e.status, false);
        break;
      case 'deployed':
        if (!e.deploy.alreadyInstalled) this.note('info', e.host, `Agent ${e.deploy.version} deployed (${e.deploy.uploaded.length} files uploaded).`);
        break;
      case 'agent-started':
        if (e.replacedVersion) this.note('info', e.host, `Agent started (pid ${e.pid}), replacing version ${e.replacedVersion}.`);
        break;
      case 'lost':
        this.note('warning', e.host, `Connection lost (${e.reason}); reconnecting. The task keeps running on the hosts.`);
        break;
      case 'restored':
        this.note('info', e.host, e.agentRestarted ? `Reconnected; the agent had restarted and resumes from its journal.` : `Reconnected after ${e.attempts} attempt(s).`);
        break;
      case 'failed':
        this.note('error', e.host, e.reason);
        break;
      default:
        return;
    }
    this.schedulePublish();
  }

  private async applyStatus(status: TaskStatus, force: boolean): Promise<void> {
    this.meter.add(status, Date.now());
    const state = status.state as RunState;
    const changed = state !== this.record.state || status.phase !== this.record.phase || status.message !== this.record.message;
    // A final state is saved by finish(), with the report and the end time.
    const final = state === 'done' || state === 'failed' || state === 'cancelled';
    this.record = { ...this.record, state, phase: status.phase, message: status.message, errorCode: status.errorCode, progress: status.progress };
    if (!final && (changed || force || Date.now() - this.lastSaved >= PROGRESS_SAVE_MS)) await this.save();
    this.schedulePublish();
  }

  private note(level: RunNote['level'], host: string | null, message: string): void {
    this.notes.push({ at: new Date().toISOString(), level, host, message });
    if (this.notes.length > MAX_NOTES) this.notes.splice(0, this.notes.length - MAX_NOTES);
  }

  private async save(): Promise<void> {
    this.lastSaved = Date.now();
    await this.opts.save(this.record);
    this.schedulePublish();
  }

  /** At most one snapshot per RUN_PROGRESS_MIN_INTERVAL_MS; the last change always goes out. */
  private schedulePublish(): void {
    if (this.publishTimer) return;
    this.publishTimer = setTimeout(() => this.flushPublish(), this.publishWait());
    this.publishTimer.unref();
  }

  /** Publishes a snapshot as soon as the interval allows (in place of one already due); resolves once it went out. */
  private publishSoon(): Promise<void> {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    return new Promise((resolve) => {
      this.publishTimer = setTimeout(() => {
        this.flushPublish();
        resolve();
      }, this.publishWait());
    });
  }

  /** Milliseconds until the next snapshot may go out (RUN_PROGRESS_MIN_INTERVAL_MS after the last). */
  private publishWait(): number {
    return Math.max(0, this.lastPublished + RUN_PROGRESS_MIN_INTERVAL_MS - Date.now());
  }

  private flushPublish(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    this.lastPublished = Date.now();
    this.opts.publish(this.snapshot());
  }
}
