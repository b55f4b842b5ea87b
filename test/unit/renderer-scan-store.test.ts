// The scan store as a cache of the tasks' last scans: it subscribes to scans.changed before it
// loads tasks.scans; a scan's end pushed before tasks.scan answered is not overwritten by the
// older running record; the shown task is the chosen one, else the latest scanned; a refused start
// is kept for its task; the Plan step's instance speed goes with the call only when it is usable.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ScanRecord } from '../../electron/contract/console.ts';
import type { ConsoleClient } from '../../renderer/src/api/client.ts';
import { useScanStore } from '../../renderer/src/stores/scan.ts';
import { installFakeConsole, ScriptedTransport } from '../helpers/fake-console-transport.ts';

function record(task: string, state: ScanRecord['state'], startedAt = '2026-01-01T00:00:00Z'): ScanRecord {
  return { task, source: `${task}-from`, directory: '/mnt/src', state, host: state === 'running' ? null : 'src1', startedAt, finishedAt: state === 'running' ? null : startedAt, summary: null, estimate: null, failure: null };
}

let transport: ScriptedTransport;
let client: ConsoleClient;

beforeEach(() => {
  transport = new ScriptedTransport();
  client = installFakeConsole(transport);
});

describe('scan store', () => {
  it('subscribes before loading, and shows the latest scanned task unless one is chosen', async () => {
    const store = useScanStore();
    const init = store.init();
    expect(transport.log.indexOf('subscribe scans.changed')).toBeLessThan(transport.log.indexOf('call tasks.scans'));
    transport.answer('tasks.scans', { ok: true, result: [record('a', 'done', '2026-01-01T00:00:00Z'), record('b', 'failed', '2026-01-02T00:00:00Z')] });
    await init;
    expect(Object.keys(store.scans).sort()).toEqual(['a', 'b']);
    expect(store.shownTask).toBe('b');
    store.show('a');
    expect(store.shownTask).toBe('a');
  });

  it('keeps the end of a scan pushed before its start answered, and passes the instance speed', async () => {
    const store = useScanStore();
    const init = store.init();
    transport.answer('tasks.scans', { ok: true, result: [] });
    await init;
    const scanning = store.scan('a', 5);
    expect(store.isRunning('a')).toBe(true);
    client.event({ event: 'scans.changed', payload: [record('a', 'done')] });
    const call = transport.answer('tasks.scan', { ok: true, result: record('a', 'running') });
    expect(call.req).toEqual({ task: 'a', instanceGbps: 5 });
    await scanning;
    expect(store.scans.a?.state).toBe('done');
    expect(store.isRunning('a')).toBe(false);
    expect(store.shownTask).toBe('a');

    const again = store.scan('a', null);
    const second = transport.answer('tasks.scan', { ok: false, error: { code: 'conflict', message: 'A scan of task "a" is running.' } });
    expect(second.req).toEqual({ task: 'a' });
    await again;
    expect(store.startProblems.a).toMatchObject({ code: 'conflict' });
  });
});
