import { describe, expect, it } from 'vitest';
import { CallResult, consoleCalls, consoleEvents, HostSpec, isCallName } from '../../electron/contract/console.ts';

describe('console contract', () => {
  it('knows its calls and refuses others', () => {
    expect(isCallName('hosts.list')).toBe(true);
    expect(isCallName('hosts.nuke')).toBe(false);
    expect(isCallName('__proto__')).toBe(false);
    expect(isCallName('constructor')).toBe(false);
    expect(isCallName(42)).toBe(false);
  });

  it('fills host defaults and explains bad fields', () => {
    expect(HostSpec.parse({ name: 'ecs-1', address: '198.18.0.2' })).toEqual({
      name: 'ecs-1',
      address: '198.18.0.2',
      port: 22,
      user: 'root',
      auth: { kind: 'agent' },
      jumpHost: null,
      dataAddress: null,
    });
    const bad = consoleCalls['hosts.add'].req.safeParse({ name: '-bad name', address: '', port: 70000 });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['name', 'address', 'port']));
    expect(bad.error?.issues.find((i) => i.path[0] === 'name')?.message).toMatch(/letters, digits/);
  });

  it('rejects unknown keys so typos do not pass silently', () => {
    expect(consoleCalls['hosts.list'].req.safeParse({ extra: 1 }).success).toBe(false);
    expect(consoleCalls['settings.update'].req.safeParse({ locale: 'zh-CN' }).success).toBe(true);
    expect(consoleCalls['settings.update'].req.safeParse({ locale: 'fr' }).success).toBe(false);
  });

  it('envelopes are discriminated by ok', () => {
    expect(CallResult.safeParse({ ok: true, result: [] }).success).toBe(true);
    expect(CallResult.safeParse({ ok: false, error: { code: 'unknown-call', message: 'x' } }).success).toBe(true);
    expect(CallResult.safeParse({ ok: false, error: { code: 'nope', message: 'x' } }).success).toBe(false);
  });

  it('every event payload has a schema', () => {
    for (const schema of Object.values(consoleEvents)) expect(typeof schema.safeParse).toBe('function');
    expect(consoleEvents['hosts.changed'].safeParse([]).success).toBe(true);
  });
});
