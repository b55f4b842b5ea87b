// The renderer's console client over a fake transport: answers and events are validated
// against the contract, refusals become typed errors with field issues, bad forms never leave.
import { describe, expect, it, vi } from 'vitest';
import { Host, type CallName, type Hello } from '../../electron/contract/console.ts';
import { ConsoleClient, type Transport } from '../../renderer/src/api/client.ts';
import { ConsoleCallError } from '../../renderer/src/api/types.ts';

const HELLO: Hello = { protocolVersion: 1, appVersion: '1.2.3' };
// Through the schema, so contract defaults added later (e.g. new optional fields) are filled in.
const HOST = Host.parse({ id: 'h1', name: 'ecs-1', address: '198.18.0.2', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });

function clientWith(answer: (name: CallName, req: unknown) => unknown): { client: ConsoleClient; invoke: ReturnType<typeof vi.fn> } {
  const invoke = vi.fn(async (name: CallName, req: unknown) => answer(name, req));
  const transport: Transport = { shell: 'web', hello: HELLO, invoke, close: () => {} };
  return { client: new ConsoleClient().attach(transport), invoke };
}

describe('console client calls', () => {
  it('returns the validated result', async () => {
    const { client } = clientWith(() => ({ ok: true, result: [HOST] }));
    expect(await client.call('hosts.list', {})).toEqual([HOST]);
    expect(client.hello).toEqual(HELLO);
    expect(client.shell).toBe('web');
  });

  it('turns {ok:false} into a ConsoleCallError with its code and field issues', async () => {
    const { client } = clientWith(() => ({
      ok: false,
      error: { code: 'conflict', message: 'A host named "ecs-1" already exists.', issues: [{ path: 'name', message: '"ecs-1" is already used by another host.' }] },
    }));
    const err = await client.call('hosts.add', { name: 'ecs-1', address: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleCallError);
    const callError = err as ConsoleCallError;
    expect(callError.code).toBe('conflict');
    expect(callError.call).toBe('hosts.add');
    expect(callError.message).toContain('already exists');
    expect(callError.fieldErrors()).toEqual({ name: '"ecs-1" is already used by another host.' });
  });

  it('refuses an invalid request with field issues, without sending it', async () => {
    const { client, invoke } = clientWith(() => ({ ok: true, result: HOST }));
    const err = (await client.call('hosts.add', { name: '-bad name', address: '', port: 70000 }).catch((e: unknown) => e)) as ConsoleCallError;
    expect(err).toBeInstanceOf(ConsoleCallError);
    expect(err.code).toBe('invalid-request');
    expect(Object.keys(err.fieldErrors()).sort()).toEqual(['address', 'name', 'port']);
    expect(err.fieldErrors().name).toMatch(/letters, digits/);
    expect(invoke).not.toHaveBeenCalled();
  });

  it('sends the request as given (Ferry applies the defaults)', async () => {
    const { client, invoke } = clientWith(() => ({ ok: true, result: HOST }));
    await client.call('hosts.add', { name: 'ecs-1', address: '198.18.0.2' });
    expect(invoke).toHaveBeenCalledWith('hosts.add', { name: 'ecs-1', address: '198.18.0.2' });
  });

  it('rejects answers that do not match the contract', async () => {
    const wrongShape = clientWith(() => ({ ok: true, result: [{ name: 'no id' }] })).client;
    await expect(wrongShape.call('hosts.list', {})).rejects.toMatchObject({ code: 'version-mismatch' });
    const notAnEnvelope = clientWith(() => '<html>').client;
    await expect(notAnEnvelope.call('hosts.list', {})).rejects.toMatchObject({ code: 'internal' });
  });
});

describe('console client events', () => {
  it('delivers valid events to their subscribers only, and ignores bad or unknown ones', () => {
    const { client } = clientWith(() => null);
    const hosts = vi.fn();
    const settings = vi.fn();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const off = client.on('hosts.changed', hosts);
    client.on('settings.changed', settings);

    client.event({ event: 'hosts.changed', payload: [HOST] });
    client.event({ event: 'hosts.changed', payload: [{ name: 'bad' }] });
    client.event({ event: 'tasks.changed', payload: [] });
    client.event('garbage');
    expect(hosts).toHaveBeenCalledTimes(1);
    expect(hosts).toHaveBeenCalledWith([HOST]);
    expect(settings).not.toHaveBeenCalled();

    off();
    client.event({ event: 'hosts.changed', payload: [] });
    expect(hosts).toHaveBeenCalledTimes(1);
    client.event({ event: 'settings.changed', payload: { locale: 'zh-CN', theme: 'dark' } });
    expect(settings).toHaveBeenCalledWith({ locale: 'zh-CN', theme: 'dark' });
    warn.mockRestore();
  });

  it('reports connection changes once each, and reconnects', () => {
    const { client } = clientWith(() => null);
    const states: string[] = [];
    const reconnects = vi.fn();
    client.onConnection((s) => states.push(s));
    client.onReconnect(reconnects);
    client.setConnection('online');
    client.setConnection('reconnecting');
    client.setConnection('reconnecting');
    client.setConnection('online');
    client.reconnected();
    expect(states).toEqual(['reconnecting', 'online']);
    expect(client.connection).toBe('online');
    expect(reconnects).toHaveBeenCalledTimes(1);
  });
});
