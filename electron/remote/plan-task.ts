/**
 * Turns one task of a validated plan into what a remote run needs: the hosts of its two tunnels
 * with their roles and directories, the address each destination advertises to sources, the
 * coordinator host (default: the first destination agent), the engine's TaskSpec built from the
 * plan's task options, and a task id derived from all of that (same plan task = same id, so running
 * it again resumes it). Pure: no IO, no SSH.
 */
import { createHash } from 'node:crypto';
import type { TaskSpec, TaskSpecInput } from '../../agent/protocol/task.ts';
import { TaskSpec as TaskSpecSchema } from '../../agent/protocol/task.ts';
import { addressHosts, type DataAddress, type Plan, type PlanHost, type PlanTask, type TaskOptions, type Tunnel } from '../contract/plan.ts';

export type RemoteRole = 'source' | 'destination';

export interface RemoteWorker {
  host: PlanHost;
  role: RemoteRole;
  /** The data address's directory: this host's path of the task's root. */
  root: string;
  /** Destinations: the address source hosts dial for the data plane (dataAddress, else address). */
  advertiseHost: string;
}

export interface RemoteTaskLayout {
  task: PlanTask;
  source: { address: DataAddress; tunnel: Tunnel };
  destination: { address: DataAddress; tunnel: Tunnel };
  /** Every host that runs an agent for the task (sources first), each once. */
  workers: RemoteWorker[];
  /** The host whose agent coordinates (keeps the journal, writes the report). */
  coordinator: PlanHost;
  /** Address other hosts dial to reach the coordinator. */
  coordinatorAddress: string;
  /** Hosts the runner must connect to: the workers plus their jump hosts. */
  hostsByName: Map<string, PlanHost>;
  spec: TaskSpec;
}

export class PlanTaskError extends Error {
  override name = 'PlanTaskError';
}

/** Minutes after midnight of "HH:MM". */
function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function isoToNs(iso: string | null): string | null {
  if (iso === null) return null;
  return (BigInt(Date.parse(iso)) * 1_000_000n).toString();
}

/**
 * The engine's task options from the plan's (everything but id and roots). The plan's bandwidth is
 * one limit for the task; the engine applies its limit per source worker, so it is split evenly
 * between the task's `sourceCount` source hosts.
 */
export function specOptionsFromPlan(options: TaskOptions, sourceCount = 1): Omit<TaskSpecInput, 'taskId' | 'sourceRoot' | 'destinationRoot'> {
  const bw = options.bandwidth;
  const perSource = bw.bytesPerSecond === null ? null : Math.max(1, Math.floor(bw.bytesPerSecond / Math.max(1, sourceCount)));
  return {
    mode: options.mode,
    checksum: options.checksum,
    overwrite: options.overwrite,
    include: options.include,
    exclude: options.exclude,
    newerThanNs: isoToNs(options.newerThan),
    olderThanNs: isoToNs(options.olderThan),
    mirror: options.mirror,
    bwlimit: perSource === null ? null : { bytesPerSec: perSource, windows: bw.windows.map((w) => ({ from: minutesOf(w.from), to: minutesOf(w.to) })) },
    verify: options.verify,
    dryRun: options.dryRun,
    ...(options.concurrency !== null ? { concurrency: options.concurrency } : {}),
    ...(options.rangeSize !== null ? { rangeSize: options.rangeSize } : {}),
  };
}

/** "<task name>-<16 hex>" from the task's name, hosts, directories and options. */
export function remoteTaskId(taskName: string, identity: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
  return `${taskName.slice(0, 80)}-${hash}`;
}

function pickTask(plan: Plan, taskName: string | undefined): PlanTask {
  if (plan.tasks.length === 0) throw new PlanTaskError('The plan has no tasks. Add one under "tasks:" (a source data address and a destination data address).');
  if (taskName === undefined) {
    if (plan.tasks.length > 1) throw new PlanTaskError(`The plan has ${plan.tasks.length} tasks (${plan.tasks.map((t) => t.name).join(', ')}). Name the one to run with --task NAME.`);
    return plan.tasks[0] as PlanTask;
  }
  const task = plan.tasks.find((t) => t.name === taskName);
  if (!task) throw new PlanTaskError(`The plan has no task "${taskName}" (tasks: ${plan.tasks.map((t) => t.name).join(', ')}).`);
  return task;
}

