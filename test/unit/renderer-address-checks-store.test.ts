// The address-checks store: one addresses.check in flight per address (a second click is ignored),
// the answer is kept per address name, a refused call is kept as the address's problem and cleared
// by the next check, and forget() clears what an address showed without touching another one.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AddressCheckResult } from '../../electron/contract/console.ts';
import { useAddressChecksStore } from '../../renderer/src/stores/address-checks.ts';
import { installFakeConsole, ScriptedTransport } from '../helpers/fake-console-transport.ts';

function checked(address: string, ok: boolean): AddressCheckResult {
  return {
    address,
    tunnel: 'old',
    directory: '/mnt/nas/projects',
    role: 'source',
    hosts: [{ ok: true, hostId: 'h1', hostName: 's1', verdict: ok ? 'ok' : 'findings', state: ok ? 'present' : 'missing', isMount: false, mount: null, matchesSpec: null, readable: ok ? true : null, writable: null, findings: ok ? [] : [{ severity: 'error', code: 'dir-missing', message: 'missing' }] }],
    sameMount: null,
    findings: [],
    ok,
    checkedAt: '2026-01-01T00:00:00Z',
  };
}

let transport: ScriptedTransport;

beforeEach(() => {
  transport = new ScriptedTransport();
  installFakeConsole(transport);
});

describe('address-checks store', () => {
  it('runs one check per address at a time and keeps what Ferry answered', async () => {
    const store = useAddressChecksStore();
    const first = store.check('src');
    expect(store.pending.src).toBe(true);
    expect(await store.check('src')).toBeNull();
    expect(transport.pending.map((p) => p.name)).toEqual(['addresses.check']);
    const sent = transport.answer('addresses.check', { ok: true, result: checked('src', true) });
    expect(sent.req).toEqual({ name: 'src' });
    expect((await first)?.ok).toBe(true);
    expect(store.pending.src).toBe(false);
    expect(store.checks.src?.hosts[0]).toMatchObject({ hostName: 's1', readable: true });
  });

  it('keeps a refused call as the address problem, clears it on the next check, and forgets one address only', async () => {
    const store = useAddressChecksStore();
    const refused = store.check('src');
    transport.answer('addresses.check', { ok: false, error: { code: 'not-found', message: 'There is no data address "src".' } });
    expect(await refused).toBeNull();
    expect(store.problems.src).toEqual({ code: 'not-found', message: 'There is no data address "src".' });
    const ok = store.check('src');
    const other = store.check('dst');
    transport.answer('addresses.check', { ok: true, result: checked('src', false) });
    transport.answer('addresses.check', { ok: true, result: checked('dst', true) });
    await Promise.all([ok, other]);
    expect(store.problems.src).toBeNull();
    expect(store.checks.src?.ok).toBe(false);
    store.forget('src');
    expect(store.checks.src).toBeUndefined();
    expect(store.checks.dst?.address).toBe('dst');
  });
});
