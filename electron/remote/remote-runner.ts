/**
 * runRemoteTask(): runs one task of a migration plan on the plan's hosts over SSH. The public API
 * for the CLI (`ferry migrate --plan`) and the controller/console:
 *
 *   const result = await runRemoteTask({
 *     plan,                      // a validated Plan (readPlanFile / parsePlanText)
 *     taskName: 'move-home',     // optional when the plan has one task
 *     auth: async (host) => ({ kind: 'agent' }),   // SshAuth per plan host, asked for at connect time
 *     hostKeys: { dataDir },     // Ferry's known_hosts lives in dataDir (or pass a HostKeyStore)
 *     acceptFingerprints: { src1: 'SHA256:…' },    // optional: unknown keys the operator accepted
 *     connectHost,               // optional: (host) => new SshSession, instead of auth + hostKeys
 *     coordinator: 'dst2',       // optional: which task host coordinates (default the first destination)
 *     onEvent: (e) => …,         // RemoteRunEvent: deployed, agent-started, started, status, lost, restored, …
 *     onHandle: (h) => …,        // optional: link states and h.control('task.pause' | 'task.resume' | 'task.cancel')
 *     signal,                    // abort: stop watching; the task keeps running on the hosts
 *   });
 *   result.passed, result.status, result.report, result.bytes
 *
 * What it does: connects to every host of the task's two tunnels (through jump hosts), deploys the
 * agent where missing or outdated, starts it detached, reaches each agent's loopback control port
 * through SSH forwarding and checks the handshake version (AgentLink, one owner per host); creates
 * the task on the coordinator (the first destination agent) under an id derived from the plan task
 * (running it again resumes it; a finished task starts a new run unless restartIfDone is false);
 * joins every destination with the address sources dial, then every source; polls the status until
 * done, failed or cancelled; returns the report summary. File data flows source host → destination
 * host over the agents' TLS data plane; the workstation carries control traffic only (result.bytes
 * says how much). When SSH connections drop, the links reconnect with backoff and the next status
 * is the task's true progress; agents restarted meanwhile resume from their journals, and joins are
 * repeated (idempotent). Never stops the agents: they stay for the next run.
 */
import { promises as fs } from 'node:fs';
import type { ReportSummary } from '../../agent/protocol/report.ts';
import type { TaskStatus } from '../../agent/protocol/task.ts';
import type { Plan, PlanHost } from '../contract/plan.ts';
import type { AgentLocalFiles } from '../hosts/deploy.ts';
import type { HostKeyStore, HostKeyStoreOptions } from '../ssh/host-key-store.ts';
import type { ByteCounters, SshSession } from '../ssh/session.ts';
import { agentVersionLabel, locateRemoteAgentFiles } from './agent-files.ts';
import { AgentLink, type LinkEvent } from './agent-link.ts';
import { HostConnector, type HostAuthProvider } from './host-connector.ts';
import { resolvePlanTask, type RemoteTaskLayout, type RemoteWorker } from './plan-task.ts';
import { remoteRunHandle, type RemoteRunHandle } from './run-handle.ts';

/** Some hosts could not be reached or prepared; `failures` says which and why (each error as thrown). */
export class RemoteHostsError extends Error {
  override name = 'RemoteHostsError';
  constructor(readonly failures: Array<{ host: string; error: Error }>) {
    super(failures.map((f) => `${f.host}: ${f.error.message}`).join('\n'));
  }
}

/** How often the coordinator's status is read. */
export const STATUS_POLL_MS = 500;
/** SSH keepalives for task links: a silent connection is declared lost after interval × count. */
export const LINK_KEEPALIVE_INTERVAL_MS = 5000;
export const LINK_KEEPALIVE_COUNT_MAX = 3;

export interface RemoteRunOptions {
  plan: Plan;
  taskName?: string;
  auth: HostAuthProvider;
  hostKeys: HostKeyStore | HostKeyStoreOptions;
  acceptFingerprints?: Readonly<Record<string, string>>;
  /**
   * Opens a new SSH session to a plan host, instead of Ferry's own HostConnector (for a caller
   * with its own secret store). Each call must return a new session the runner may close.
   */
  connectHost?: (host: PlanHost) => Promise<SshSession>;
  /** The host whose agent coordinates (one of the task's hosts; default the first destination). */
  coordinator?: string;
  /** What to deploy (default: dist/ next to Ferry, see agent-files.ts). */
  agentFiles?: AgentLocalFiles;
  /** Agent home on the hosts (default ~/.ferry). */
  agentHome?: string;
  /** Data-plane port of the agents (default DEFAULT_AGENT_DATA_PORT). */
  dataPort?: number;
  pollMs?: number;
  reconnect?: { backoffMs?: readonly number[]; giveUpMs?: number };
  /** Start a new run when this task already finished (default true, like `ferry migrate`). */
  restartIfDone?: boolean;
  /** Copy the task's JSON report from the coordinator host to this local file at the end. */
  reportFile?: string;
  onEvent?: (e: RemoteRunEvent) => void;
  /** Called once the links exist: their live states and pause / resume / cancel through the coordinator's link. */
  onHandle?: (handle: RemoteRunHandle) => void;
  signal?: AbortSignal;
}

