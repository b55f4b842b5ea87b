/**
 * The controller: Ferry's state on the operator's workstation and the one implementation of
 * the console contract. Both shells (Electron main, web console server) hand it raw call names
 * and payloads; `dispatch` validates them with the contract's schemas, runs the handler and
 * validates the result, so a bad payload never reaches a handler and never changes state.
 *
 * Plain Node: it must never import `electron` (the web console and tests run it without Electron).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import {
  CONSOLE_PROTOCOL_VERSION,
  consoleCalls,
  isCallName,
  type AppInfo,
  type CallName,
  type CallRequestParsed,
  type CallResponse,
  type CallResult,
  type EventEnvelope,
  type EventName,
  type EventPayload,
  type Hello,
} from '../contract/console.ts';
import { probeHostFacts } from '../../agent/probe/host-facts.ts';
import { ControllerError, toConsoleError } from './errors.ts';
import { HostsService } from './hosts-service.ts';
import { SettingsService } from './settings-service.ts';
import { PlanService } from './plan-service.ts';
import { importPlanYaml } from './plan-import.ts';
import { planToYaml } from '../plan/plan-file.ts';
import { ReportsService } from '../reports/reports-service.ts';
import type { PdfPrinter } from '../reports/pdf-export.ts';
import { removeStaleTempFiles } from './store/atomic-file.ts';
import { HostSessions } from './host-sessions.ts';
import { AgentsService } from './agents-service.ts';
import { findDistDir } from './agent-build.ts';
import { MemorySecretStore, type SecretStore } from './secrets.ts';
import { applySshConfig, previewSshConfig } from './ssh-config-import.ts';
import { RunAccess } from './run-access.ts';
import { runAgentFiles, TaskRunsService } from './task-runs-service.ts';
import { MountsService } from './mounts-service.ts';
import { AddressCheckService } from './address-check.ts';
import { ScanService } from './scan-service.ts';
import { RunScheduler, type SchedulerClock } from './run-scheduler.ts';

export interface ControllerOptions {
  dataDir: string;
  appVersion: string;
  shell: AppInfo['shell'];
  /** Where passwords and passphrases live; default: in memory for this process only. */
  secrets?: SecretStore;
  /** The user's known_hosts (read only); default ~/.ssh/known_hosts; null to ignore it. */
  userKnownHostsFile?: string | null;
  /** The build whose agent is deployed (dist/ with agent/, runtime/, native/); default ./dist of a source checkout. */
  distDir?: string;
  /** The repeat schedule's clock and timers; default the system's (tests advance their own). */
  clock?: SchedulerClock;
  /** Prints a local page to PDF (the desktop app's printToPDF); without it reports.export 'pdf' is refused. */
  printPdf?: PdfPrinter;
}

type Handlers = { [N in CallName]: (req: CallRequestParsed<N>) => Promise<CallResponse<N>> };

export class Controller {
  private readonly events = new EventEmitter();
  readonly hosts: HostsService;
  readonly settings: SettingsService;
  readonly plan: PlanService;
  readonly reports: ReportsService;
  readonly hostSessions: HostSessions;
  readonly agents: AgentsService;
  readonly runs: TaskRunsService;
  readonly mounts: MountsService;
  readonly addressChecks: AddressCheckService;
  readonly scans: ScanService;
  readonly scheduler: RunScheduler;
  private readonly handlers: Handlers;

