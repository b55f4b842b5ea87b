/**
 * The console contract: every call and event between the renderer and the controller.
 *
 * This is the only module of electron/ the renderer may import (as types and schemas). Both
 * transports (Electron IPC through the preload, and the web console's HTTP + WebSocket) carry
 * exactly these calls; both sides validate with these schemas. Pure: no IO, no Node APIs.
 *
 * Adding a call: add it to `consoleCalls`, implement it in the controller's handler table
 * (the compiler refuses a missing handler), and the renderer can call it.
 */
import { z } from 'zod';
import { HostFacts } from '../../agent/protocol/facts.ts';
import { DataAddress, HostAuth, MountSpec, PlanName, PlanState, PlanTask, Tunnel } from './plan.ts';
import { ProblemCategory, ProblemRecord, ReportHeader } from '../../agent/protocol/report.ts';
import {
  AgentDeployResult,
  AgentLogResult,
  AgentResult,
  AgentUninstallResult,
  HostIdRequest,
  HostSecret,
  HostStatus,
  HostTestResult,
  LogTailRequest,
  SshConfigApplyRequest,
  SshConfigApplyResult,
  SshConfigPreview,
  SshConfigSource,
  TrustKeyResult,
} from './host-ops.ts';
import { taskRunCalls, taskRunEvents } from './task-runs.ts';
import { scanCalls, scanEvents } from './scan-ops.ts';
import { mountOpCalls } from './mount-ops.ts';
import { addressCheckCalls } from './address-check.ts';

export { HostFacts, MountEntry, MountWarning, PrerequisiteCheck } from '../../agent/protocol/facts.ts';
export * from './plan.ts';
export * from './planning.ts';
export * from './host-ops.ts';
export * from './task-runs.ts';
export * from './scan-ops.ts';
export * from './mount-ops.ts';
export * from './address-check.ts';
export { ProblemCategory, ProblemRecord, ReportHeader, ReportPath, ReportSummary } from '../../agent/protocol/report.ts';
export { RECOMMENDED_NFS_OPTIONS, recommendedMountCommand } from '../../agent/protocol/nfs.ts';
export { DEFAULT_RANGE_SIZE } from '../../agent/protocol/task.ts';

/** Bumped on any incompatible change of calls or events; checked at the console handshake. */
export const CONSOLE_PROTOCOL_VERSION = 1;

