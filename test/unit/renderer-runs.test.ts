/** Display rules of runs: progress fraction, tones, latest run per task, clock durations, chart geometry. */
import { describe, expect, it } from 'vitest';
import type { Run, RunSample } from '../../electron/contract/console.ts';
import { chartGeometry, clock, isFinal, latestRunByTask, niceMax, progressFraction, stateTone } from '../../renderer/src/domain/runs.ts';

const progress = (bytesDone: number, bytesTotal: number, filesDone = 0, filesTotal = 0) => ({ dirsListed: 0, dirsPending: 0, entriesFound: 0, filesDone, filesTotal, bytesDone, bytesTotal, filesCopied: 0, bytesCopied: 0, problems: 0 });

describe('runs display rules', () => {
  it('computes the bar from bytes, from entries when there are no bytes, and full when done', () => {
    expect(progressFraction('running', progress(25, 100))).toBe(0.25);
    expect(progressFraction('running', progress(0, 0, 3, 4))).toBe(0.75);
    expect(progressFraction('running', null)).toBe(0);
    expect(progressFraction('done', progress(0, 0))).toBe(1);
  });

  it('tones and final states', () => {
    expect(stateTone('done', true)).toBe('ok');
    expect(stateTone('done', false)).toBe('danger');
    expect(stateTone('detached')).toBe('warn');
    expect(isFinal('cancelled')).toBe(true);
    expect(isFinal('paused')).toBe(false);
  });

  it('picks the newest run per task', () => {
    const run = (id: string, taskName: string, createdAt: string) => ({ id, taskName, createdAt }) as Run;
    const latest = latestRunByTask([run('1', 'a', '2026-01-01'), run('2', 'a', '2026-01-03'), run('3', 'b', '2026-01-02')]);
    expect(latest.get('a')?.id).toBe('2');
    expect(latest.get('b')?.id).toBe('3');
  });

  it('writes durations as a clock and rounds axis maxima', () => {
    expect(clock(65)).toBe('1:05');
    expect(clock(3723)).toBe('1:02:03');
    expect(clock(-1)).toBe('—');
    expect(niceMax(0)).toBe(1);
    expect(niceMax(3.2e6)).toBe(5e6);
    expect(niceMax(1.9e6)).toBe(2e6);
  });

  it('draws one line per agent plus the total, scaled into the box', () => {
    const samples: RunSample[] = [
      { t: 0, bytesPerSec: 0, agents: { a: 0 } },
      { t: 1000, bytesPerSec: 1e6, agents: { a: 1e6 } },
      { t: 2000, bytesPerSec: 2e6, agents: {} },
    ];
    const g = chartGeometry(samples, ['a'], 100, 50);
    expect(g.max).toBe(2e6);
    expect(g.spanMs).toBe(2000);
    expect(g.series.map((s) => s.key)).toEqual(['total', 'a']);
    expect(g.series[0]?.points).toBe('0,50 50,25 100,0');
    expect(g.series[1]?.points).toBe('0,50 50,25 100,50');
  });
});