  private constructor(private readonly options: ControllerOptions) {
    const secrets = options.secrets ?? new MemorySecretStore();
    this.hosts = new HostsService(
      options.dataDir,
      (hosts) => {
        this.emit('hosts.changed', hosts);
        this.hostSessions.hostsChanged(hosts);
      },
      (name) => this.hostUsage(name),
    );
    this.hostSessions = new HostSessions({
      dataDir: options.dataDir,
      secrets,
      hosts: () => this.hosts.list(),
      onStatus: (statuses) => this.emit('hosts.status', statuses),
      ...(options.userKnownHostsFile !== undefined ? { userKnownHostsFile: options.userKnownHostsFile } : {}),
    });
    this.agents = new AgentsService(this.hostSessions, options.appVersion, findDistDir(options.distDir));
    this.plan = new PlanService(options.dataDir, () => this.hosts.list(), (state) => this.emit('plan.changed', state));
    this.reports = new ReportsService(options.dataDir, (reports) => this.emit('reports.changed', reports), options.printPdf ?? null);
    this.settings = new SettingsService(options.dataDir, (s) => this.emit('settings.changed', s));
    this.runs = new TaskRunsService({
      dataDir: options.dataDir,
      access: new RunAccess(secrets, this.hostSessions.keys, () => this.hosts.list()),
      plan: () => this.plan.fullPlan(),
      // The same label as the Hosts step's deploy (app version + hash), so a run reuses that agent.
      agentFiles: () => ({ ...runAgentFiles(findDistDir(options.distDir)), versionBase: options.appVersion }),
      importReport: (file, taskName) => this.reports.importFile({ path: file, taskName }),
      onRuns: (runs) => this.emit('runs.changed', runs),
      onProgress: (snapshot) => this.emit('runs.progress', snapshot),
      onWatchEnded: () => void this.scheduler.refresh().catch(() => undefined),
    });
    this.scheduler = new RunScheduler({
      dataDir: options.dataDir,
      ...(options.clock ? { clock: options.clock } : {}),
      tasks: async () => (await this.plan.get()).tasks,
      runs: () => this.runs.list(),
      busy: (task) => this.runs.busy(task),
      start: (task) => this.runs.start({ task }, 'schedule'),
      onSchedule: (schedules) => this.emit('runs.schedule', schedules),
    });
    this.scans = new ScanService({
      dataDir: options.dataDir,
      sessions: this.hostSessions,
      plan: () => this.plan.fullPlan(),
      hosts: () => this.hosts.list(),
      appVersion: options.appVersion,
      distDir: findDistDir(options.distDir),
      onChanged: (scans) => this.emit('scans.changed', scans),
    });
    this.mounts = new MountsService({ sessions: this.hostSessions, plan: () => this.plan.get(), hosts: () => this.hosts.list() });
    this.addressChecks = new AddressCheckService({ sessions: this.hostSessions, plan: () => this.plan.get(), hosts: () => this.hosts.list() });
    this.handlers = {
      'app.info': async () => this.info(),
      'settings.get': () => this.settings.get(),
      'settings.update': (patch) => this.settings.update(patch),
      'hosts.list': () => this.hosts.list(),
      'hosts.add': (spec) => this.hosts.add(spec),
      'hosts.update': ({ id, spec }) => this.hosts.update(id, spec),
      'hosts.remove': async ({ id }) => ({ removed: await this.hosts.remove(id) }),
      'hosts.localFacts': () => probeHostFacts(this.options.dataDir),
      'hosts.test': ({ id, secret }) => this.agents.test(id, secret),
      'hosts.trustKey': ({ id, fingerprint }) => this.hostSessions.trustKey(id, fingerprint),
      'hosts.forgetSecret': async ({ id }) => ({ forgotten: await this.hostSessions.forgetSecret(id) }),
      'hosts.statusList': async () => this.hostSessions.statuses(await this.hosts.list()),
      'hosts.importSshConfig': (source) => previewSshConfig(source, this.hosts),
      'hosts.importSshConfigApply': (req) => applySshConfig(req, this.hosts),
      'agents.status': ({ id }) => this.agents.status(id),
      'agents.deploy': ({ id }) => this.agents.deploy(id),
      'agents.stop': ({ id }) => this.agents.stop(id),
      'agents.restart': ({ id }) => this.agents.restart(id),
      'agents.uninstall': ({ id }) => this.agents.uninstall(id),
      'agents.logTail': ({ id, lines }) => this.agents.logTail(id, lines),
      'plan.get': () => this.plan.get(),
      'plan.exportYaml': async () => ({ yaml: planToYaml(await this.plan.fullPlan()) }),
      'plan.importYaml': ({ yaml }) => importPlanYaml(yaml, this.hosts, this.plan),
      'tunnels.save': ({ tunnel, previousName }) => this.plan.save('tunnels', tunnel, previousName),
      'tunnels.remove': ({ name }) => this.plan.remove('tunnels', name),
      'mounts.save': ({ mount }) => this.plan.saveMount(mount),
      'mounts.remove': ({ tunnel, directory }) => this.plan.removeMount(tunnel, directory),
      'addresses.save': ({ address, previousName }) => this.plan.save('addresses', address, previousName),
      'addresses.remove': ({ name }) => this.plan.remove('addresses', name),
      'taskDefs.save': ({ task, previousName }) => this.plan.save('tasks', task, previousName),
      'taskDefs.remove': ({ name }) => this.plan.remove('tasks', name),
      'reports.list': () => this.reports.list(),
      'reports.get': (req) => this.reports.get(req),
      'reports.problems': (req) => this.reports.problems(req),
      'reports.importFile': (req) => this.reports.importFile(req),
      'reports.export': (req) => this.reports.export(req),
      'reports.remove': (req) => this.reports.remove(req),
      'runs.list': () => this.runs.list(),
      'runs.start': (req) => this.runs.start(req),
      'runs.get': (req) => this.runs.get(req),
      'runs.pause': (req) => this.runs.pause(req),
      'runs.resume': (req) => this.runs.resume(req),
      'runs.cancel': (req) => this.runs.cancel(req),
      'mounts.check': ({ tunnel, directory }) => this.mounts.check(tunnel, directory),
      'mounts.apply': (req) => this.mounts.apply(req),
      'addresses.check': ({ name }) => this.addressChecks.check(name),
      'tasks.scan': (req) => this.scans.start(req),
      'tasks.scans': () => this.scans.list(),
      'runs.schedule': () => this.scheduler.list(),
    };
  }