export type RemoteRunEvent =
  | LinkEvent
  | { type: 'connecting'; host: string; role: 'source' | 'destination' | 'jump' }
  | { type: 'started'; taskId: string; resumed: boolean; coordinator: string; sources: string[]; destinations: string[] }
  | { type: 'status'; status: TaskStatus }
  | { type: 'finished'; taskId: string; state: TaskStatus['state']; passed: boolean };

export interface RemoteRunResult {
  taskId: string;
  layout: RemoteTaskLayout;
  /** 'interrupted': the signal aborted the watch (the task keeps running on the hosts). */
  outcome: 'finished' | 'interrupted';
  status: TaskStatus | null;
  report: { path: string; summary: ReportSummary; passed: boolean } | null;
  /** True only when the task is done and its verification passed. */
  passed: boolean;
  /**
   * Bytes over the workstation's SSH connections: `setup` until every agent answered (connect,
   * deploy, start), `task` from then to the end of the task (control traffic only), `byHost` all.
   */
  bytes: { setup: ByteCounters; task: ByteCounters; total: ByteCounters; byHost: Record<string, ByteCounters> };
  /** Reconnects per host. */
  reconnects: Record<string, number>;
  /** Agent pid and data port per host, as last seen. */
  agents: Record<string, { pid: number | null; dataPort: number | null }>;
}

function sum(list: ByteCounters[]): ByteCounters {
  return list.reduce((a, b) => ({ sent: a.sent + b.sent, received: a.received + b.received }), { sent: 0, received: 0 });
}

function minus(a: ByteCounters, b: ByteCounters): ByteCounters {
  return { sent: a.sent - b.sent, received: a.received - b.received };
}

export async function runRemoteTask(opts: RemoteRunOptions): Promise<RemoteRunResult> {
  const layout = resolvePlanTask(opts.plan, opts.taskName, opts.coordinator);
  const emit = (e: RemoteRunEvent): void => opts.onEvent?.(e);
  const localFiles = opts.agentFiles ?? locateRemoteAgentFiles();
  const version = await agentVersionLabel(localFiles);
  const connector = new HostConnector({
    hosts: opts.plan.hosts,
    auth: opts.auth,
    hostKeys: opts.hostKeys,
    ...(opts.acceptFingerprints ? { acceptFingerprints: opts.acceptFingerprints } : {}),
    keepaliveIntervalMs: LINK_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: LINK_KEEPALIVE_COUNT_MAX,
  });
  const links = new Map<string, AgentLink>();
  for (const w of layout.workers) {
    const link = new AgentLink({
      host: w.host,
      connect: () => (opts.connectHost ? opts.connectHost(w.host) : connector.connect(w.host)),
      version,
      localFiles,
      ...(opts.agentHome !== undefined ? { home: opts.agentHome } : {}),
      ...(opts.dataPort !== undefined ? { dataPort: opts.dataPort } : {}),
      ...(opts.reconnect?.backoffMs ? { backoffMs: opts.reconnect.backoffMs } : {}),
      ...(opts.reconnect?.giveUpMs !== undefined ? { giveUpMs: opts.reconnect.giveUpMs } : {}),
    });
    link.on('event', (e: LinkEvent) => emit(e));
    links.set(w.host.name, link);
  }
  const linkOf = (name: string): AgentLink => links.get(name) as AgentLink;
  opts.onHandle?.(remoteRunHandle(layout, links));
  const totalBytes = (): ByteCounters => sum([...links.values()].map((l) => l.bytes()));

  try {
    const opening = Promise.allSettled(
      layout.workers.map(async (w) => {
        emit({ type: 'connecting', host: w.host.name, role: w.role });
        await linkOf(w.host.name).open();
      }),
    );
    // Aborting while hosts connect or deploy returns at once (the links close in `finally`).
    const opened = await unlessAborted(opening, opts.signal);
    if (opened === 'aborted') return interruptedResult(layout, links);
    const failures = opened.flatMap((r, i) => (r.status === 'rejected' ? [{ host: (layout.workers[i] as RemoteWorker).host.name, error: r.reason as Error }] : []));
    if (failures.length > 0) throw new RemoteHostsError(failures);
    const setup = totalBytes();
    const establish = async (restartIfDone: boolean): Promise<{ resumed: boolean }> => {
      const coordinator = linkOf(layout.coordinator.name);
      const created = await coordinator.call('task.create', { spec: layout.spec, restartIfDone });
      const endpoint = { ...created.coordinator, host: layout.coordinatorAddress };
      const join = { taskId: layout.spec.taskId, coordinator: endpoint, token: created.token };
      // Destinations first: a source with no destination to send to would only wait.
      for (const role of ['destination', 'source'] as const) {
        await Promise.all(
          layout.workers
            .filter((w) => w.role === role)
            .map((w) => linkOf(w.host.name).call('task.join', { ...join, role, root: w.root, ...(role === 'destination' ? { advertiseHost: w.advertiseHost } : {}) })),
        );
      }
      return { resumed: created.resumed };
    };
    const { resumed } = await establish(opts.restartIfDone ?? true);
    emit({
      type: 'started',
      taskId: layout.spec.taskId,
      resumed,
      coordinator: layout.coordinator.name,
      sources: layout.workers.filter((w) => w.role === 'source').map((w) => w.host.name),
      destinations: layout.workers.filter((w) => w.role === 'destination').map((w) => w.host.name),
    });
    // An agent that restarted while its link was down resumes from its home; joining again is
    // idempotent and covers a coordinator whose data port changed.
    let rejoin = false;
    for (const link of links.values()) {
      link.on('event', (e: LinkEvent) => {
        if (e.type === 'restored' && e.agentRestarted) rejoin = true;
      });
    }

    const status = await watch(layout, linkOf(layout.coordinator.name), opts, emit, async () => {
      if (!rejoin) return;
      rejoin = false;
      await establish(false);
    });
    const taskBytes = minus(totalBytes(), setup);
    let report: RemoteRunResult['report'] = null;
    if (status && (status.state === 'done' || status.state === 'failed')) {
      report = await linkOf(layout.coordinator.name).call('task.report', { taskId: layout.spec.taskId }).catch(() => null);
      if (report && opts.reportFile) await fs.writeFile(opts.reportFile, await linkOf(layout.coordinator.name).readFile(report.path));
    }
    const passed = status?.state === 'done' && report?.passed === true;
    if (status) emit({ type: 'finished', taskId: layout.spec.taskId, state: status.state, passed });
    return {
      taskId: layout.spec.taskId,
      layout,
      outcome: status ? 'finished' : 'interrupted',
      status,
      report,
      passed,
      bytes: { setup, task: taskBytes, total: totalBytes(), byHost: Object.fromEntries([...links].map(([n, l]) => [n, l.bytes()])) },
      reconnects: Object.fromEntries([...links].map(([n, l]) => [n, l.reconnects])),
      agents: Object.fromEntries([...links].map(([n, l]) => [n, { pid: l.agentPid, dataPort: l.dataPort }])),
    };
  } finally {
    await Promise.all([...links.values()].map((l) => l.close()));
  }
}

