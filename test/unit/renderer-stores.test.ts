// Pinia stores as caches of Ferry's state: they subscribe before the first snapshot, a newer
// event beats an older answer, they reload after a reconnect, and settings are optimistic
// but reverted when Ferry refuses.
import { beforeEach, describe, expect, it } from 'vitest';
import { Host, type Settings } from '../../electron/contract/console.ts';
import type { ConsoleClient } from '../../renderer/src/api/client.ts';
import { useHostsStore } from '../../renderer/src/stores/hosts.ts';
import { useSettingsStore } from '../../renderer/src/stores/settings.ts';
import { flush, installFakeConsole, ScriptedTransport } from '../helpers/fake-console-transport.ts';

function host(name: string): Host {
  return Host.parse({ id: `id-${name}`, name, address: '198.18.0.2', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
}

const FACTS = {
  hostname: 'op-laptop',
  os: 'Linux',
  platform: 'linux',
  release: '6.1.0',
  arch: 'x64',
  cpuCores: 8,
  cpuModel: 'Test CPU',
  memoryBytes: 16 * 1024 ** 3,
  isRoot: false,
  disk: { path: '/data', freeBytes: 100 * 1024 ** 3, totalBytes: 200 * 1024 ** 3 },
  mounts: [],
  mountsReadable: true,
  prerequisites: [],
  probedAt: '2026-01-01T00:00:00Z',
};

let transport: ScriptedTransport;
let client: ConsoleClient;

beforeEach(() => {
  transport = new ScriptedTransport();
  client = installFakeConsole(transport);
});

describe('hosts store', () => {
  it('subscribes to hosts.changed before asking for the first snapshot', async () => {
    const store = useHostsStore();
    const init = store.init();
    expect(transport.log.indexOf('subscribe hosts.changed')).toBeGreaterThanOrEqual(0);
    expect(transport.log.indexOf('subscribe hosts.changed')).toBeLessThan(transport.log.indexOf('call hosts.list'));
    transport.answer('hosts.list', { ok: true, result: [host('a')] });
    transport.answer('hosts.localFacts', { ok: true, result: FACTS });
    await init;
    expect(store.hosts.map((h) => h.name)).toEqual(['a']);
    expect(store.hostsStatus).toBe('ready');
    expect(store.facts?.hostname).toBe('op-laptop');
  });

  it('keeps an event that arrives while the first snapshot is on its way', async () => {
    const store = useHostsStore();
    const init = store.init();
    client.event({ event: 'hosts.changed', payload: [host('a'), host('b')] });
    transport.answer('hosts.list', { ok: true, result: [host('a')] }); // older than the event
    transport.answer('hosts.localFacts', { ok: true, result: FACTS });
    await init;
    expect(store.hosts.map((h) => h.name)).toEqual(['a', 'b']);
  });

  it('reloads its snapshots after a reconnect', async () => {
    const store = useHostsStore();
    const init = store.init();
    transport.answer('hosts.list', { ok: true, result: [] });
    transport.answer('hosts.localFacts', { ok: true, result: FACTS });
    await init;
    client.reconnected();
    transport.answer('hosts.list', { ok: true, result: [host('missed')] });
    transport.answer('hosts.localFacts', { ok: true, result: FACTS });
    await flush();
    expect(store.hosts.map((h) => h.name)).toEqual(['missed']);
  });

  it('records a failed snapshot as an error state with the code', async () => {
    const store = useHostsStore();
    const init = store.init();
    transport.answer('hosts.list', { ok: false, error: { code: 'internal', message: 'disk on fire' } });
    transport.answer('hosts.localFacts', { ok: false, error: { code: 'internal', message: 'probe failed' } });
    await init;
    expect(store.hostsStatus).toBe('error');
    expect(store.hostsError).toEqual({ code: 'internal', message: 'disk on fire' });
    expect(store.factsStatus).toBe('error');
  });

  it('sorts hosts by name for display', async () => {
    const store = useHostsStore();
    const init = store.init();
    transport.answer('hosts.list', { ok: true, result: [] });
    transport.answer('hosts.localFacts', { ok: true, result: FACTS });
    await init;
    client.event({ event: 'hosts.changed', payload: [host('zeta'), host('alpha')] });
    expect(store.sortedHosts.map((h) => h.name)).toEqual(['alpha', 'zeta']);
  });
});

describe('settings store', () => {
  const saved: Settings = { locale: 'en', theme: 'system' };

  async function ready() {
    const store = useSettingsStore();
    const init = store.init();
    transport.answer('settings.get', { ok: true, result: saved });
    await init;
    return store;
  }

  it('applies a change at once and keeps what Ferry answers', async () => {
    const store = await ready();
    const update = store.update({ theme: 'dark' });
    expect(store.settings.theme).toBe('dark');
    const sent = transport.answer('settings.update', { ok: true, result: { locale: 'en', theme: 'dark' } });
    await update;
    expect(sent.req).toEqual({ theme: 'dark' });
    expect(store.settings).toEqual({ locale: 'en', theme: 'dark' });
    expect(store.error).toBeNull();
  });

  it('reverts when Ferry refuses the change', async () => {
    const store = await ready();
    const update = store.update({ locale: 'zh-CN' });
    expect(store.settings.locale).toBe('zh-CN');
    transport.answer('settings.update', { ok: false, error: { code: 'internal', message: 'read-only disk' } });
    await update;
    expect(store.settings.locale).toBe('en');
    expect(store.error?.code).toBe('internal');
  });

  it('follows settings changed by another console', async () => {
    const store = await ready();
    client.event({ event: 'settings.changed', payload: { locale: 'zh-CN', theme: 'light' } });
    expect(store.settings).toEqual({ locale: 'zh-CN', theme: 'light' });
  });
});
