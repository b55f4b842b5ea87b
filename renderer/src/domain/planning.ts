/**
 * Capacity planning as the Plan screen shows it: the operator's inputs (a data size with its
 * unit, or "scan it later"; the expected speed; the speed of one instance), checked field by
 * field, then the contract's own `planCapacity`. Pure; no Vue, no DOM, no storage.
 */
import { DEFAULT_INSTANCE_GBPS, planCapacity, type CapacityPlan } from '../../../electron/contract/console.ts';

/** Decimal units first (what NAS vendors and invoices use), then binary ones. */
export const SIZE_UNITS = { GB: 1e9, TB: 1e12, PB: 1e15, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50 } as const;
export type SizeUnit = keyof typeof SIZE_UNITS;
export const SIZE_UNIT_NAMES = Object.keys(SIZE_UNITS) as SizeUnit[];

export interface PlanningInputs {
  /** In `unit`; null while the field is empty. */
  dataSize: number | null;
  unit: SizeUnit;
  /** The size is not known yet: instances are planned, the ETA waits for a scan. */
  scanLater: boolean;
  expectedGbps: number | null;
  instanceGbps: number | null;
}

export const DEFAULT_PLANNING_INPUTS: Readonly<PlanningInputs> = {
  dataSize: null,
  unit: 'TB',
  scanLater: false,
  expectedGbps: null,
  instanceGbps: DEFAULT_INSTANCE_GBPS,
};

export type PlanningField = 'dataSize' | 'expectedGbps' | 'instanceGbps';
/** Why a field cannot be used; the console translates the code. */
export type PlanningFieldProblem = 'required' | 'positive';

export type PlanningOutcome =
  | { kind: 'incomplete'; problems: Partial<Record<PlanningField, PlanningFieldProblem>> }
  | {
      kind: 'ok';
      /** null when the operator will scan later (no ETA yet). */
      dataBytes: number | null;
      plan: CapacityPlan;
      /** expected / instance speed before rounding up, e.g. 1.67 for 5 / 3. */
      ratio: number;
      /** True when the ratio was rounded up (5 / 3 -> 2), false when it divides exactly or is below 1. */
      roundedUp: boolean;
    };

function check(value: number | null, allowZero = false): PlanningFieldProblem | null {
  if (value === null || !Number.isFinite(value)) return 'required';
  return value > 0 || (allowZero && value === 0) ? null : 'positive';
}

export function evaluatePlanning(inputs: PlanningInputs): PlanningOutcome {
  const problems: Partial<Record<PlanningField, PlanningFieldProblem>> = {};
  const size = inputs.scanLater ? null : check(inputs.dataSize);
  if (size) problems.dataSize = size;
  const expected = check(inputs.expectedGbps);
  if (expected) problems.expectedGbps = expected;
  const instance = check(inputs.instanceGbps);
  if (instance) problems.instanceGbps = instance;
  if (Object.keys(problems).length > 0) return { kind: 'incomplete', problems };

  const dataBytes = inputs.scanLater ? null : (inputs.dataSize as number) * SIZE_UNITS[inputs.unit];
  const expectedGbps = inputs.expectedGbps as number;
  const instanceGbps = inputs.instanceGbps as number;
  const plan = planCapacity(dataBytes ?? 0, expectedGbps, instanceGbps);
  const ratio = expectedGbps / instanceGbps;
  return { kind: 'ok', dataBytes, plan, ratio, roundedUp: ratio > 1 && Math.abs(ratio - plan.instancesPerTunnel) > 1e-9 };
}

/** Instances per tunnel when the inputs allow it, else null (e.g. for the Tunnels screen's check). */
export function plannedInstances(inputs: PlanningInputs): number | null {
  const outcome = evaluatePlanning(inputs);
  return outcome.kind === 'ok' ? outcome.plan.instancesPerTunnel : null;
}

/** Whole days and remaining hours (rounded to the hour), e.g. 800 000 s -> 9 d 6 h. */
export function durationParts(seconds: number): { days: number; hours: number } {
  const totalHours = Math.round(seconds / 3600);
  return { days: Math.floor(totalHours / 24), hours: totalHours % 24 };
}

/**
 * Reads stored inputs tolerantly: anything missing or malformed falls back to the default, so a
 * hand-edited or older entry never breaks the screen.
 */
export function parseStoredInputs(raw: string | null): PlanningInputs {
  const out: PlanningInputs = { ...DEFAULT_PLANNING_INPUTS };
  if (!raw) return out;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return out;
  }
  if (data === null || typeof data !== 'object') return out;
  const d = data as Record<string, unknown>;
  const num = (v: unknown): number | null | undefined => (v === null ? null : typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const size = num(d.dataSize);
  if (size !== undefined) out.dataSize = size;
  if (typeof d.unit === 'string' && Object.hasOwn(SIZE_UNITS, d.unit)) out.unit = d.unit as SizeUnit;
  if (typeof d.scanLater === 'boolean') out.scanLater = d.scanLater;
  const expected = num(d.expectedGbps);
  if (expected !== undefined) out.expectedGbps = expected;
  const instance = num(d.instanceGbps);
  if (instance !== undefined) out.instanceGbps = instance;
  return out;
}

/** True once the operator entered enough for a plan (the Plan step counts as done). */
export function planningDone(inputs: PlanningInputs): boolean {
  return evaluatePlanning(inputs).kind === 'ok';
}
