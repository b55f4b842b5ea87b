/**
 * `ferry migrate --plan FILE [--task NAME]`: runs a plan task on the plan's hosts over SSH
 * (electron/remote/remote-runner.ts) with the same progress view, --json events and --report FILE
 * as the local mode; exits 0 only when the task finished and verification passed, 1 otherwise,
 * 2 for bad usage, 130 when interrupted (the task keeps running on the hosts: run the same command
 * again to reattach). Unknown host keys are refused with their fingerprint; --accept-host-key
 * NAME=SHA256:… accepts one and Ferry remembers it in <data dir>/known_hosts. Owns the CLI flow only.
 */
import path from 'node:path';
import { defaultDataDir } from '../controller/data-dir.ts';
import { formatProblem, readPlanFile } from '../plan/plan-file.ts';
import { formatBytes } from './migrate-progress.ts';
import { ProgressView } from './migrate-progress.ts';
import { RemoteHostsError, runRemoteTask, type RemoteRunEvent } from '../remote/remote-runner.ts';
import { PlanTaskError } from '../remote/plan-task.ts';
import { CliUsageError, parseCliArgs } from './args.ts';
import { cliAuthProvider, parseAcceptedKeys } from './ssh-auth.ts';

export const MIGRATE_PLAN_USAGE = `Usage: ferry migrate --plan FILE [--task NAME] [options]

Runs a task of a plan file on the plan's hosts: connects over SSH (through jump hosts), deploys
the agent where missing or outdated, and lets source hosts stream straight to destination hosts;
this computer only sends commands and reads progress. Running the same command again resumes an
unfinished task (or reattaches to one still running).

Options:
  --task NAME                     the plan task to run (needed when the plan has several)
  --coordinator HOST              the task host whose agent coordinates (default the first destination)
  --accept-host-key NAME=SHA256:… trust this host key of host NAME (repeatable); remembered
  --data-dir DIR                  Ferry's data directory (its known_hosts), default the app-data folder
  --agent-port N                  the agents' data port between hosts (default 7471)
  --report FILE                   copy the JSON report there
  --json                          machine-readable events, one JSON object per line
  -h, --help                      show this help

Secrets: ssh-agent (auth: {kind: agent}), key files (passphrase from FERRY_SSH_PASSPHRASE or asked
on the terminal), passwords (FERRY_SSH_PASSWORD or asked). Ferry never stores them.
Exit code: 0 when the task finished and verification passed, 1 otherwise, 2 for bad usage.`;

