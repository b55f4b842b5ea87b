/**
 * Pre-scans of plan tasks (`tasks.scan`, `tasks.scans`): runs `agent.mjs scan DIR --json` on the
 * first reachable host of the task's source address (every host of a tunnel mounts the same NAS,
 * so one host sees the whole tree), over that host's HostSessions connection, with the agent
 * version of this Ferry: installed first when it is missing or incomplete (the same deployAgent
 * the Hosts step uses; only what changed is uploaded). The agent does not need to be running.
 * The result, the agent's ScanSummary plus an estimate from the planning numbers, is the task's
 * last scan, kept in `<data-dir>/scans.json` so the Task step shows it when revisited.
 *
 * One scan per task at a time; the call answers at once and the record is pushed with
 * `scans.changed` when it ends. Never writes on a host outside the agent's home and never scans
 * anything but the source address's directory (read-only).
 */
import path from 'node:path';
import { z } from 'zod';
import { ScanSummary, SCAN_EXIT_NOT_A_DIRECTORY } from '../../agent/protocol/scan.ts';
import { AGENT_NODE_FLAGS } from '../../agent/runtime-flags.ts';
import {
  DEFAULT_INSTANCE_GBPS,
  DEFAULT_SCAN_MAX_SECONDS,
  estimateTransfer,
  ScanRecord,
  type CallRequestParsed,
  type DataAddress,
  type Host,
  type HostFailure,
  type Plan,
  type ScanEstimate,
} from '../contract/console.ts';
import { agentStatus } from '../hosts/agent-control.ts';
import { BUNDLE_PATH, RUNTIME_PATH } from '../hosts/agent-layout.ts';
import { deployAgent } from '../hosts/deploy.ts';
import type { SshSession } from '../ssh/session.ts';
import { shQuote } from '../ssh/shell.ts';
import { agentBuildVersion, isAppAgentVersion, locateAgentBuild } from './agent-build.ts';
import { toAgentState } from './agents-service.ts';
import { ControllerError } from './errors.ts';
import { hostFailure, HostOpError } from './host-failures.ts';
import type { HostSessions } from './host-sessions.ts';
import { JsonStore } from './store/json-store.ts';

/** Time the SSH command gets beyond the scan's own limit (runtime start-up, a slow stat at the end). */
const EXEC_GRACE_MS = 120_000;
/** A failure on one host that another host of the tunnel may not have: try the next one. */
const TRY_NEXT_HOST: readonly HostFailure['code'][] = ['unreachable', 'timeout', 'connection-lost', 'busy', 'protocol'];

const ScansFile = z.object({ version: z.literal(1), scans: z.array(ScanRecord) });

export interface ScanServiceOptions {
  dataDir: string;
  sessions: HostSessions;
  plan: () => Promise<Plan>;
  hosts: () => Promise<Host[]>;
  appVersion: string;
  distDir: string;
  onChanged: (scans: ScanRecord[]) => void;
}

interface Target {
  task: string;
  address: DataAddress;
  hosts: Host[];
  sourceInstances: number;
  destinationInstances: number;
}

export class ScanService {
  private readonly store: JsonStore<typeof ScansFile>;
  /** Tasks with a scan starting or running (reserved synchronously by start()). */
  private readonly running = new Set<string>();
  /** Set by close(): no new host is tried and nothing more is written (an unfinished scan reads as interrupted next time). */
  private closing = false;

  constructor(private readonly options: ScanServiceOptions) {
    this.store = new JsonStore(path.join(options.dataDir, 'scans.json'), ScansFile, () => ({ version: 1 as const, scans: [] }));
  }

  /** Loads the file; a scan that was running when Ferry closed is recorded as interrupted. */
  async open(): Promise<void> {
    const file = await this.store.load();
    if (!file.scans.some((s) => s.state === 'running')) return;
    await this.store.update((f) => ({
      ...f,
      scans: f.scans.map((s) =>
        s.state !== 'running'
          ? s
          : { ...s, state: 'failed' as const, finishedAt: new Date().toISOString(), failure: interruptedFailure(s.host) },
      ),
    }));
  }

  async list(): Promise<ScanRecord[]> {
    return (await this.store.load()).scans;
  }

