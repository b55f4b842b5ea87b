/**
 * RunMeter: turns the coordinator's successive TaskStatus counters into what the console shows:
 * bytes and files per second over the last RUN_RATE_WINDOW_MS, the ETA of the copy, each agent's
 * throughput, and a throughput history for the chart (one sample per status, halved in resolution
 * when it reaches MAX_SAMPLES, so a long run keeps its whole shape in bounded memory). Counters
 * that go down (a coordinator restarted and counts from zero again) start that series afresh
 * instead of giving negative rates. Agents that left the status (the task ended) stay listed with
 * their last byte count and no rate. Pure arithmetic: no IO, no clocks but the `now` it is given.
 */
import type { TaskStatus } from '../../agent/protocol/task.ts';
import { RUN_RATE_WINDOW_MS, type RunAgent, type RunSample } from '../contract/task-runs.ts';

export const MAX_SAMPLES = 240;

interface Point {
  at: number;
  value: number;
}

/** A counter's recent values, for its rate over a time window. */
class Series {
  private points: Point[] = [];

  add(at: number, value: number): void {
    const last = this.points.at(-1);
    if (last && value < last.value) this.points = [];
    this.points.push({ at, value });
    while (this.points.length > 2 && at - (this.points[1] as Point).at >= RUN_RATE_WINDOW_MS) this.points.shift();
  }

  /** Units per second over the window; 0 until two points exist. */
  rate(): number {
    const first = this.points[0];
    const last = this.points.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return Math.max(0, ((last.value - first.value) * 1000) / (last.at - first.at));
  }
}

export interface MeterReading {
  bytesPerSec: number;
  filesPerSec: number;
  etaSeconds: number | null;
  agents: RunAgent[];
  samples: RunSample[];
}

export class RunMeter {
  private readonly bytes = new Series();
  private readonly files = new Series();
  private readonly agentSeries = new Map<string, Series>();
  private samples: RunSample[] = [];
  private origin: number | null = null;
  private latest: TaskStatus | null = null;
  private agentHosts: ReadonlyMap<string, string> = new Map();
  /** Every agent seen in this watch, as last seen (workers leave the status when the task ends). */
  private readonly seen = new Map<string, TaskStatus['workers'][number]>();

  /** Which plan host each agent id runs on (from the run's links; kept after the links close). */
  setAgentHosts(byAgentId: ReadonlyMap<string, string>): void {
    this.agentHosts = new Map([...this.agentHosts, ...byAgentId]);
  }

  add(status: TaskStatus, now: number): void {
    this.latest = status;
    this.origin ??= now;
    this.bytes.add(now, status.progress.bytesDone);
    this.files.add(now, status.progress.filesDone);
    const perAgent: Record<string, number> = {};
    const present = new Set(status.workers.map(agentKey));
    for (const [key, w] of this.seen) if (!present.has(key)) this.seen.set(key, { ...w, inflight: 0 });
    // A worker that left after its last results: its final total (the coordinator keeps it).
    for (const d of status.departedWorkers ?? []) {
      const key = agentKey(d);
      if (!present.has(key)) this.seen.set(key, { agentId: d.agentId, role: d.role, inflight: 0, bytesDone: d.bytesDone });
    }
    for (const w of status.workers) {
      this.seen.set(agentKey(w), w);
      if (w.bytesDone === undefined) continue;
      const key = agentKey(w);
      let series = this.agentSeries.get(key);
      if (!series) {
        series = new Series();
        this.agentSeries.set(key, series);
      }
      series.add(now, w.bytesDone);
      perAgent[key] = series.rate();
    }
    this.samples.push({ t: now - this.origin, bytesPerSec: this.bytes.rate(), agents: perAgent });
    if (this.samples.length >= MAX_SAMPLES) this.samples = halve(this.samples);
  }

  reading(): MeterReading {
    const status = this.latest;
    const bytesPerSec = this.bytes.rate();
    return {
      bytesPerSec,
      filesPerSec: this.files.rate(),
      etaSeconds: status ? eta(status, bytesPerSec) : null,
      agents: [...this.seen.values()].map((w) => {
        const key = agentKey(w);
        const counted = w.bytesDone !== undefined;
        const gone = !(status?.workers ?? []).some((x) => agentKey(x) === key);
        return {
          key,
          agentId: w.agentId,
          host: this.agentHosts.get(w.agentId) ?? null,
          role: w.role,
          inflight: w.inflight,
          bytesDone: counted ? (w.bytesDone as number) : null,
          bytesPerSec: counted ? (gone ? 0 : (this.agentSeries.get(key)?.rate() ?? 0)) : null,
        };
      }),
      samples: this.samples,
    };
  }
}

function agentKey(w: { role: string; agentId: string }): string {
  return `${w.role}:${w.agentId}`;
}

/** Seconds left for the bytes still to copy; null while the tree is still being listed or nothing moves. */
function eta(status: TaskStatus, bytesPerSec: number): number | null {
  if (status.state !== 'running' || status.phase !== 'copy') return null;
  if (status.progress.dirsPending > 0 || bytesPerSec <= 0) return null;
  return Math.max(0, (status.progress.bytesTotal - status.progress.bytesDone) / bytesPerSec);
}

/** Every two neighbours averaged into one: half the points over the same time span. */
function halve(samples: RunSample[]): RunSample[] {
  const out: RunSample[] = [];
  for (let i = 0; i + 1 < samples.length; i += 2) {
    const a = samples[i] as RunSample;
    const b = samples[i + 1] as RunSample;
    const agents: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a.agents), ...Object.keys(b.agents)])) agents[key] = ((a.agents[key] ?? 0) + (b.agents[key] ?? 0)) / 2;
    out.push({ t: b.t, bytesPerSec: (a.bytesPerSec + b.bytesPerSec) / 2, agents });
  }
  if (samples.length % 2 === 1) out.push(samples.at(-1) as RunSample);
  return out;
}
