import { describe, expect, it } from 'vitest';
import { MountSpec } from '../../electron/contract/plan.ts';
import { parsePlanText, planToYaml } from '../../electron/plan/plan-file.ts';

const GOOD = `
version: 1
hosts:
  - { name: src1, address: 198.18.0.2 }
  - { name: src2, address: 198.18.0.3 }
  - { name: dst1, address: 198.18.0.4, dataAddress: 10.0.0.4 }
tunnels:
  - { name: src-t, role: source, hosts: [src1, src2] }
  - { name: dst-t, role: destination, hosts: [dst1] }
mounts:
  - { tunnel: src-t, nasType: extreme, server: nas-a.example, export: /share/data, directory: /mnt/src }
addresses:
  - { name: nas-a, tunnel: src-t, directory: /mnt/src }
  - { name: nas-b, tunnel: dst-t, directory: /mnt/dst }
tasks:
  - name: all
    source: nas-a
    destination: nas-b
    options: { mode: incremental, verify: full, exclude: ['*.tmp'] }
`;

describe('plan files', () => {
  it('parses a good plan, fills defaults and round-trips through YAML', () => {
    const result = parsePlanText(GOOD);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.plan.hosts[0]).toMatchObject({ port: 22, user: 'root', auth: { kind: 'agent' }, jumpHost: null });
    expect(result.plan.tasks[0]?.options).toMatchObject({ mode: 'incremental', verify: 'full', overwrite: 'if-different', mirror: false });
    const again = parsePlanText(planToYaml(result.plan));
    expect(again).toEqual(result);
  });

  it('points at the line of a broken reference', () => {
    const result = parsePlanText(GOOD.replace('source: nas-a', 'source: nas-x'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ path: 'tasks.0.source', line: 17, message: 'No data address named "nas-x".' })]);
  });

  it('refuses a task whose source is on a destination tunnel', () => {
    const result = parsePlanText(GOOD.replace('source: nas-a', 'source: nas-b'));
    expect(!result.ok && result.problems[0]?.message).toMatch(/a task's source must be on a source tunnel/);
  });

  it('reports schema problems with positions, and YAML syntax errors', () => {
    const bad = parsePlanText(GOOD.replace('directory: /mnt/dst', 'directory: mnt/dst').replace('port: 22', ''));
    expect(!bad.ok && bad.problems[0]).toMatchObject({ path: 'addresses.1.directory', line: 14, message: expect.stringMatching(/absolute path/) });
    const syntax = parsePlanText('version: 1\nhosts: [\n');
    expect(!syntax.ok && syntax.problems[0]?.message).toMatch(/^YAML:/);
    const unknownKey = parsePlanText('version: 1\nhostz: []\n');
    expect(!unknownKey.ok && unknownKey.problems[0]?.message).toMatch(/hostz/);
  });

  it('finds duplicate names, unknown tunnel hosts and jump loops', () => {
    const text = `
version: 1
hosts:
  - { name: a, address: 198.18.0.2, jumpHost: b }
  - { name: b, address: 198.18.0.3, jumpHost: a }
  - { name: a, address: 198.18.0.4 }
tunnels:
  - { name: t, role: source, hosts: [a, ghost] }
`;
    const result = parsePlanText(text);
    const messages = result.ok ? [] : result.problems.map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        '"a" is used twice in hosts; names must be unique.',
        'The jump hosts of "a" form a loop.',
        'No host named "ghost". Add it to hosts or remove it from the tunnel.',
      ]),
    );
  });

  it('Extreme NAS exports must start with /share', () => {
    const m = { tunnel: 't', nasType: 'extreme', server: 'nas', directory: '/mnt/x' };
    expect(MountSpec.safeParse({ ...m, export: '/data' }).success).toBe(false);
    expect(MountSpec.safeParse({ ...m, export: '/share' }).success).toBe(true);
    expect(MountSpec.safeParse({ ...m, export: '/shared' }).success).toBe(false);
    expect(MountSpec.safeParse({ ...m, nasType: 'general', export: '/data' }).success).toBe(true);
  });
});