  /**
   * tasks.scan: checks the task and its source, records the running scan and starts it. The task
   * is reserved before the first await, so two calls at once cannot both start a scan of it.
   */
  async start(req: CallRequestParsed<'tasks.scan'>): Promise<ScanRecord> {
    if (this.running.has(req.task)) throw new ControllerError('conflict', `A scan of task "${req.task}" is running. Wait for it to finish.`);
    this.running.add(req.task);
    let record: ScanRecord;
    let target: Target;
    try {
      target = await this.target(req.task);
      record = {
        task: req.task,
        source: target.address.name,
        directory: target.address.directory,
        state: 'running',
        host: null,
        startedAt: new Date().toISOString(),
        finishedAt: null,
        summary: null,
        estimate: null,
        failure: null,
      };
      await this.put(record);
    } catch (err) {
      this.running.delete(req.task);
      throw err;
    }
    void this.scan(target, record, req.instanceGbps ?? DEFAULT_INSTANCE_GBPS, req.maxSeconds ?? DEFAULT_SCAN_MAX_SECONDS)
      .catch((err: unknown) => this.recordBroken(record, err))
      .finally(() => this.running.delete(req.task));
    return record;
  }

  /**
   * A scan that threw instead of ending with a record (its host left the inventory, the store
   * could not be written): recorded as failed so it never stays 'running'. Never throws.
   */
  private async recordBroken(record: ScanRecord, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    const failure: HostFailure = {
      ...interruptedFailure(record.host),
      code: 'command-failed',
      message: `The scan of ${record.directory} stopped before it had a result: ${reason} Check the hosts of the source address in the Hosts step, then scan again.`,
    };
    await this.put({ ...record, state: 'failed', finishedAt: new Date().toISOString(), failure }).catch(() => undefined);
  }

  /**
   * On shutdown: stops trying hosts and writing records. A scan still running on a host ends by
   * its own time limit (it only reads); its record stays 'running' on disk and open() marks it
   * interrupted.
   */
  close(): Promise<void> {
    this.closing = true;
    return Promise.resolve();
  }

  private async target(taskName: string): Promise<Target> {
    const [plan, inventory] = await Promise.all([this.options.plan(), this.options.hosts()]);
    const task = plan.tasks.find((t) => t.name === taskName);
    if (!task) throw new ControllerError('not-found', `No task named "${taskName}". Reload the Task step.`);
    const address = plan.addresses.find((a) => a.name === task.source);
    if (!address) throw new ControllerError('not-found', `Task "${taskName}" reads from "${task.source}", which is not a data address. Fix the task or add the address.`);
    const names = agentsOf(plan, address);
    if (names.length === 0) throw new ControllerError('not-found', `The source address "${address.name}" has no host to scan from: its tunnel "${address.tunnel}" is missing or empty. Fix it in the Tunnels step.`);
    const hosts = names.map((n) => inventory.find((h) => h.name === n)).filter((h): h is Host => h !== undefined);
    if (hosts.length === 0) throw new ControllerError('not-found', `None of the hosts of tunnel "${address.tunnel}" (${names.join(', ')}) is in the inventory. Add them in the Hosts step.`);
    const destination = plan.addresses.find((a) => a.name === task.destination);
    return { task: taskName, address, hosts, sourceInstances: names.length, destinationInstances: destination ? agentsOf(plan, destination).length : names.length };
  }

  private async scan(target: Target, record: ScanRecord, instanceGbps: number, maxSeconds: number): Promise<ScanRecord> {
    let firstFailure: HostFailure | null = null;
    for (const host of target.hosts) {
      if (this.closing) return record;
      const result = await this.options.sessions.run(host.id, 'checking', ({ session }) => this.scanOn(host, session, target.address.directory, maxSeconds));
      if (result.ok) {
        const done: ScanRecord = { ...record, state: 'done', host: host.name, finishedAt: new Date().toISOString(), summary: result.summary, estimate: estimateOf(result.summary, target, instanceGbps) };
        await this.put(done);
        return done;
      }
      firstFailure ??= result.failure;
      if (!TRY_NEXT_HOST.includes(result.failure.code)) {
        firstFailure = result.failure;
        break;
      }
    }
    const failed: ScanRecord = { ...record, state: 'failed', host: firstFailure?.hostName ?? null, finishedAt: new Date().toISOString(), failure: firstFailure ?? interruptedFailure(null) };
    await this.put(failed);
    return failed;
  }

