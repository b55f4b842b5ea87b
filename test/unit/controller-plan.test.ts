// The controller's plan calls through `dispatch`, as both transports use them, on real files.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controller } from '../../electron/controller/controller.ts';

let dir: string;
let controller: Controller;
const events: string[] = [];

async function ok(name: string, req: unknown): Promise<unknown> {
  const result = await controller.dispatch(name, req);
  if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
  return result.result;
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-plan-'));
  controller = await Controller.open({ dataDir: dir, appVersion: '1.0.0', shell: 'web' });
  events.length = 0;
  controller.subscribe((e) => events.push(e.event));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function buildPlan(): Promise<void> {
  await ok('hosts.add', { name: 'src1', address: '198.18.0.2' });
  await ok('hosts.add', { name: 'dst1', address: '198.18.0.3' });
  await ok('tunnels.save', { tunnel: { name: 'src-t', role: 'source', hosts: ['src1'] } });
  await ok('tunnels.save', { tunnel: { name: 'dst-t', role: 'destination', hosts: ['dst1'] } });
  await ok('addresses.save', { address: { name: 'a', tunnel: 'src-t', directory: '/mnt/src' } });
  await ok('addresses.save', { address: { name: 'b', tunnel: 'dst-t', directory: '/mnt/dst' } });
  await ok('taskDefs.save', { task: { name: 'all', source: 'a', destination: 'b' } });
}

describe('controller plan calls', () => {
  it('builds a consistent plan step by step and announces each change', async () => {
    await buildPlan();
    const plan = (await ok('plan.get', {})) as { tasks: Array<{ options: { verify: string } }> };
    expect(plan.tasks[0]?.options.verify).toBe('transferred');
    expect(events.filter((e) => e === 'plan.changed')).toHaveLength(5);
  });

  it('refuses changes that would break references, and keeps the stored plan as it was', async () => {
    await buildPlan();
    const before = await fs.readFile(path.join(dir, 'plan.json'), 'utf8');
    const unknownHost = await controller.dispatch('tunnels.save', { tunnel: { name: 'x', role: 'source', hosts: ['ghost'] } });
    expect(unknownHost).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/No host named "ghost"/) } });
    const removeUsedTunnel = await controller.dispatch('tunnels.remove', { name: 'src-t' });
    expect(removeUsedTunnel).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const hosts = (await ok('hosts.list', {})) as Array<{ id: string; name: string }>;
    const removeUsedHost = await controller.dispatch('hosts.remove', { id: hosts[0]?.id });
    expect(removeUsedHost).toMatchObject({ ok: false, error: { message: expect.stringMatching(/used by tunnel "src-t"/) } });
    expect(await fs.readFile(path.join(dir, 'plan.json'), 'utf8')).toBe(before);
    expect(((await ok('hosts.list', {})) as unknown[]).length).toBe(2);
  });

  it('exports YAML that imports into a fresh data directory as the same plan', async () => {
    await buildPlan();
    const { yaml } = (await ok('plan.exportYaml', {})) as { yaml: string };
    expect(yaml).toMatch(/^# Ferry migration plan/);
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-plan-b-'));
    try {
      const fresh = await Controller.open({ dataDir: other, appVersion: '1.0.0', shell: 'web' });
      const imported = await fresh.dispatch('plan.importYaml', { yaml });
      expect(imported).toMatchObject({ ok: true, result: { hostsAdded: 2, hostsUpdated: 0 } });
      expect(await fresh.dispatch('plan.get', {})).toEqual(await controller.dispatch('plan.get', {}));
      const bad = await fresh.dispatch('plan.importYaml', { yaml: yaml.replace('source: a', 'source: zz') });
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/line \d+/) } });
    } finally {
      await fs.rm(other, { recursive: true, force: true });
    }
  });
});
