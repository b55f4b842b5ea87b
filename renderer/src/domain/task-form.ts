/**
 * The task definition form: its editable state (units and dates as the operator types them),
 * and the conversions to and from the contract's PlanTask (bytes per second, ISO dates).
 * Pure; no Vue, no DOM.
 */
import type { PlanTask} from '../../../electron/contract/console.ts';
import { DEFAULT_RANGE_SIZE, TaskOptions } from '../../../electron/contract/console.ts';
import type { z } from 'zod';

/** What taskDefs.save takes (defaults not yet applied). */
export type PlanTaskInput = z.input<typeof PlanTask>;

export type RateUnit = 'MB/s' | 'Mbit/s';
export const RATE_UNITS: readonly RateUnit[] = ['MB/s', 'Mbit/s'];
const BYTES_PER_UNIT: Record<RateUnit, number> = { 'MB/s': 1e6, 'Mbit/s': 1e6 / 8 };

/** A limit as typed (e.g. 100 MB/s) in whole bytes per second, as the plan stores it. */
export function toBytesPerSecond(value: number, unit: RateUnit): number {
  return Math.round(value * BYTES_PER_UNIT[unit]);
}

/** Bytes per second back in the form's unit, without float noise (12.5, not 12.500000001). */
export function fromBytesPerSecond(bytes: number, unit: RateUnit): number {
  return Math.round((bytes / BYTES_PER_UNIT[unit]) * 1000) / 1000;
}

/** A date field (YYYY-MM-DD) as the start of that day in UTC, which is what the plan stores. */
export function dateToIso(date: string): string | null {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : null;
}

/** The UTC day of an ISO date-time, for a date field. */
export function isoToDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

/** A time of day window during which the task's one limit applies (HH:MM, hosts' local time). */
export interface WindowForm {
  from: string;
  to: string;
}

export interface TaskForm {
  name: string;
  source: string;
  destination: string;
  mode: TaskOptions['mode'];
  checksum: boolean;
  overwrite: TaskOptions['overwrite'];
  include: string[];
  exclude: string[];
  newerThan: string;
  olderThan: string;
  mirror: boolean;
  limited: boolean;
  limit: number | '';
  unit: RateUnit;
  windows: WindowForm[];
  verify: TaskOptions['verify'];
  concurrencyAuto: boolean;
  concurrency: number | '';
  /** Large files' range size: automatic (the engine's default) or as typed, in MiB. */
  rangeSizeAuto: boolean;
  rangeSizeMiB: number | '';
  dryRun: boolean;
  repeat: boolean;
  repeatEveryHours: number | '';
}

export const DEFAULT_TASK_OPTIONS: TaskOptions = TaskOptions.parse({});

const MIB = 1024 * 1024;
/** The engine's range size when the task leaves it automatic, in MiB. */
export const DEFAULT_RANGE_MIB = DEFAULT_RANGE_SIZE / MIB;

export function emptyTaskForm(): TaskForm {
  const o = DEFAULT_TASK_OPTIONS;
  return {
    name: '',
    source: '',
    destination: '',
    mode: o.mode,
    checksum: o.checksum,
    overwrite: o.overwrite,
    include: [],
    exclude: [],
    newerThan: '',
    olderThan: '',
    mirror: o.mirror,
    limited: false,
    limit: '',
    unit: 'MB/s',
    windows: [],
    verify: o.verify,
    concurrencyAuto: true,
    concurrency: 8,
    rangeSizeAuto: true,
    rangeSizeMiB: DEFAULT_RANGE_MIB,
    dryRun: o.dryRun,
    repeat: false,
    repeatEveryHours: 24,
  };
}

