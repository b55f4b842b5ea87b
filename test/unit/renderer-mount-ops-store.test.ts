// The mount-ops store: one call in flight per mount spec (a second click is ignored), mounts.apply
// always carries the confirmation, its check replaces the shown one, a fresh check drops the shown
// mount run, a refused call is kept as the spec's problem, and forget() clears what a spec showed.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MountApplyResult, MountCheckResult } from '../../electron/contract/console.ts';
import { mountOpKey, useMountOpsStore } from '../../renderer/src/stores/mount-ops.ts';
import { installFakeConsole, ScriptedTransport } from '../helpers/fake-console-transport.ts';

const KEY = { tunnel: 'old', directory: '/mnt/nas' };

function checked(ok: boolean, at = '2026-01-01T00:00:00Z'): MountCheckResult {
  return {
    tunnel: 'old',
    directory: '/mnt/nas',
    role: 'source',
    command: 'mount -t nfs -o vers=3 nas:/x /mnt/nas',
    hosts: [{ ok: true, hostId: 'h1', hostName: 'm1', verdict: ok ? 'ok' : 'findings', state: ok ? 'present' : 'missing', isMount: ok, mount: null, matchesSpec: null, readable: null, writable: null, findings: ok ? [] : [{ severity: 'error', code: 'dir-missing', message: 'missing' }] }],
    sameMount: null,
    findings: [],
    ok,
    checkedAt: at,
  };
}

function applied(): MountApplyResult {
  return {
    tunnel: 'old',
    directory: '/mnt/nas',
    command: 'mount -t nfs -o vers=3 nas:/x /mnt/nas',
    hosts: [{ ok: true, hostId: 'h1', hostName: 'm1', outcome: 'mount-failed', command: 'mkdir -p /mnt/nas && mount …', exitCode: 32, stderrTail: 'mount: no nfs', message: 'failed' }],
    check: checked(false, '2026-01-01T00:01:00Z'),
  };
}

let transport: ScriptedTransport;

beforeEach(() => {
  transport = new ScriptedTransport();
  installFakeConsole(transport);
});

describe('mount-ops store', () => {
  it('runs one call per spec at a time and shows what Ferry answered', async () => {
    const store = useMountOpsStore();
    const first = store.check(KEY);
    expect(store.pending[mountOpKey(KEY)]).toBe('checking');
    expect(await store.check(KEY)).toBeNull();
    expect(transport.pending.map((p) => p.name)).toEqual(['mounts.check']);
    const sent = transport.answer('mounts.check', { ok: true, result: checked(true) });
    expect(sent.req).toEqual(KEY);
    expect((await first)?.ok).toBe(true);
    expect(store.pending[mountOpKey(KEY)]).toBeNull();
    expect(store.checks[mountOpKey(KEY)]?.ok).toBe(true);
  });

  it('sends the confirmation with a mount, keeps its check, and a new check drops the shown mount run', async () => {
    const store = useMountOpsStore();
    const mounting = store.apply(KEY, ['h1'], true);
    const sent = transport.answer('mounts.apply', { ok: true, result: applied() });
    expect(sent.req).toEqual({ ...KEY, hostIds: ['h1'], useSudo: true, confirm: true });
    await mounting;
    expect(store.applies[mountOpKey(KEY)]?.hosts[0]).toMatchObject({ outcome: 'mount-failed' });
    expect(store.checks[mountOpKey(KEY)]?.checkedAt).toBe('2026-01-01T00:01:00Z');
    const again = store.check(KEY);
    transport.answer('mounts.check', { ok: true, result: checked(true, '2026-01-01T00:02:00Z') });
    await again;
    expect(store.applies[mountOpKey(KEY)]).toBeUndefined();
    expect(store.checks[mountOpKey(KEY)]?.checkedAt).toBe('2026-01-01T00:02:00Z');
  });

  it('keeps a refused call as the spec problem, and forgets everything a spec showed', async () => {
    const store = useMountOpsStore();
    const refused = store.check(KEY);
    transport.answer('mounts.check', { ok: false, error: { code: 'not-found', message: 'There is no mount spec for /mnt/nas on tunnel "old".' } });
    expect(await refused).toBeNull();
    expect(store.problems[mountOpKey(KEY)]).toEqual({ code: 'not-found', message: 'There is no mount spec for /mnt/nas on tunnel "old".' });
    const ok = store.check(KEY);
    transport.answer('mounts.check', { ok: true, result: checked(true) });
    await ok;
    expect(store.problems[mountOpKey(KEY)]).toBeNull();
    store.forget(KEY);
    expect(store.checks[mountOpKey(KEY)]).toBeUndefined();
  });
});
