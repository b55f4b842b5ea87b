import { describe, expect, it } from 'vitest';
import { planCapacity, PlanningInputError } from '../../electron/contract/planning.ts';

const TB = 1e12;
const DAY = 86_400;

describe('capacity planning', () => {
  it('200 TB at 2 Gbps: one 3 Gbps instance per tunnel, about 9.3 days', () => {
    const plan = planCapacity(200 * TB, 2);
    expect(plan.instancesPerTunnel).toBe(1);
    expect(plan.etaSeconds).toBe(800_000);
    expect(plan.etaSeconds / DAY).toBeCloseTo(9.26, 2);
  });

  it('200 TB at 5 Gbps: two instances per tunnel, about 3.7 days', () => {
    const plan = planCapacity(200 * TB, 5);
    expect(plan.instancesPerTunnel).toBe(2);
    expect(plan.capacityGbps).toBe(6);
    expect(plan.etaSeconds).toBe(320_000);
  });

  it('rounds up, but not on exact multiples', () => {
    expect(planCapacity(1, 6, 3).instancesPerTunnel).toBe(2);
    expect(planCapacity(1, 6.1, 3).instancesPerTunnel).toBe(3);
    expect(planCapacity(1, 0.3, 0.1).instancesPerTunnel).toBe(3);
    expect(planCapacity(1, 0.5, 3).instancesPerTunnel).toBe(1);
  });

  it('refuses impossible inputs with a sentence that says what to fix', () => {
    expect(() => planCapacity(-1, 2)).toThrow(PlanningInputError);
    expect(() => planCapacity(1, 0)).toThrow(/expected speed/);
    expect(() => planCapacity(1, 2, Number.NaN)).toThrow(/one instance/);
  });
});
