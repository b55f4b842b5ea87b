/**
 * Plan editing rules the console needs for display: what the plan would look like after a
 * save (the same keying as the controller, so the issue paths Ferry sends back can be read),
 * which item and field an issue path names, what still uses a tunnel or an address, and how
 * a refused import's problems read ("line 7: tunnels.0.role: …"). Pure; no Vue, no DOM.
 */
import type { DataAddress, Issue, MountSpec, PlanState, PlanTask, Tunnel } from './plan-types.ts';

export type Section = 'tunnels' | 'mounts' | 'addresses' | 'tasks';
export const SECTIONS: readonly Section[] = ['tunnels', 'mounts', 'addresses', 'tasks'];

export interface MountKey {
  tunnel: string;
  directory: string;
}

export function sameMount(a: MountKey, b: MountKey): boolean {
  return a.tunnel === b.tunnel && a.directory === b.directory;
}

/** The plan after saving a named item: replaced in place (by previousName, else name) or appended. */
export function withSaved<S extends 'tunnels' | 'addresses' | 'tasks'>(state: PlanState, section: S, item: PlanState[S][number], previousName?: string): PlanState {
  const list = state[section] as Array<{ name: string }>;
  const key = previousName ?? item.name;
  const index = list.findIndex((x) => x.name === key);
  const next = index >= 0 ? list.map((x, i) => (i === index ? item : x)) : [...list, item];
  return { ...state, [section]: next };
}

/** Mounts are keyed by tunnel + directory; a saved mount goes to the end, as the controller does. */
export function withSavedMount(state: PlanState, mount: MountSpec): PlanState {
  return { ...state, mounts: [...state.mounts.filter((m) => !sameMount(m, mount)), mount] };
}

/** Index of the item a save lands on in the resulting plan. */
export function savedIndex(next: PlanState, section: Section, key: string | MountKey): number {
  if (section === 'mounts') return next.mounts.findIndex((m) => sameMount(m, key as MountKey));
  return (next[section] as Array<{ name: string }>).findIndex((x) => x.name === key);
}

export interface LocatedIssue {
  /** Section and item of the plan the path names, when it names one. */
  section: Section | null;
  index: number | null;
  /** The item's display name: its name, or "tunnel:directory" for a mount. */
  item: string | null;
  /** The rest of the path inside the item ("tunnel", "agents.1", "options.bandwidth"); '' for the item itself. */
  field: string;
  path: string;
  message: string;
}

export function itemLabel(state: PlanState, section: Section, index: number): string | null {
  if (section === 'mounts') {
    const m = state.mounts[index];
    return m ? `${m.tunnel}:${m.directory}` : null;
  }
  return (state[section] as Array<{ name: string }>)[index]?.name ?? null;
}

/** Reads a whole-plan issue path ("addresses.0.tunnel") against the plan it was found in. */
export function locateIssue(state: PlanState, issue: Issue): LocatedIssue {
  const [head, idx, ...rest] = issue.path.split('.');
  if (head && (SECTIONS as readonly string[]).includes(head) && idx !== undefined && /^\d+$/.test(idx)) {
    const section = head as Section;
    const index = Number(idx);
    return { section, index, item: itemLabel(state, section, index), field: rest.join('.'), path: issue.path, message: issue.message };
  }
  return { section: null, index: null, item: null, field: issue.path, path: issue.path, message: issue.message };
}

export interface FormErrors {
  /** First message per field of the form's own item ("name", "hosts", "options.include"). */
  fields: Record<string, string>;
  /** Problems elsewhere in the plan (or of the request as a whole), with the item they name. */
  others: LocatedIssue[];
}

/**
 * Splits the issues of a refused save between the form's fields and the rest of the plan.
 * Two kinds of paths arrive: request paths from schema checks ("mount.export", validated before
 * sending), and whole-plan paths from Ferry's consistency check ("mounts.3.tunnel").
 */
export function splitIssues(issues: readonly Issue[], requestKey: string, next: PlanState, section: Section, index: number): FormErrors {
  const fields: Record<string, string> = {};
  const others: LocatedIssue[] = [];
  for (const issue of issues) {
    const parts = issue.path.split('.');
    if (parts[0] === requestKey && parts.length > 1) {
      fields[parts.slice(1).join('.')] ??= issue.message;
      continue;
    }
    const located = locateIssue(next, issue);
    if (located.section === section && located.index === index && located.field !== '') fields[located.field] ??= issue.message;
    else others.push(located);
  }
  return { fields, others };
}

/** First error of a field or of anything below it ("hosts" also takes "hosts.1"). */
export function fieldError(fields: Record<string, string>, field: string): string | undefined {
  if (fields[field]) return fields[field];
  const prefix = `${field}.`;
  for (const [path, message] of Object.entries(fields)) if (path.startsWith(prefix)) return message;
  return undefined;
}

/** Schema issues (zod) keyed by their dotted path; first message wins. */
export function issuesByPath(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) out[issue.path.map(String).join('.')] ??= issue.message;
  return out;
}

export interface TunnelUsage {
  mounts: MountSpec[];
  addresses: DataAddress[];
}

export function tunnelUsage(state: PlanState, tunnel: string): TunnelUsage {
  return { mounts: state.mounts.filter((m) => m.tunnel === tunnel), addresses: state.addresses.filter((a) => a.tunnel === tunnel) };
}

export function addressUsage(state: PlanState, address: string): PlanTask[] {
  return state.tasks.filter((t) => t.source === address || t.destination === address);
}

export function tunnelOf(state: PlanState, address: DataAddress | undefined): Tunnel | undefined {
  return address ? state.tunnels.find((t) => t.name === address.tunnel) : undefined;
}

/** Addresses on tunnels of one role, for a task's source or destination. */
export function addressesWithRole(state: PlanState, role: Tunnel['role']): DataAddress[] {
  const roles = new Map(state.tunnels.map((t) => [t.name, t.role]));
  return state.addresses.filter((a) => roles.get(a.tunnel) === role);
}

/** The hosts whose agents serve an address: its agents, or every host of its tunnel. */
export function agentsOf(state: PlanState, address: DataAddress): string[] {
  return address.agents ?? state.tunnels.find((t) => t.name === address.tunnel)?.hosts ?? [];
}

/** Whether an address's directory is a planned mount of its tunnel, or lies below one. */
export function onPlannedMount(state: PlanState, address: Pick<DataAddress, 'tunnel' | 'directory'>): boolean {
  return state.mounts.some((m) => m.tunnel === address.tunnel && (address.directory === m.directory || address.directory.startsWith(`${m.directory}/`)));
}

export interface HostCountCheck {
  hosts: number;
  planned: number | null;
  state: 'ok' | 'fewer' | 'unplanned';
}

export function hostCountCheck(tunnel: Pick<Tunnel, 'hosts'>, planned: number | null): HostCountCheck {
  const hosts = tunnel.hosts.length;
  if (planned === null) return { hosts, planned, state: 'unplanned' };
  return { hosts, planned, state: hosts < planned ? 'fewer' : 'ok' };
}

export interface ImportProblem {
  line: number | null;
  path: string;
  message: string;
}

/** Ferry reports a refused plan file's problems as issues whose path ends in "(line N)". */
export function importProblems(issues: readonly Issue[]): ImportProblem[] {
  return issues.map((issue) => {
    const match = /^(.*?)\s*\(line (\d+)\)$/.exec(issue.path);
    return match ? { line: Number(match[2]), path: match[1] ?? '', message: issue.message } : { line: null, path: issue.path, message: issue.message };
  });
}
