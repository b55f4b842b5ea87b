/**
 * `ferry migrate SOURCE_DIR DEST_DIR [options]`: runs a coordinator, a source agent and a destination
 * agent as three local processes on Ferry's Node 24 runtime, talking TLS over 127.0.0.1 exactly as
 * across hosts; shows progress; writes the report; exits 0 only when verification passed. Agents that
 * die are restarted (they resume from their homes); running the same command again resumes an
 * unfinished task. Owns the CLI flow only: the engine lives in agent/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TaskStatus } from '../../agent/protocol/task.ts';
import { TaskSpec } from '../../agent/protocol/task.ts';
import { locateAgent } from '../engine-host/launch.ts';
import { ManagedAgent } from '../engine-host/managed-agent.ts';
import { CliUsageError } from './args.ts';
import { MIGRATE_USAGE, defaultStateDir, parseMigrateArgs, resolveDirs, taskKey } from './migrate-args.ts';
import { ProgressView } from './migrate-progress.ts';

const POLL_MS = 200;

export async function runMigrateCli(argv: string[]): Promise<number> {
  // `--plan FILE`: the task runs on the plan's hosts over SSH (migrate-plan.ts).
  if (argv.some((a) => a === '--plan' || a.startsWith('--plan='))) return (await import('./migrate-plan.ts')).runMigratePlanCli(argv);
  const opts = parseMigrateArgs(argv);
  if (opts.help) {
    console.log(MIGRATE_USAGE);
    return 0;
  }
  const dirs = resolveDirs(opts.source, opts.destination, opts.spec.dryRun ?? false);
  const key = taskKey(dirs.source, dirs.destination, opts.spec);
  const spec = TaskSpec.parse({ ...opts.spec, taskId: `m-${key}`, sourceRoot: dirs.source, destinationRoot: dirs.destination });
  const stateDir = path.resolve(opts.stateDir ?? defaultStateDir(key));
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const view = new ProgressView(process.stdout, opts.json);
  let location;
  try {
    location = locateAgent();
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const testUid = process.env.FERRY_TEST_AGENT_UID ? Number(process.env.FERRY_TEST_AGENT_UID) : undefined;
  const onRestart = (role: string, pid: number, reason: string) => {
    view.note(`The ${role} agent ${reason}; restarted it (pid ${pid}), the task resumes.`);
    view.event('agent-restarted', { role, pid, reason });
  };
  const mk = (role: string) =>
    new ManagedAgent({ role, home: path.join(stateDir, role), location, onRestart, ...(testUid !== undefined ? { uid: testUid, gid: testUid } : {}) });
  const agents = { coordinator: mk('coordinator'), source: mk('source'), destination: mk('destination') };
  const all = Object.values(agents);

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    for (const a of all) a.kill();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await Promise.all(all.map((a) => a.start()));
    const coord = await agents.coordinator.ready();
    const created = await coord.call('task.create', { spec, restartIfDone: true });
    const join = { taskId: spec.taskId, coordinator: created.coordinator, token: created.token };
    await (await agents.source.ready()).call('task.join', { ...join, role: 'source', root: dirs.source });
    await (await agents.destination.ready()).call('task.join', { ...join, role: 'destination', root: dirs.destination });
    view.note(`${created.resumed ? 'Resuming' : 'Starting'} task ${spec.taskId}: ${dirs.source} -> ${dirs.destination}${spec.dryRun ? ' (dry run)' : ''}.`);
    view.event('started', {
      taskId: spec.taskId,
      resumed: created.resumed,
      stateDir,
      source: dirs.source,
      destination: dirs.destination,
      agents: Object.fromEntries(Object.entries(agents).map(([role, a]) => [role, { pid: a.pid, home: a.opts.home }])),
    });

    const final = await watch(agents, spec.taskId, view, () => interrupted);
    if (interrupted || !final) {
      view.note('Interrupted: run the same command again to resume.');
      return 130;
    }
    const maxRss = await peakRss(all);
    if (final.state !== 'done' && final.state !== 'failed') {
      view.note(`The task ended in state ${final.state}${final.message ? `: ${final.message}` : ''}.`);
      view.event('finished', { state: final.state, passed: false, message: final.message, maxRss });
      return 1;
    }
    let report;
    try {
      report = await (await agents.coordinator.ready()).call('task.report', { taskId: spec.taskId });
    } catch (err) {
      // A failed task whose report could not be written (its disk is full): say why it failed all the same.
      if (final.state !== 'failed') throw err;
      view.note(`The task failed: ${final.message ?? final.errorCode ?? 'unknown error'} (no report: ${(err as Error).message})`);
      view.event('finished', { taskId: spec.taskId, state: final.state, errorCode: final.errorCode, message: final.message, passed: false, summary: null, report: null, resumes: final.resumes, maxRss });
      return 1;
    }
    if (opts.report) {
      fs.copyFileSync(report.path, opts.report);
    }
    if (final.state === 'failed') view.note(`The task failed: ${final.message ?? final.errorCode ?? 'unknown error'}`);
    view.summary(report.summary, report.passed, spec.dryRun, opts.report ?? report.path);
    view.event('finished', {
      taskId: spec.taskId,
      state: final.state,
      errorCode: final.errorCode,
      message: final.message,
      passed: report.passed,
      summary: report.summary,
      report: opts.report ?? report.path,
      resumes: final.resumes,
      restarts: Object.fromEntries(Object.entries(agents).map(([role, a]) => [role, a.restarts])),
      maxRss,
    });
    return report.passed && final.state === 'done' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(all.map((a) => (interrupted ? Promise.resolve(a.kill()) : a.stop().catch(() => a.kill()))));
  }
}

/** Polls the coordinator until the task is final; survives agent restarts. Null when interrupted. */
async function watch(agents: Record<string, ManagedAgent>, taskId: string, view: ProgressView, interrupted: () => boolean): Promise<TaskStatus | null> {
  const coordinator = agents.coordinator as ManagedAgent;
  for (;;) {
    if (interrupted()) return null;
    for (const a of Object.values(agents)) {
      const why = a.failed;
      if (why) throw new Error(`${why}. Fix the cause and run the same command again to resume.`);
    }
    try {
      // Answers at once when the task ends, else after POLL_MS with the progress so far.
      const s = await (await coordinator.ready()).call('task.wait', { taskId, waitMs: POLL_MS });
      view.update(s);
      if (s.state === 'done' || s.state === 'failed' || s.state === 'cancelled') return s;
      continue;
    } catch (err) {
      if (interrupted()) return null;
      // The coordinator is restarting: the next poll reaches the new process.
      if (coordinator.failed) throw err;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function peakRss(agents: ManagedAgent[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const a of agents) {
    try {
      out[a.opts.role] = (await (await a.ready()).call('agent.info', {})).maxRss;
    } catch {
      // gone: no figure
    }
  }
  return out;
}
