/**
 * The migration plan: hosts, tunnels, data addresses, mounts and tasks, as the operator writes it
 * in a YAML plan file and as the console edits it. Pure schemas plus the static cross-checks
 * (names, references, roles); the live checks over SSH (directory present, same mount on every
 * host, read/write access) live in the controller.
 *
 *   hosts:     machines Ferry reaches over SSH
 *   tunnels:   a set of hosts on one side (source or destination)
 *   addresses: a tunnel + the agents used + the directory where the NAS is mounted (same path on every host)
 *   tasks:     a source address -> a destination address, with options
 */
import { z } from 'zod';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const PlanName = z
  .string()
  .trim()
  .min(1, 'Give it a name.')
  .max(64, 'Names are at most 64 characters.')
  .regex(NAME, 'Use letters, digits, dot, dash and underscore; start with a letter or digit.');

/** An absolute, normalised directory other than "/" itself. */
export const MountDirectory = z
  .string()
  .refine((p) => p.startsWith('/'), 'Use an absolute path, such as /mnt/nas.')
  .refine((p) => p !== '/' && !p.endsWith('/'), 'Name the mount directory itself, without a trailing slash, and not "/".')
  .refine((p) => !p.split('/').some((c) => c === '.' || c === '..'), 'Do not use "." or ".." in the path.')
  .refine((p) => !p.includes('//'), 'The path has an empty component ("//").');

export const HostAuth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('agent') }).strict(),
  z.object({ kind: z.literal('key'), keyFile: z.string().min(1, 'Name the private key file.') }).strict(),
  z.object({ kind: z.literal('password') }).strict(),
]);
export type HostAuth = z.infer<typeof HostAuth>;

export const PlanHost = z
  .object({
    name: PlanName,
    address: z.string().trim().min(1, 'Give the host address (IP or DNS name).'),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().trim().min(1).default('root'),
    auth: HostAuth.default({ kind: 'agent' }),
    jumpHost: PlanName.nullable().default(null),
    /** Address other hosts use for the data plane (the VPC address); default: `address`. */
    dataAddress: z.string().trim().min(1).nullable().default(null),
  })
  .strict();
export type PlanHost = z.infer<typeof PlanHost>;

export const Tunnel = z
  .object({
    name: PlanName,
    role: z.enum(['source', 'destination']),
    hosts: z.array(PlanName).min(1, 'A tunnel needs at least one host.'),
  })
  .strict();
export type Tunnel = z.infer<typeof Tunnel>;

export const NasType = z.enum(['general', 'extreme']);
export type NasType = z.infer<typeof NasType>;

export const MountSpec = z
  .object({
    tunnel: PlanName,
    nasType: NasType.default('general'),
    // mount would read "-x:/export" as an option, not as the NAS.
    server: z
      .string()
      .trim()
      .min(1, 'Give the NAS mount address.')
      .refine((v) => !v.startsWith('-'), 'The NAS mount address cannot start with "-" (mount would read it as an option): give the host name or IP address of the NAS.'),
    export: z.string().trim().min(1).refine((p) => p.startsWith('/'), 'The export path starts with "/".'),
    directory: MountDirectory,
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.nasType === 'extreme' && !/^\/share(\/|$)/.test(m.export)) {
      ctx.addIssue({ code: 'custom', path: ['export'], message: 'Extreme NAS exports start with /share (for example /share or /share/data).' });
    }
  });
export type MountSpec = z.infer<typeof MountSpec>;

export const DataAddress = z
  .object({
    name: PlanName,
    tunnel: PlanName,
    directory: MountDirectory,
    /** The tunnel's hosts whose agents serve this address; default all of them. */
    agents: z.array(PlanName).min(1).optional(),
  })
  .strict();
export type DataAddress = z.infer<typeof DataAddress>;

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
/** A time-of-day window (agent's local time); `from` after `to` wraps past midnight. */
export const BandwidthWindow = z
  .object({
    from: z.string().regex(TIME, 'Use HH:MM (24 h).'),
    to: z.string().regex(TIME, 'Use HH:MM (24 h).'),
  })
  .strict();

export const TaskOptions = z
  .object({
    mode: z.enum(['full', 'incremental']).default('full'),
    checksum: z.boolean().default(false),
    overwrite: z.enum(['always', 'never', 'if-newer', 'if-different']).default('if-different'),
    include: z.array(z.string().min(1)).default([]),
    exclude: z.array(z.string().min(1)).default([]),
    /** Only entries modified at or after / before these ISO dates. */
    newerThan: z.iso.datetime({ offset: true }).nullable().default(null),
    olderThan: z.iso.datetime({ offset: true }).nullable().default(null),
    mirror: z.boolean().default(false),
    /** Limit in bytes per second (null: unlimited), applied only inside the windows (always, when there are none). */
    bandwidth: z
      .object({ bytesPerSecond: z.number().int().positive().nullable().default(null), windows: z.array(BandwidthWindow).default([]) })
      .strict()
      .default({ bytesPerSecond: null, windows: [] }),
    verify: z.enum(['none', 'transferred', 'full']).default('transferred'),
    concurrency: z.number().int().min(1).max(256).nullable().default(null),
    /** Files larger than this are split into ranges of this size, copied in parallel (null: the engine's 128 MiB). */
    rangeSize: z
      .number()
      .int('Use a whole number of bytes.')
      .min(1024 * 1024, 'At least 1 MiB.')
      .max(2 ** 40, 'At most 1 TiB (1,048,576 MiB).')
      .nullable()
      .default(null),
    dryRun: z.boolean().default(false),
  })
  .strict();
