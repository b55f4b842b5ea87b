/**
 * The pure parts of remote runs: a plan task resolved into workers, coordinator, data addresses and
 * the engine's TaskSpec; the derived task id (stable for the same plan task, new when it changes);
 * clear errors for plans a run cannot use; the CLI's --accept-host-key parsing and its secrets from
 * the environment (no terminal).
 */
import { DEFAULT_RANGE_SIZE } from '../../agent/protocol/task.ts';
import path from 'node:path';
import os from 'node:os';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../electron/contract/plan.ts';
import { cliAuthProvider, parseAcceptedKeys } from '../../electron/cli/ssh-auth.ts';
import { PlanTaskError, resolvePlanTask } from '../../electron/remote/plan-task.ts';
import { generateKey } from '../helpers/test-hosts/keys.ts';

function plan(overrides: { options?: Record<string, unknown>; agents?: string[]; tasks?: unknown[] } = {}): Plan {
  return Plan.parse({
    version: 1,
    hosts: [
      { name: 'bastion', address: '198.18.9.2' },
      { name: 's1', address: '10.0.0.1', jumpHost: 'bastion' },
      { name: 's2', address: '10.0.0.2', jumpHost: 'bastion' },
      { name: 'd1', address: '203.0.113.9', dataAddress: '10.1.0.1' },
      { name: 'd2', address: '10.1.0.2', user: 'ops', auth: { kind: 'password' } },
    ],
    tunnels: [
      { name: 'old', role: 'source', hosts: ['s1', 's2'] },
      { name: 'new', role: 'destination', hosts: ['d1', 'd2'] },
    ],
    addresses: [
      { name: 'from', tunnel: 'old', directory: '/mnt/old' },
      { name: 'to', tunnel: 'new', directory: '/mnt/new', ...(overrides.agents ? { agents: overrides.agents } : {}) },
    ],
    tasks: overrides.tasks ?? [{ name: 'move', source: 'from', destination: 'to', options: overrides.options ?? {} }],
  });
}

describe('resolvePlanTask', () => {
  it('gives every host its role and root, destinations their data address, and the first destination coordinates', () => {
    const layout = resolvePlanTask(plan());
    expect(layout.workers.map((w) => [w.host.name, w.role, w.root, w.advertiseHost])).toEqual([
      ['s1', 'source', '/mnt/old', '10.0.0.1'],
      ['s2', 'source', '/mnt/old', '10.0.0.2'],
      ['d1', 'destination', '/mnt/new', '10.1.0.1'],
      ['d2', 'destination', '/mnt/new', '10.1.0.2'],
    ]);
    expect(layout.coordinator.name).toBe('d1');
    expect(layout.coordinatorAddress).toBe('10.1.0.1');
    expect([...layout.hostsByName.keys()].sort()).toEqual(['bastion', 'd1', 'd2', 's1', 's2']);
    expect(layout.spec).toMatchObject({ sourceRoot: '/mnt/old', destinationRoot: '/mnt/new', overwrite: 'if-different', verify: 'transferred', bwlimit: null, concurrency: 4 });
    expect(layout.spec.rangeSize).toBe(DEFAULT_RANGE_SIZE);
  });

  it('maps the plan options onto the engine spec', () => {
    const { spec } = resolvePlanTask(
      plan({
        options: {
          mode: 'incremental',
          checksum: true,
          exclude: ['*.tmp'],
          newerThan: '2026-01-01T00:00:00Z',
          bandwidth: { bytesPerSecond: 1000, windows: [{ from: '22:00', to: '06:30' }] },
          concurrency: 16,
          rangeSize: 512 * 1024 * 1024,
          mirror: true,
        },
      }),
    );
    expect(spec).toMatchObject({ mode: 'incremental', checksum: true, exclude: ['*.tmp'], mirror: true, concurrency: 16, rangeSize: 512 * 1024 * 1024 });
    expect(spec.newerThanNs).toBe((BigInt(Date.parse('2026-01-01T00:00:00Z')) * 1_000_000n).toString());
    // One limit for the task, split between its two source hosts (the engine limits each source).
    expect(spec.bwlimit).toEqual({ bytesPerSec: 500, windows: [{ from: 1320, to: 390 }] });
  });

  it('derives the task id from the plan task: the same task keeps it, changed options or hosts get a new one', () => {
    const a = resolvePlanTask(plan()).spec.taskId;
    expect(a).toMatch(/^move-[0-9a-f]{16}$/);
    expect(resolvePlanTask(plan()).spec.taskId).toBe(a);
    expect(resolvePlanTask(plan({ options: { verify: 'full' } })).spec.taskId).not.toBe(a);
    expect(resolvePlanTask(plan({ agents: ['d2'] })).spec.taskId).not.toBe(a);
    expect(resolvePlanTask(plan({ agents: ['d2'] })).coordinator.name).toBe('d2');
    expect(resolvePlanTask(plan(), undefined, 'd2')).toMatchObject({ coordinatorAddress: '10.1.0.2', spec: { taskId: a } });
    expect(() => resolvePlanTask(plan(), undefined, 'bastion')).toThrow(/coordinator "bastion" is not a host of task "move"/);
  });

  it('asks for --task when the plan has several, and names the tasks there are', () => {
    const two = plan({
      tasks: [
        { name: 'a', source: 'from', destination: 'to' },
        { name: 'b', source: 'from', destination: 'to' },
      ],
    });
    expect(() => resolvePlanTask(two)).toThrow(PlanTaskError);
    expect(() => resolvePlanTask(two)).toThrow(/2 tasks \(a, b\)\. Name the one to run with --task NAME/);
    expect(() => resolvePlanTask(two, 'c')).toThrow(/no task "c" \(tasks: a, b\)/);
    expect(resolvePlanTask(two, 'b').task.name).toBe('b');
    expect(() => resolvePlanTask(plan({ tasks: [] }))).toThrow(/no tasks/);
  });
});