function interruptedResult(layout: RemoteTaskLayout, links: Map<string, AgentLink>): RemoteRunResult {
  const none = { sent: 0, received: 0 };
  const byHost = Object.fromEntries([...links].map(([n, l]) => [n, l.bytes()]));
  return {
    taskId: layout.spec.taskId,
    layout,
    outcome: 'interrupted',
    status: null,
    report: null,
    passed: false,
    bytes: { setup: sum(Object.values(byHost)), task: none, total: sum(Object.values(byHost)), byHost },
    reconnects: Object.fromEntries([...links].map(([n, l]) => [n, l.reconnects])),
    agents: Object.fromEntries([...links].map(([n, l]) => [n, { pid: l.agentPid, dataPort: l.dataPort }])),
  };
}

/** Polls until the task is final; null when aborted. Status errors during reconnects are retried. */
async function watch(
  layout: RemoteTaskLayout,
  coordinator: AgentLink,
  opts: RemoteRunOptions,
  emit: (e: RemoteRunEvent) => void,
  beforePoll: () => Promise<void>,
): Promise<TaskStatus | null> {
  const pollMs = opts.pollMs ?? STATUS_POLL_MS;
  for (;;) {
    if (opts.signal?.aborted) return null;
    try {
      await beforePoll();
      // Answers at once when the task ends, else after pollMs with the progress so far.
      const s = await unlessAborted(coordinator.call('task.wait', { taskId: layout.spec.taskId, waitMs: pollMs }), opts.signal);
      if (s === 'aborted') return null;
      emit({ type: 'status', status: s });
      if (s.state === 'done' || s.state === 'failed' || s.state === 'cancelled') return s;
      continue;
    } catch (err) {
      // A link that gave up (or was refused for good) ends the watch; a drop is retried.
      if (coordinator.state === 'failed' || coordinator.state === 'closed') throw err;
    }
    await sleep(pollMs, opts.signal);
  }
}

/** The promise's value, or 'aborted' as soon as the signal fires (a later value is dropped). */
async function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | 'aborted'> {
  if (!signal) return p;
  if (signal.aborted) return 'aborted';
  let onAbort = (): void => undefined;
  const abort = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, abort]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