const OPTIONS = {
  plan: { type: 'string' },
  task: { type: 'string' },
  coordinator: { type: 'string' },
  'accept-host-key': { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  'agent-port': { type: 'string' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parsePortOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliUsageError(`--agent-port must be a port number from 1 to 65535, not "${value}".`);
  return port;
}

export async function runMigratePlanCli(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(MIGRATE_PLAN_USAGE);
    return 0;
  }
  const { values, positionals } = parseCliArgs(argv, OPTIONS, true, MIGRATE_PLAN_USAGE);
  if (values.help) {
    console.log(MIGRATE_PLAN_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new CliUsageError(`--plan takes the directories from the plan; remove ${positionals.join(' ')}.\n${MIGRATE_PLAN_USAGE}`);
  const file = values.plan;
  if (!file) throw new CliUsageError(`--plan needs a plan file.\n${MIGRATE_PLAN_USAGE}`);
  const acceptFingerprints = parseAcceptedKeys(values['accept-host-key']);
  const dataPort = parsePortOption(values['agent-port']);
  const parsed = await readPlanFile(file);
  if (!parsed.ok) {
    for (const p of parsed.problems) console.error(formatProblem(file, p));
    console.error(`${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'} in ${file}. Fix the plan first (ferry plan check ${file} lists every problem).`);
    return 1;
  }
  const view = new ProgressView(process.stdout, values.json ?? false);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = values.report ? path.resolve(values.report) : undefined;
  try {
    const result = await runRemoteTask({
      plan: parsed.plan,
      ...(values.task !== undefined ? { taskName: values.task } : {}),
      ...(values.coordinator !== undefined ? { coordinator: values.coordinator } : {}),
      auth: cliAuthProvider(),
      hostKeys: { dataDir: path.resolve(values['data-dir'] ?? defaultDataDir()) },
      acceptFingerprints,
      ...(dataPort !== undefined ? { dataPort } : {}),
      ...(report ? { reportFile: report } : {}),
      onEvent: (e) => showEvent(view, e),
      signal: abort.signal,
    });
    if (result.outcome === 'interrupted' || !result.status) {
      view.note(`Interrupted. Run the same command again to continue: task ${result.taskId}, once started, keeps running on the hosts.`);
      view.event('interrupted', { taskId: result.taskId });
      return 130;
    }
    const final = result.status;
    const bytes = { setup: result.bytes.setup, task: result.bytes.task, total: result.bytes.total };
    if (!result.report) {
      view.note(`The task ended in state ${final.state}${final.message ? `: ${final.message}` : ''}.`);
      view.event('finished', { taskId: result.taskId, state: final.state, passed: false, message: final.message, bytes });
      return 1;
    }
    if (final.state === 'failed') view.note(`The task failed: ${final.message ?? final.errorCode ?? 'unknown error'}`);
    view.summary(result.report.summary, result.report.passed, result.layout.spec.dryRun, report ?? `${result.layout.coordinator.name}:${result.report.path}`);
    view.note(`This computer's SSH traffic during the task: ${formatBytes(bytes.task.sent + bytes.task.received)} (setup and deployment: ${formatBytes(bytes.setup.sent + bytes.setup.received)}).`);
    view.event('finished', {
      taskId: result.taskId,
      state: final.state,
      errorCode: final.errorCode,
      message: final.message,
      passed: result.passed,
      summary: result.report.summary,
      report: report ?? null,
      reportOnHost: { host: result.layout.coordinator.name, path: result.report.path },
      resumes: final.resumes,
      reconnects: result.reconnects,
      bytes,
    });
    return result.passed ? 0 : 1;
  } catch (err) {
    if (err instanceof PlanTaskError) throw new CliUsageError(err.message);
    if (err instanceof RemoteHostsError) {
      view.clear();
      for (const f of err.failures) console.error(`ferry migrate: ${f.host}: ${f.error.message}`);
      view.event('failed', { hosts: err.failures.map((f) => ({ host: f.host, message: f.error.message, code: (f.error as { code?: string }).code ?? null })) });
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function showEvent(view: ProgressView, e: RemoteRunEvent): void {
  switch (e.type) {
    case 'status':
      view.update(e.status);
      return;
    case 'connecting':
      view.event('connecting', { host: e.host, role: e.role });
      return;
    case 'deployed':
      if (!e.deploy.alreadyInstalled) view.note(`${e.host}: deployed agent ${e.deploy.version} (${formatBytes(e.deploy.bytesSent)} sent).`);
      view.event('deployed', { host: e.host, version: e.deploy.version, alreadyInstalled: e.deploy.alreadyInstalled, uploaded: e.deploy.uploaded, bytesSent: e.deploy.bytesSent });
      return;
    case 'agent-started':
      if (!e.alreadyRunning) view.note(`${e.host}: agent started (pid ${e.pid})${e.replacedVersion ? `, replacing ${e.replacedVersion}` : ''}.`);
      view.event('agent-started', { host: e.host, pid: e.pid, alreadyRunning: e.alreadyRunning });
      return;
    case 'started':
      view.note(`${e.resumed ? 'Resuming' : 'Starting'} task ${e.taskId}: ${e.sources.join(', ')} -> ${e.destinations.join(', ')} (coordinator ${e.coordinator}).`);
      view.event('started', { taskId: e.taskId, resumed: e.resumed, coordinator: e.coordinator, sources: e.sources, destinations: e.destinations });
      return;
    case 'lost':
      view.note(`${e.host}: connection lost (${e.reason}); the task keeps running on the hosts, reconnecting.`);
      view.event('link-lost', { host: e.host, reason: e.reason });
      return;
    case 'restored':
      view.note(`${e.host}: reconnected${e.agentRestarted ? ' (the agent had restarted; it resumed the task)' : ''}.`);
      view.event('link-restored', { host: e.host, pid: e.pid, agentRestarted: e.agentRestarted, attempts: e.attempts });
      return;
    case 'failed':
      view.note(`${e.host}: ${e.reason}`);
      view.event('link-failed', { host: e.host, reason: e.reason });
      return;
    case 'finished':
      return;
  }
}