describe('CLI host keys and secrets', () => {
  it('parses --accept-host-key NAME=SHA256:… and refuses anything else', () => {
    const fp = `SHA256:${'A'.repeat(43)}`;
    expect(parseAcceptedKeys([`src1=${fp}`, `dst-2=${fp}`])).toEqual({ src1: fp, 'dst-2': fp });
    expect(() => parseAcceptedKeys(['src1'])).toThrow(/NAME=SHA256:FINGERPRINT/);
    expect(() => parseAcceptedKeys(['src1=MD5:aa:bb'])).toThrow(/NAME=SHA256:FINGERPRINT/);
  });

  it('takes passwords and passphrases from the environment, and says what to set without a terminal', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-cli-auth-'));
    try {
      const locked = path.join(dir, 'locked');
      const open = path.join(dir, 'open');
      await generateKey(locked, { passphrase: 'secret words' });
      await generateKey(open);
      const hosts = plan().hosts;
      const d2 = hosts.find((h) => h.name === 'd2')!;
      const keyHost = (keyFile: string) => ({ ...d2, auth: { kind: 'key' as const, keyFile } });

      const withEnv = cliAuthProvider({ env: { FERRY_SSH_PASSWORD: 'pw', FERRY_SSH_PASSPHRASE: 'secret words' }, interactive: false });
      expect(await withEnv(d2)).toEqual({ kind: 'password', password: 'pw' });
      expect(await withEnv(keyHost(locked))).toEqual({ kind: 'key', keyFile: locked, passphrase: 'secret words' });
      expect(await withEnv(keyHost(open))).toEqual({ kind: 'key', keyFile: open });

      const bare = cliAuthProvider({ env: {}, interactive: false });
      await expect(bare(d2)).rejects.toThrow(/logs in with a password\. Set FERRY_SSH_PASSWORD or run on a terminal/);
      await expect(bare(keyHost(locked))).rejects.toThrow(/needs its passphrase\. Set FERRY_SSH_PASSPHRASE/);

      const asked: string[] = [];
      const prompted = cliAuthProvider({ env: {}, interactive: true, prompt: async (q) => (asked.push(q), 'secret words') });
      expect(await prompted(keyHost(locked))).toMatchObject({ passphrase: 'secret words' });
      expect(await prompted(keyHost(locked))).toMatchObject({ passphrase: 'secret words' });
      expect(asked).toEqual([`Passphrase for ${locked}: `]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