export type TaskOptions = z.infer<typeof TaskOptions>;

export const PlanTask = z
  .object({
    name: PlanName,
    source: PlanName,
    destination: PlanName,
    options: TaskOptions.default(TaskOptions.parse({})),
    /** Repeat as incremental runs every N hours after the first run; null: run once. */
    repeatEveryHours: z.number().positive().nullable().default(null),
  })
  .strict();
export type PlanTask = z.infer<typeof PlanTask>;

export const PLAN_VERSION = 1;
export const Plan = z
  .object({
    version: z.literal(PLAN_VERSION),
    hosts: z.array(PlanHost).default([]),
    tunnels: z.array(Tunnel).default([]),
    mounts: z.array(MountSpec).default([]),
    addresses: z.array(DataAddress).default([]),
    tasks: z.array(PlanTask).default([]),
  })
  .strict();
export type Plan = z.infer<typeof Plan>;

/** The plan as the controller stores it: everything but the hosts, which the inventory owns. */
export const PlanState = z.object({
  tunnels: z.array(Tunnel),
  mounts: z.array(MountSpec),
  addresses: z.array(DataAddress),
  tasks: z.array(PlanTask),
});
export type PlanState = z.infer<typeof PlanState>;

export interface PlanProblem {
  /** Dotted path into the plan, e.g. "tasks.0.source". */
  path: string;
  message: string;
}

/** Cross-references the schema cannot see. An empty list means the plan is consistent. */
export function checkPlanReferences(plan: Plan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const hosts = indexByName(plan.hosts, 'hosts', add);
  const tunnels = indexByName(plan.tunnels, 'tunnels', add);
  const addresses = indexByName(plan.addresses, 'addresses', add);
  indexByName(plan.tasks, 'tasks', add);

  plan.hosts.forEach((h, i) => {
    if (h.jumpHost === null) return;
    if (!hosts.has(h.jumpHost)) add(`hosts.${i}.jumpHost`, `No host named "${h.jumpHost}" to jump through. Add it to hosts.`);
    else if (jumpChainLoops(h.name, hosts)) add(`hosts.${i}.jumpHost`, `The jump hosts of "${h.name}" form a loop.`);
  });
  plan.tunnels.forEach((t, i) => {
    t.hosts.forEach((name, j) => {
      if (!hosts.has(name)) add(`tunnels.${i}.hosts.${j}`, `No host named "${name}". Add it to hosts or remove it from the tunnel.`);
    });
    if (new Set(t.hosts).size !== t.hosts.length) add(`tunnels.${i}.hosts`, `Tunnel "${t.name}" lists a host twice.`);
  });
  plan.mounts.forEach((m, i) => {
    if (!tunnels.has(m.tunnel)) add(`mounts.${i}.tunnel`, `No tunnel named "${m.tunnel}".`);
  });
  plan.addresses.forEach((a, i) => {
    const tunnel = tunnels.get(a.tunnel);
    if (!tunnel) return add(`addresses.${i}.tunnel`, `No tunnel named "${a.tunnel}".`);
    a.agents?.forEach((name, j) => {
      if (!tunnel.hosts.includes(name)) add(`addresses.${i}.agents.${j}`, `"${name}" is not a host of tunnel "${tunnel.name}".`);
    });
  });
  plan.tasks.forEach((t, i) => {
    checkTaskSide(t.source, 'source', `tasks.${i}.source`, addresses, tunnels, add);
    checkTaskSide(t.destination, 'destination', `tasks.${i}.destination`, addresses, tunnels, add);
    if (t.options.newerThan && t.options.olderThan && t.options.newerThan >= t.options.olderThan) {
      add(`tasks.${i}.options`, 'newerThan must be before olderThan, or no file can match.');
    }
  });
  return problems;
}

function checkTaskSide(
  name: string,
  role: Tunnel['role'],
  path: string,
  addresses: Map<string, DataAddress>,
  tunnels: Map<string, Tunnel>,
  add: (path: string, message: string) => void,
): void {
  const address = addresses.get(name);
  if (!address) return add(path, `No data address named "${name}".`);
  const tunnel = tunnels.get(address.tunnel);
  if (tunnel && tunnel.role !== role) add(path, `"${name}" is on ${tunnel.role} tunnel "${tunnel.name}"; a task's ${role} must be on a ${role} tunnel.`);
}

function indexByName<T extends { name: string }>(items: T[], section: string, add: (path: string, message: string) => void): Map<string, T> {
  const map = new Map<string, T>();
  items.forEach((item, i) => {
    if (map.has(item.name)) add(`${section}.${i}.name`, `"${item.name}" is used twice in ${section}; names must be unique.`);
    else map.set(item.name, item);
  });
  return map;
}

function jumpChainLoops(start: string, hosts: Map<string, PlanHost>): boolean {
  const seen = new Set<string>();
  let current: string | null = start;
  while (current !== null) {
    if (seen.has(current)) return true;
    seen.add(current);
    current = hosts.get(current)?.jumpHost ?? null;
  }
  return false;
}

/** The hosts of an address: its agents, or all hosts of its tunnel. */
export function addressHosts(plan: Plan, address: DataAddress): string[] {
  return address.agents ?? plan.tunnels.find((t) => t.name === address.tunnel)?.hosts ?? [];
}