  /** On one host: this Ferry's agent installed (deployed when needed), then the scan. */
  private async scanOn(host: Host, session: SshSession, directory: string, maxSeconds: number): Promise<{ summary: ScanSummary }> {
    if (this.closing) throw new HostOpError(interruptedFailure(host.name));
    const dir = await this.agentDir(host, session);
    const command = [`${dir}/${RUNTIME_PATH}`, ...AGENT_NODE_FLAGS, `${dir}/${BUNDLE_PATH}`, 'scan', directory, '--json', '--max-seconds', String(maxSeconds)].map(shQuote).join(' ');
    const out = await session.exec(command, { timeoutMs: maxSeconds * 1000 + EXEC_GRACE_MS });
    const stderr = out.stderr.toString('utf8').trim();
    if (out.code === SCAN_EXIT_NOT_A_DIRECTORY) {
      throw new HostOpError(hostFailure(host, 'command-failed', `${host.name} cannot scan ${directory}: ${stderr} Check that the NAS is mounted there (Mounts step) and that the data address names the right directory.`));
    }
    if (out.code !== 0) {
      throw new HostOpError(hostFailure(host, 'command-failed', `The scan of ${directory} on ${host.name} failed (${out.code === null ? `signal ${out.signal}` : `exit ${out.code}`}): ${stderr.split('\n').slice(-5).join(' ') || 'no message'}. Check that ${host.name} can read ${directory} and has free memory, deploy this Ferry's agent again (Hosts step) if the message names the agent, then scan again.`));
    }
    const line = out.stdout.toString('utf8').trim().split('\n').pop() ?? '';
    let parsed: ReturnType<typeof ScanSummary.safeParse>;
    try {
      parsed = ScanSummary.safeParse(JSON.parse(line));
    } catch {
      parsed = ScanSummary.safeParse(undefined);
    }
    if (!parsed.success) {
      throw new HostOpError(hostFailure(host, 'protocol', `The agent on ${host.name} answered the scan with something Ferry cannot read. Deploy this Ferry's agent again (Hosts step) and scan again.`));
    }
    return { summary: parsed.data };
  }

  /** The version directory of this Ferry's agent on the host, deploying it when this build has one. */
  private async agentDir(host: Host, session: SshSession): Promise<string> {
    const build = locateAgentBuild(this.options.distDir);
    const version = await agentBuildVersion(build, this.options.appVersion);
    if (build.files) {
      const deployed = await deployAgent(session, { version, localFiles: build.files });
      // What the Hosts step shows about the agent changed when something was installed.
      if (!deployed.alreadyInstalled) this.options.sessions.recordAgent(host.id, toAgentState(await agentStatus(session), version));
      return deployed.dir;
    }
    const status = await agentStatus(session);
    const installed = [status.currentVersion, ...status.installedVersions].find((v): v is string => v !== null && isAppAgentVersion(v, this.options.appVersion));
    if (!installed) {
      throw new HostOpError(
        hostFailure(
          host,
          'agent-not-installed',
          `The agent ${this.options.appVersion} is not installed on ${host.name}, and this Ferry has no agent build to install (${build.distDir}/agent/agent.mjs is missing). Build it with "node build/build.mjs", or deploy the agent from the Hosts step, then scan again.`,
        ),
      );
    }
    return `${status.home}/agent/${installed}`;
  }

  private async put(record: ScanRecord): Promise<void> {
    if (this.closing) return;
    const file = await this.store.update((f) => ({ ...f, scans: [...f.scans.filter((s) => s.task !== record.task), record] }));
    this.options.onChanged(file.scans);
  }
}

function agentsOf(plan: Plan, address: DataAddress): string[] {
  return address.agents ?? plan.tunnels.find((t) => t.name === address.tunnel)?.hosts ?? [];
}

function estimateOf(summary: ScanSummary, target: Target, instanceGbps: number): ScanEstimate {
  const instances = Math.max(1, Math.min(target.sourceInstances, target.destinationInstances));
  const e = estimateTransfer({ bytes: summary.bytes, entries: summary.entries, instances, instanceGbps });
  return { ...e, sourceInstances: target.sourceInstances, destinationInstances: target.destinationInstances, lowerBound: summary.partial };
}

function interruptedFailure(hostName: string | null): HostFailure {
  return {
    code: 'connection-lost',
    message: 'Ferry was closed (or lost the host) while this scan ran, so it has no result. Scan again.',
    stage: 'target',
    hostId: '',
    hostName: hostName ?? '',
    hostKey: null,
    authMethod: null,
    logTail: null,
  };
}
