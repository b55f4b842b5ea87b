/**
 * How long a scanned tree takes to migrate, pure arithmetic shared by the controller and the
 * console (like planning.ts): two bounds, and the larger one is the estimate.
 *   bytes bound:   bytes x 8 / (instances x speed of one instance in Gbit/s x 10^9)
 *   entries bound: entries / (instances x entries per second of one instance)
 * `instances` is what carries the task: the smaller of its source and destination agent counts
 * (data flows agent to agent, so the thinner side sets the pace).
 */

/**
 * Entries one instance creates per second on small files, by Ferry's benchmark (npm run bench:
 * 4,445 files/s for 50,000 x 4 KiB, all three roles on one 2-core machine), rounded down.
 */
export const DEFAULT_INSTANCE_ENTRIES_PER_SEC = 4000;

export interface EstimateInputs {
  bytes: number;
  entries: number;
  instances: number;
  instanceGbps: number;
  instanceEntriesPerSec?: number;
}

export interface TransferEstimate {
  instances: number;
  instanceGbps: number;
  instanceEntriesPerSec: number;
  bytesSeconds: number;
  entriesSeconds: number;
  /** The larger bound. */
  seconds: number;
  /** Which bound dominates: 'bytes' (bandwidth-bound) or 'entries' (per-file cost bound). */
  bound: 'bytes' | 'entries';
}

export function estimateTransfer(input: EstimateInputs): TransferEstimate {
  const entriesPerSec = input.instanceEntriesPerSec ?? DEFAULT_INSTANCE_ENTRIES_PER_SEC;
  if (!(input.instances >= 1) || !Number.isInteger(input.instances)) throw new RangeError('An estimate needs at least one instance on each side.');
  if (!(input.instanceGbps > 0) || !Number.isFinite(input.instanceGbps)) throw new RangeError('The speed of one instance must be above 0 Gbit/s.');
  if (!(entriesPerSec > 0) || !Number.isFinite(entriesPerSec)) throw new RangeError('The entries per second of one instance must be above 0.');
  const bytesSeconds = (input.bytes * 8) / (input.instances * input.instanceGbps * 1e9);
  const entriesSeconds = input.entries / (input.instances * entriesPerSec);
  return {
    instances: input.instances,
    instanceGbps: input.instanceGbps,
    instanceEntriesPerSec: entriesPerSec,
    bytesSeconds,
    entriesSeconds,
    seconds: Math.max(bytesSeconds, entriesSeconds),
    bound: entriesSeconds > bytesSeconds ? 'entries' : 'bytes',
  };
}
