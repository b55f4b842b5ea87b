import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { HostFacts } from '../../agent/protocol/facts.ts';
import { checkPrerequisites, probeHostFacts } from '../../agent/probe/host-facts.ts';

describe('host facts', () => {
  it('probes this machine: real cores, memory, disk and mounts', async () => {
    const facts = HostFacts.parse(await probeHostFacts(os.tmpdir()));
    expect(facts.cpuCores).toBe(os.cpus().length);
    expect(facts.memoryBytes).toBe(os.totalmem());
    expect(facts.disk.totalBytes).toBeGreaterThan(facts.disk.freeBytes);
    expect(facts.mountsReadable).toBe(true);
    expect(facts.mounts.some((m) => m.mountPoint === '/')).toBe(true);
    expect(facts.prerequisites.map((p) => p.code)).toEqual(['cpu-cores', 'memory', 'disk-free']);
  });

  it('says what is short, as a warning and not a silent pass', () => {
    const checks = checkPrerequisites(2, 4 * 1024 ** 3, 100 * 1024 ** 3);
    expect(checks.map((c) => [c.code, c.ok])).toEqual([
      ['cpu-cores', false],
      ['memory', false],
      ['disk-free', true],
    ]);
    expect(checks[0]?.message).toMatch(/Only 2 CPU cores/);
    expect(checks[1]?.message).toMatch(/at least 8 GiB/);
  });

  it('reports mounts as unreadable where there is no mountinfo', async () => {
    const facts = await probeHostFacts(os.tmpdir(), '/nonexistent/mountinfo');
    expect(facts.mountsReadable).toBe(false);
    expect(facts.mounts).toEqual([]);
  });
});
