/**
 * Capacity planning, pure arithmetic shared by the controller, the CLI and the console:
 * instances per tunnel = expected speed / speed of one instance, rounded up, and the time the
 * data takes at the expected speed. Speeds are in Gbit/s (10^9 bit/s), sizes in bytes.
 */

/** What one 4-core instance moves, by Ferry's measurements: the console's default. */
export const DEFAULT_INSTANCE_GBPS = 3;

export interface CapacityPlan {
  instancesPerTunnel: number;
  /** Seconds to move the data at the expected speed (the instances can sustain it). */
  etaSeconds: number;
  /** What the planned instances can carry together. */
  capacityGbps: number;
}

export class PlanningInputError extends Error {
  override name = 'PlanningInputError';
}

export function planCapacity(dataBytes: number, expectedGbps: number, instanceGbps = DEFAULT_INSTANCE_GBPS): CapacityPlan {
  if (!(dataBytes >= 0) || !Number.isFinite(dataBytes)) throw new PlanningInputError('The data size must be zero or more.');
  if (!(expectedGbps > 0) || !Number.isFinite(expectedGbps)) throw new PlanningInputError('The expected speed must be above 0 Gbit/s.');
  if (!(instanceGbps > 0) || !Number.isFinite(instanceGbps)) throw new PlanningInputError('The speed of one instance must be above 0 Gbit/s.');
  // Rounding guard: 6 / 3 must give 2, not 2.0000000001 -> 3.
  const instancesPerTunnel = Math.max(1, Math.ceil(expectedGbps / instanceGbps - 1e-9));
  return {
    instancesPerTunnel,
    etaSeconds: (dataBytes * 8) / (expectedGbps * 1e9),
    capacityGbps: instancesPerTunnel * instanceGbps,
  };
}