function side(plan: Plan, name: string, role: RemoteRole): { address: DataAddress; tunnel: Tunnel } {
  const address = plan.addresses.find((a) => a.name === name);
  const tunnel = address && plan.tunnels.find((t) => t.name === address.tunnel);
  if (!address || !tunnel) throw new PlanTaskError(`The data address "${name}" or its tunnel is missing. Run "ferry plan check FILE" and fix the plan.`);
  if (tunnel.role !== role) throw new PlanTaskError(`"${name}" is on ${tunnel.role} tunnel "${tunnel.name}"; a task's ${role} must be on a ${role} tunnel.`);
  return { address, tunnel };
}

/** Host by name, or a clear error. */
export function planHost(plan: Plan, name: string): PlanHost {
  const host = plan.hosts.find((h) => h.name === name);
  if (!host) throw new PlanTaskError(`The plan names a host "${name}" that is not under "hosts:". Add it, or run "ferry plan check FILE".`);
  return host;
}

/** The address other hosts dial to reach this host's agent. */
export function dataAddressOf(host: PlanHost): string {
  return host.dataAddress ?? host.address;
}

/** The task's layout; `coordinator` names the host whose agent coordinates (default the first destination). */
export function resolvePlanTask(plan: Plan, taskName?: string, coordinator?: string): RemoteTaskLayout {
  const task = pickTask(plan, taskName);
  const source = side(plan, task.source, 'source');
  const destination = side(plan, task.destination, 'destination');
  const workers: RemoteWorker[] = [];
  for (const [s, role] of [
    [source, 'source'],
    [destination, 'destination'],
  ] as const) {
    for (const name of addressHosts(plan, s.address)) {
      const host = planHost(plan, name);
      workers.push({ host, role, root: s.address.directory, advertiseHost: dataAddressOf(host) });
    }
  }
  const sourceNames = new Set(workers.filter((w) => w.role === 'source').map((w) => w.host.name));
  const both = workers.find((w) => w.role === 'destination' && sourceNames.has(w.host.name));
  if (both) throw new PlanTaskError(`Host "${both.host.name}" is in both the source and the destination of task "${task.name}". A host serves one side of a task; use separate hosts.`);
  const firstDestination = workers.find((w) => w.role === 'destination');
  if (!firstDestination) throw new PlanTaskError(`Task "${task.name}" has no destination host.`);
  const coordinating = coordinator === undefined ? firstDestination : workers.find((w) => w.host.name === coordinator);
  if (!coordinating) throw new PlanTaskError(`The coordinator "${coordinator}" is not a host of task "${task.name}" (its hosts: ${workers.map((w) => w.host.name).join(', ')}).`);

  const hostsByName = new Map<string, PlanHost>();
  for (const w of workers) {
    for (let h: PlanHost | null = w.host; h; h = h.jumpHost ? planHost(plan, h.jumpHost) : null) hostsByName.set(h.name, h);
  }
  const identity = {
    source: { dir: source.address.directory, hosts: workers.filter((w) => w.role === 'source').map((w) => [w.host.name, w.host.address]) },
    destination: { dir: destination.address.directory, hosts: workers.filter((w) => w.role === 'destination').map((w) => [w.host.name, w.host.address]) },
    options: task.options,
  };
  const spec = TaskSpecSchema.parse({
    ...specOptionsFromPlan(task.options, sourceNames.size),
    taskId: remoteTaskId(task.name, identity),
    sourceRoot: source.address.directory,
    destinationRoot: destination.address.directory,
  });
  return { task, source, destination, workers, coordinator: coordinating.host, coordinatorAddress: coordinating.advertiseHost, hostsByName, spec };
}
