/**
 * RunMeter: rates over the window, the ETA only while copying with a known tree, per-agent rates
 * with host names, a counter that restarts from zero, agents kept after they leave the status,
 * and the sample history halved when it reaches MAX_SAMPLES.
 */
import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../agent/protocol/task.ts';
import { MAX_SAMPLES, RunMeter } from '../../electron/controller/run-meter.ts';

function status(at: { bytes: number; files?: number; total?: number; pending?: number; workers?: TaskStatus['workers']; phase?: TaskStatus['phase']; state?: TaskStatus['state'] }): TaskStatus {
  return {
    taskId: 't',
    state: at.state ?? 'running',
    phase: at.phase ?? 'copy',
    message: null,
    errorCode: null,
    workers: at.workers ?? [],
    progress: { dirsListed: 1, dirsPending: at.pending ?? 0, entriesFound: 10, filesDone: at.files ?? 0, filesTotal: 10, bytesDone: at.bytes, bytesTotal: at.total ?? 10_000, filesCopied: 0, bytesCopied: 0, problems: 0 },
    passed: null,
    startedAt: new Date(0).toISOString(),
    resumes: 0,
  };
}

const src = (bytesDone?: number) => ({ agentId: 'a1', role: 'source' as const, inflight: 2, ...(bytesDone !== undefined ? { bytesDone } : {}) });

describe('RunMeter', () => {
  it('gives bytes and files per second over the window and the ETA of what is left', () => {
    const meter = new RunMeter();
    meter.add(status({ bytes: 0, files: 0 }), 1000);
    meter.add(status({ bytes: 1000, files: 2 }), 2000);
    meter.add(status({ bytes: 3000, files: 4 }), 3000);
    const r = meter.reading();
    expect(r.bytesPerSec).toBe(1500);
    expect(r.filesPerSec).toBe(2);
    expect(r.etaSeconds).toBeCloseTo(7000 / 1500);
    expect(r.samples.map((s) => s.t)).toEqual([0, 1000, 2000]);
  });

  it('rates over the last window only: a speed-up shows once the slow seconds are out of it', () => {
    const meter = new RunMeter();
    // 100 B/s for 4 s, then 1000 B/s.
    for (let t = 0; t <= 10_000; t += 1000) meter.add(status({ bytes: t <= 4000 ? t / 10 : 400 + (t - 4000) }), t);
    expect(meter.reading().bytesPerSec).toBe(1000);
  });

  it('has no ETA while the tree is still listed, when paused, or after the copy phase', () => {
    for (const s of [status({ bytes: 10, pending: 3 }), status({ bytes: 10, state: 'paused' }), status({ bytes: 10, phase: 'verify' })]) {
      const meter = new RunMeter();
      meter.add({ ...s, progress: { ...s.progress, bytesDone: 0 } }, 0);
      meter.add(s, 1000);
      expect(meter.reading().etaSeconds).toBeNull();
    }
  });

  it('rates each agent, names its host, starts a restarted counter afresh and keeps agents that left', () => {
    const meter = new RunMeter();
    meter.setAgentHosts(new Map([['a1', 'src1']]));
    meter.add(status({ bytes: 0, workers: [src(0), { agentId: 'old', role: 'destination', inflight: 0 }] }), 0);
    meter.add(status({ bytes: 500, workers: [src(500)] }), 1000);
    let agents = meter.reading().agents;
    expect(agents.find((a) => a.key === 'source:a1')).toMatchObject({ host: 'src1', bytesDone: 500, bytesPerSec: 500, inflight: 2 });
    // An agent without byte counts (an older agent) has none, and stays listed with no jobs.
    expect(agents.find((a) => a.key === 'destination:old')).toMatchObject({ host: null, bytesDone: null, bytesPerSec: null, inflight: 0 });
    // The coordinator restarted: its counters begin at zero again; no negative rate.
    meter.add(status({ bytes: 600, workers: [src(100)] }), 2000);
    expect(meter.reading().agents.find((a) => a.key === 'source:a1')?.bytesPerSec).toBe(0);
    meter.add(status({ bytes: 700, workers: [src(300)] }), 3000);
    expect(meter.reading().agents.find((a) => a.key === 'source:a1')?.bytesPerSec).toBe(200);
    // The task ended: the workers left the status; the agent stays with its final total (the
    // coordinator's departed count), its host (the links are closed by then) and no rate.
    meter.setAgentHosts(new Map());
    meter.add({ ...status({ bytes: 700, workers: [], state: 'done', phase: 'done' }), departedWorkers: [{ agentId: 'a1', role: 'source', bytesDone: 900 }] }, 4000);
    agents = meter.reading().agents;
    expect(agents.find((a) => a.key === 'source:a1')).toMatchObject({ host: 'src1', bytesDone: 900, bytesPerSec: 0, inflight: 0 });
    expect(meter.reading().samples.at(-1)?.agents).toEqual({});
  });

  it('halves the sample history when it is full, keeping its time span', () => {
    const meter = new RunMeter();
    for (let i = 0; i < MAX_SAMPLES; i++) meter.add(status({ bytes: i * 100 }), i * 500);
    const samples = meter.reading().samples;
    expect(samples.length).toBe(MAX_SAMPLES / 2);
    expect(samples.at(-1)?.t).toBe((MAX_SAMPLES - 1) * 500);
    expect(samples.every((s, i) => i === 0 || s.t > (samples[i - 1]?.t ?? -1))).toBe(true);
  });
});
