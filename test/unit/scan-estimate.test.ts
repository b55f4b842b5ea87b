// The scan's migration estimate (electron/contract/scan-estimate.ts): the bytes bound is
// bytes x 8 / (instances x Gbit/s), the entries bound entries / (instances x entries/s), the
// larger one is the estimate and names itself; bad inputs are refused.
import { describe, expect, it } from 'vitest';
import { DEFAULT_INSTANCE_ENTRIES_PER_SEC, estimateTransfer } from '../../electron/contract/scan-estimate.ts';

describe('estimateTransfer', () => {
  it('is bandwidth-bound for large files: 30 TB on 2 instances of 3 Gbit/s take 40,000 s', () => {
    const e = estimateTransfer({ bytes: 30e12, entries: 1_000_000, instances: 2, instanceGbps: 3 });
    expect(e.bytesSeconds).toBeCloseTo(40_000, 6);
    expect(e.entriesSeconds).toBeCloseTo(1_000_000 / (2 * DEFAULT_INSTANCE_ENTRIES_PER_SEC), 6);
    expect(e.seconds).toBe(e.bytesSeconds);
    expect(e.bound).toBe('bytes');
  });

  it('is bound by the entry count for many small files: 100 million entries of 4 KiB', () => {
    const e = estimateTransfer({ bytes: 100e6 * 4096, entries: 100e6, instances: 4, instanceGbps: 3, instanceEntriesPerSec: 5000 });
    expect(e.entriesSeconds).toBe(5000);
    expect(e.bytesSeconds).toBeCloseTo((100e6 * 4096 * 8) / 12e9, 6);
    expect(e.seconds).toBe(5000);
    expect(e.bound).toBe('entries');
  });

  it('refuses zero instances or speeds', () => {
    expect(() => estimateTransfer({ bytes: 1, entries: 1, instances: 0, instanceGbps: 3 })).toThrow(/at least one instance/);
    expect(() => estimateTransfer({ bytes: 1, entries: 1, instances: 1, instanceGbps: 0 })).toThrow(/above 0 Gbit/);
    expect(() => estimateTransfer({ bytes: 1, entries: 1, instances: 1, instanceGbps: 1, instanceEntriesPerSec: -1 })).toThrow(/entries per second/);
  });
});