  /** Creates the data directory if needed, clears crash leftovers and loads the stores (failing loudly if corrupt). */
  static async open(options: ControllerOptions): Promise<Controller> {
    const dataDir = path.resolve(options.dataDir);
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    await removeStaleTempFiles(dataDir);
    const controller = new Controller({ ...options, dataDir });
    await Promise.all([controller.hosts.list(), controller.settings.get(), controller.plan.get(), controller.runs.list(), controller.reports.list()]);
    // Runs that had not ended when Ferry closed are watched again (their tasks ran on meanwhile).
    await controller.runs.reattachAll();
    await controller.scans.open();
    await controller.scheduler.start();
    return controller;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  hello(): Hello {
    return { protocolVersion: CONSOLE_PROTOCOL_VERSION, appVersion: this.options.appVersion };
  }

  info(): AppInfo {
    return {
      name: 'Ferry',
      version: this.options.appVersion,
      protocolVersion: CONSOLE_PROTOCOL_VERSION,
      dataDir: this.options.dataDir,
      shell: this.options.shell,
    };
  }

  /** Where a host is referenced in the plan (tunnels, jump hosts), for refusing removals that would break it. */
  private async hostUsage(name: string): Promise<string[]> {
    const [state, hosts] = await Promise.all([this.plan.get(), this.hosts.list()]);
    return [
      ...state.tunnels.filter((t) => t.hosts.includes(name)).map((t) => `tunnel "${t.name}"`),
      ...hosts.filter((h) => h.jumpHost === name).map((h) => `host "${h.name}" (as its jump host)`),
    ];
  }

  /** Runs one call from an untrusted transport. Never throws: errors come back as `{ok:false}`. */
  async dispatch(name: unknown, payload: unknown): Promise<CallResult> {
    try {
      if (!isCallName(name)) {
        throw new ControllerError('unknown-call', `Unknown call "${String(name)}". This console may be newer or older than Ferry; reload it.`);
      }
      return { ok: true, result: await this.run(name, payload) };
    } catch (err) {
      return { ok: false, error: toConsoleError(err) };
    }
  }

  private async run<N extends CallName>(name: N, payload: unknown): Promise<CallResponse<N>> {
    const spec = consoleCalls[name];
    const parsed = spec.req.safeParse(payload ?? {});
    if (!parsed.success) throw ControllerError.fromZod(name, parsed.error);
    const handler = this.handlers[name] as (req: unknown) => Promise<CallResponse<N>>;
    const result = await handler(parsed.data);
    return spec.res.parse(result) as CallResponse<N>;
  }

  /** Closes the SSH connections Ferry holds (agents on hosts keep running). */
  async close(): Promise<void> {
    await this.scheduler.close();
    await this.scans.close();
    await this.runs.close();
    await this.hostSessions.closeAll();
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: (event: EventEnvelope) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.events.emit('event', { event, payload } satisfies EventEnvelope);
    // Any change of the plan or of the runs may move a task's next run.
    if (event === 'plan.changed' || event === 'runs.changed') this.scheduler.refresh().catch(() => undefined);
  }
}
