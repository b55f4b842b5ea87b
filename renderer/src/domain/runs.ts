/**
 * Display rules for runs: which states are final or need the operator, the progress fraction the
 * bar shows, a task's latest run, the clock form of durations, and the throughput chart's
 * geometry (a polyline per agent over the run's samples, with a rounded axis maximum). Pure; no
 * Vue, no DOM. Never computes rates: they come with the controller's snapshots.
 */
import type { Run, RunSample, RunState, TaskProgress } from '../../../electron/contract/console.ts';

export const FINAL_STATES: ReadonlySet<RunState> = new Set<RunState>(['done', 'failed', 'cancelled']);

export function isFinal(state: RunState): boolean {
  return FINAL_STATES.has(state);
}

/** Badge tone of a state. */
export function stateTone(state: RunState, passed: boolean | null = null): 'ok' | 'warn' | 'danger' | 'accent' | '' {
  switch (state) {
    case 'done':
      return passed === false ? 'danger' : 'ok';
    case 'failed':
      return 'danger';
    case 'paused':
    case 'waiting':
    case 'detached':
      return 'warn';
    case 'running':
    case 'starting':
      return 'accent';
    case 'cancelled':
      return '';
  }
}

/** 0..1 of the copy by bytes (by entries when there are no bytes); 1 once done. */
export function progressFraction(state: RunState, progress: TaskProgress | null): number {
  if (state === 'done') return 1;
  if (!progress) return 0;
  if (progress.bytesTotal > 0) return Math.min(1, progress.bytesDone / progress.bytesTotal);
  if (progress.filesTotal > 0) return Math.min(1, progress.filesDone / progress.filesTotal);
  return 0;
}

/** The newest run of each task (runs come newest first, but a snapshot may reorder). */
export function latestRunByTask(runs: readonly Run[]): Map<string, Run> {
  const out = new Map<string, Run>();
  for (const r of runs) {
    const seen = out.get(r.taskName);
    if (!seen || r.createdAt > seen.createdAt) out.set(r.taskName, r);
  }
  return out;
}

/** 65 -> "1:05", 3723 -> "1:02:03". */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** A round axis maximum ≥ value: 1, 2, 2.5 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = Math.floor(Math.log10(value));
  const base = 10 ** exp;
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * base) return step * base;
  return 10 * base;
}

export interface ChartSeries {
  key: string;
  /** SVG points "x,y x,y …" inside the plot box. */
  points: string;
  last: number;
}

export interface ChartGeometry {
  max: number;
  series: ChartSeries[];
  /** Time span of the samples in ms. */
  spanMs: number;
}

/**
 * One polyline per key (agents) plus "total", scaled to width × height with y = 0 at the bottom.
 * Keys missing from a sample count as 0 there.
 */
export function chartGeometry(samples: readonly RunSample[], keys: readonly string[], width: number, height: number): ChartGeometry {
  const first = samples[0];
  const last = samples.at(-1);
  const spanMs = first && last ? last.t - first.t : 0;
  let peak = 0;
  for (const s of samples) {
    peak = Math.max(peak, s.bytesPerSec);
    for (const k of keys) peak = Math.max(peak, s.agents[k] ?? 0);
  }
  const max = niceMax(peak);
  const x = (t: number) => (spanMs > 0 && first ? ((t - first.t) / spanMs) * width : 0);
  const y = (v: number) => height - (Math.min(v, max) / max) * height;
  const line = (value: (s: RunSample) => number) => samples.map((s) => `${round(x(s.t))},${round(y(value(s)))}`).join(' ');
  const series: ChartSeries[] = [
    { key: 'total', points: line((s) => s.bytesPerSec), last: last?.bytesPerSec ?? 0 },
    ...keys.map((k) => ({ key: k, points: line((s) => s.agents[k] ?? 0), last: last?.agents[k] ?? 0 })),
  ];
  return { max, series, spanMs };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