export const AppInfo = z.object({
  name: z.literal('Ferry'),
  version: z.string(),
  protocolVersion: z.number().int(),
  dataDir: z.string(),
  shell: z.enum(['electron', 'web']),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const Locale = z.enum(['en', 'zh-CN']);
export type Locale = z.infer<typeof Locale>;
export const Theme = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof Theme>;

export const Settings = z.object({
  locale: Locale,
  theme: Theme,
});
export type Settings = z.infer<typeof Settings>;
export const DEFAULT_SETTINGS: Settings = { locale: 'en', theme: 'system' };

/** A host as the operator defines it. Secrets (passwords, passphrases) are never part of it. */
export const HostSpec = z.object({
  name: PlanName,
  address: z.string().trim().min(1, 'Give the host address (IP or DNS name).'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().trim().min(1, 'Give the SSH user.').default('root'),
  auth: HostAuth.default({ kind: 'agent' }),
  /** Name of another host to reach this one through. */
  jumpHost: PlanName.nullable().default(null),
  /** Address other hosts use for the data plane (the VPC address); default: `address`. */
  dataAddress: z.string().trim().min(1).nullable().default(null),
});
export type HostSpec = z.infer<typeof HostSpec>;

export const Host = HostSpec.extend({
  id: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Host = z.infer<typeof Host>;

/** A stored verification report, as the report list shows it. */
export const ReportMeta = z.object({
  id: z.string(),
  /** The plan task (or "cli" for reports imported from files) this report belongs to. */
  taskName: z.string(),
  taskId: z.string(),
  source: z.string(),
  destination: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  passed: z.boolean(),
  problems: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type ReportMeta = z.infer<typeof ReportMeta>;

/** 'pdf' is printed by the desktop app (Electron's printToPDF); the web console prints from the browser instead. */
export const ReportExportFormat = z.enum(['html', 'csv', 'json', 'pdf']);
export type ReportExportFormat = z.infer<typeof ReportExportFormat>;

export const ProblemQuery = z
  .object({
    id: z.string(),
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(2000).default(200),
    category: ProblemCategory.nullable().default(null),
    /** Case-insensitive substring of the displayed path. */
    search: z.string().max(4096).default(''),
  })
  .strict();

const empty = z.object({}).strict();

/** Call name -> request and response schemas. Types are inferred, never written twice. */
export const consoleCalls = {
  'app.info': { req: empty, res: AppInfo },
  'settings.get': { req: empty, res: Settings },
  'settings.update': { req: Settings.partial().strict(), res: Settings },
  'hosts.list': { req: empty, res: z.array(Host) },
  'hosts.add': { req: HostSpec.strict(), res: Host },
  'hosts.update': { req: z.object({ id: z.string(), spec: HostSpec.strict() }).strict(), res: Host },
  'hosts.remove': { req: z.object({ id: z.string() }).strict(), res: z.object({ removed: z.boolean() }) },
  'hosts.localFacts': { req: empty, res: HostFacts },
  /** Connects (reusing an open connection), probes the host's facts and its agent. Secrets stay in memory for this session. */
  'hosts.test': { req: z.object({ id: z.string().min(1), secret: HostSecret.optional() }).strict(), res: HostTestResult },
  /** Remembers the host's key in Ferry's known_hosts, only if it is the key the host presents now and Ferry has no other one for it. */
  'hosts.trustKey': { req: z.object({ id: z.string().min(1), fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'A fingerprint looks like SHA256: followed by 43 characters.') }).strict(), res: TrustKeyResult },
  /** Forgets a held password or passphrase and closes the host's connection. */
  'hosts.forgetSecret': { req: HostIdRequest, res: z.object({ forgotten: z.boolean() }) },
  'hosts.statusList': { req: empty, res: z.array(HostStatus) },
  /** Previews the hosts an OpenSSH client config defines (Host, HostName, User, Port, IdentityFile, ProxyJump). */
  'hosts.importSshConfig': { req: SshConfigSource, res: SshConfigPreview },
  /** Adds the chosen hosts of that config; names already in the inventory are skipped. */
  'hosts.importSshConfigApply': { req: SshConfigApplyRequest, res: SshConfigApplyResult },
  'agents.status': { req: HostIdRequest, res: AgentResult },
  /** Installs this Ferry's agent on the host (uploading only what changed) and (re)starts it: deploy and upgrade. */
  'agents.deploy': { req: HostIdRequest, res: AgentDeployResult },
  'agents.stop': { req: HostIdRequest, res: AgentResult },
  'agents.restart': { req: HostIdRequest, res: AgentResult },
  /** Stops the agent and removes its program and logs; its data (identity, journals) stays. */
  'agents.uninstall': { req: HostIdRequest, res: AgentUninstallResult },
  'agents.logTail': { req: LogTailRequest, res: AgentLogResult },
  'plan.get': { req: empty, res: PlanState },
  'plan.exportYaml': { req: empty, res: z.object({ yaml: z.string() }) },
  'plan.importYaml': {
    req: z.object({ yaml: z.string().max(4 * 1024 * 1024) }).strict(),
    res: z.object({ hostsAdded: z.number(), hostsUpdated: z.number(), plan: PlanState }),
  },
  'tunnels.save': { req: z.object({ tunnel: Tunnel, previousName: PlanName.optional() }).strict(), res: PlanState },
  'tunnels.remove': { req: z.object({ name: PlanName }).strict(), res: PlanState },
  'mounts.save': { req: z.object({ mount: MountSpec }).strict(), res: PlanState },
  'mounts.remove': { req: z.object({ tunnel: PlanName, directory: z.string() }).strict(), res: PlanState },
  'addresses.save': { req: z.object({ address: DataAddress, previousName: PlanName.optional() }).strict(), res: PlanState },
  'addresses.remove': { req: z.object({ name: PlanName }).strict(), res: PlanState },
  'taskDefs.save': { req: z.object({ task: PlanTask, previousName: PlanName.optional() }).strict(), res: PlanState },
  'taskDefs.remove': { req: z.object({ name: PlanName }).strict(), res: PlanState },
  'reports.list': { req: empty, res: z.array(ReportMeta) },
  'reports.get': { req: z.object({ id: z.string() }).strict(), res: z.object({ meta: ReportMeta, header: ReportHeader }) },
  'reports.problems': { req: ProblemQuery, res: z.object({ total: z.number().int(), offset: z.number().int(), records: z.array(ProblemRecord) }) },
  /** Adds a report file (e.g. one written by `ferry migrate --report`) to the stored reports. */
  'reports.importFile': { req: z.object({ path: z.string().min(1), taskName: z.string().default('imported') }).strict(), res: ReportMeta },
  /**
   * Writes an export into `<data-dir>/exports/` and returns its name; the web console downloads it
   * from `GET /api/exports/<fileName>` (same bearer token), the desktop app shows it in its folder.
   * 'pdf' only where the shell can print (AppInfo.shell 'electron'); elsewhere it is an
   * 'invalid-request' saying to use the print page and the browser's "Save as PDF".
   */
  'reports.export': {
    req: z.object({ id: z.string(), format: ReportExportFormat }).strict(),
    res: z.object({ fileName: z.string(), path: z.string(), bytes: z.number().int() }),
  },
  'reports.remove': { req: z.object({ id: z.string() }).strict(), res: z.object({ removed: z.boolean() }) },
  ...taskRunCalls,
  ...scanCalls,
  ...mountOpCalls,
  ...addressCheckCalls,
} as const;

export type ConsoleCalls = typeof consoleCalls;
export type CallName = keyof ConsoleCalls;
export type CallRequest<N extends CallName> = z.input<ConsoleCalls[N]['req']>;
export type CallRequestParsed<N extends CallName> = z.output<ConsoleCalls[N]['req']>;
export type CallResponse<N extends CallName> = z.output<ConsoleCalls[N]['res']>;

/** Event name -> payload schema. Events carry full snapshots of what changed, so a store can replace its state. */
export const consoleEvents = {
  'hosts.changed': z.array(Host),
  /** Live connection and agent state of every host (a full snapshot). */
  'hosts.status': z.array(HostStatus),
  'settings.changed': Settings,
  'plan.changed': PlanState,
  'reports.changed': z.array(ReportMeta),
  ...taskRunEvents,
  ...scanEvents,
} as const;
export type ConsoleEvents = typeof consoleEvents;
export type EventName = keyof ConsoleEvents;
export type EventPayload<E extends EventName> = z.output<ConsoleEvents[E]>;

export const callNames = Object.keys(consoleCalls) as CallName[];
export const eventNames = Object.keys(consoleEvents) as EventName[];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(consoleCalls, name);
}

/** Stable error codes that cross the console boundary; the renderer translates them. */
export const ConsoleErrorCode = z.enum([
  'bad-json',
  'unauthorized',
  'forbidden-origin',
  'unknown-call',
  'invalid-request',
  'not-found',
  'conflict',
  'version-mismatch',
  'internal',
]);
export type ConsoleErrorCode = z.infer<typeof ConsoleErrorCode>;

export const ConsoleError = z.object({
  code: ConsoleErrorCode,
  message: z.string(),
  /** Field-level problems for invalid-request: dotted path -> what to fix. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ConsoleError = z.infer<typeof ConsoleError>;

/** Envelope of every call result, on both transports. */
export const CallResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: ConsoleError }),
]);
export type CallResult = z.infer<typeof CallResult>;

/** Envelope of every event pushed to the renderer. */
export const EventEnvelope = z.object({ event: z.string(), payload: z.unknown() });
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** First message on the web console's event socket, and the answer of the preload's hello. */
export const Hello = z.object({ protocolVersion: z.number().int(), appVersion: z.string() });
export type Hello = z.infer<typeof Hello>;