export function taskToForm(task: PlanTask, unit: RateUnit = 'MB/s'): TaskForm {
  const o = task.options;
  const rate = (bytes: number | null): number | '' => (bytes === null ? '' : fromBytesPerSecond(bytes, unit));
  return {
    name: task.name,
    source: task.source,
    destination: task.destination,
    mode: o.mode,
    checksum: o.checksum,
    overwrite: o.overwrite,
    include: [...o.include],
    exclude: [...o.exclude],
    newerThan: isoToDate(o.newerThan),
    olderThan: isoToDate(o.olderThan),
    mirror: o.mirror,
    limited: o.bandwidth.bytesPerSecond !== null,
    limit: rate(o.bandwidth.bytesPerSecond),
    unit,
    windows: o.bandwidth.windows.map((w) => ({ from: w.from, to: w.to })),
    verify: o.verify,
    concurrencyAuto: o.concurrency === null,
    concurrency: o.concurrency ?? 8,
    rangeSizeAuto: o.rangeSize === null,
    rangeSizeMiB: o.rangeSize === null ? DEFAULT_RANGE_MIB : o.rangeSize / MIB,
    dryRun: o.dryRun,
    repeat: task.repeatEveryHours !== null,
    repeatEveryHours: task.repeatEveryHours ?? 24,
  };
}

/**
 * The task as the contract takes it. Empty number fields become NaN, so the schema reports
 * them on their field ("expected number") instead of the form guessing a value.
 */
export function formToTask(form: TaskForm): PlanTaskInput {
  const rate = (v: number | ''): number => (v === '' ? Number.NaN : toBytesPerSecond(v, form.unit));
  const num = (v: number | ''): number => (v === '' ? Number.NaN : v);
  return {
    name: form.name.trim(),
    source: form.source,
    destination: form.destination,
    options: {
      mode: form.mode,
      checksum: form.checksum,
      overwrite: form.overwrite,
      include: [...form.include],
      exclude: [...form.exclude],
      newerThan: form.newerThan ? (dateToIso(form.newerThan) ?? form.newerThan) : null,
      olderThan: form.olderThan ? (dateToIso(form.olderThan) ?? form.olderThan) : null,
      mirror: form.mirror,
      bandwidth: {
        bytesPerSecond: form.limited ? rate(form.limit) : null,
        windows: form.windows.map((w) => ({ from: w.from, to: w.to })),
      },
      verify: form.verify,
      concurrency: form.concurrencyAuto ? null : num(form.concurrency),
      rangeSize: form.rangeSizeAuto ? null : Math.round(num(form.rangeSizeMiB) * MIB),
      dryRun: form.dryRun,
    },
    repeatEveryHours: form.repeat ? num(form.repeatEveryHours) : null,
  };
}

/** Adds a glob to a chip list: trimmed, not empty, not twice. Returns the new list. */
export function addChip(list: readonly string[], value: string): string[] {
  const v = value.trim();
  return v === '' || list.includes(v) ? [...list] : [...list, v];
}

/** Short facts about a task's options for its row in the list, as codes the console translates. */
export type OptionFact =
  | { kind: 'mode'; value: TaskOptions['mode'] }
  | { kind: 'verify'; value: TaskOptions['verify'] }
  | { kind: 'checksum' }
  | { kind: 'mirror' }
  | { kind: 'dryRun' }
  | { kind: 'limit'; bytesPerSecond: number; windows: number }
  | { kind: 'filters'; include: number; exclude: number }
  | { kind: 'dates' }
  | { kind: 'repeat'; hours: number };

export function optionFacts(task: PlanTask): OptionFact[] {
  const o = task.options;
  const facts: OptionFact[] = [{ kind: 'mode', value: o.mode }, { kind: 'verify', value: o.verify }];
  if (o.checksum) facts.push({ kind: 'checksum' });
  if (o.mirror) facts.push({ kind: 'mirror' });
  if (o.bandwidth.bytesPerSecond !== null || o.bandwidth.windows.length > 0) {
    facts.push({ kind: 'limit', bytesPerSecond: o.bandwidth.bytesPerSecond ?? 0, windows: o.bandwidth.windows.length });
  }
  if (o.include.length + o.exclude.length > 0) facts.push({ kind: 'filters', include: o.include.length, exclude: o.exclude.length });
  if (o.newerThan || o.olderThan) facts.push({ kind: 'dates' });
  if (task.repeatEveryHours !== null) facts.push({ kind: 'repeat', hours: task.repeatEveryHours });
  if (o.dryRun) facts.push({ kind: 'dryRun' });
  return facts;
}
