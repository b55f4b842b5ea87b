// The runs store as a cache of Ferry's runs: it subscribes to runs.changed and runs.progress
// before it loads the list (so a reload reconnects without a gap), keeps the newest snapshot of
// each run, and turns a start's typed failure into a question: an unknown key is trusted with
// hosts.trustKey and the task started again; a password goes back with the host it is for. A
// schedule load failure is kept apart from the run list's problem.
import { beforeEach, describe, expect, it } from 'vitest';
import type { HostFailure, Run, RunSnapshot } from '../../electron/contract/console.ts';
import type { ConsoleClient } from '../../renderer/src/api/client.ts';
import { useRunsStore } from '../../renderer/src/stores/runs.ts';
import { flush, installFakeConsole, ScriptedTransport } from '../helpers/fake-console-transport.ts';

function run(id: string, state: Run['state'] = 'running'): Run {
  return { id, taskName: 'projects', taskId: null, state, phase: 'copy', message: null, errorCode: null, failure: null, coordinator: 'dst1', sources: ['src1'], destinations: ['dst1'], createdAt: '2026-01-01T00:00:00Z', endedAt: null, progress: null, passed: null, reportId: null };
}

function snapshot(id: string, updatedAt: string, bytesPerSec: number): RunSnapshot {
  return { run: run(id), bytesPerSec, filesPerSec: 0, etaSeconds: null, elapsedSeconds: 1, agents: [], samples: [], links: [], notes: [], updatedAt };
}

function failure(code: HostFailure['code'], extra: Partial<HostFailure> = {}): HostFailure {
  return { code, message: code, stage: 'target', hostId: 'h-src1', hostName: 'src1', hostKey: null, authMethod: null, logTail: null, ...extra };
}

let transport: ScriptedTransport;
let client: ConsoleClient;

beforeEach(() => {
  transport = new ScriptedTransport();
  client = installFakeConsole(transport);
});

describe('runs store', () => {
  it('subscribes to runs.changed and runs.progress before loading the list, and keeps the newest snapshot', async () => {
    const store = useRunsStore();
    const init = store.init();
    const listed = transport.log.indexOf('call runs.list');
    expect(transport.log.indexOf('subscribe runs.changed')).toBeLessThan(listed);
    expect(transport.log.indexOf('subscribe runs.progress')).toBeLessThan(listed);
    client.event({ event: 'runs.changed', payload: [run('r1'), run('r2')] });
    transport.answer('runs.list', { ok: true, result: [run('r1')] }); // older than the event
    await init;
    expect(store.runs.map((r) => r.id)).toEqual(['r1', 'r2']);
    client.event({ event: 'runs.progress', payload: snapshot('r1', '2026-01-01T00:00:02Z', 200) });
    client.event({ event: 'runs.progress', payload: snapshot('r1', '2026-01-01T00:00:01Z', 100) }); // late
    expect(store.snapshots.r1?.bytesPerSec).toBe(200);
  });

  it('asks to verify an unknown key, trusts exactly it, and starts the task again', async () => {
    const store = useRunsStore();
    const starting = store.start('projects');
    expect(store.starting).toBe('projects');
    const key = { keyType: 'ssh-ed25519', fingerprint: `SHA256:${'A'.repeat(43)}`, knownAt: [] };
    transport.answer('runs.start', { ok: true, result: { ok: false, failure: failure('host-key-unknown', { hostKey: key }) } });
    expect(await starting).toBeNull();
    expect(store.question).toMatchObject({ kind: 'host-key', task: 'projects', failure: { hostId: 'h-src1' } });
    const accepted = store.acceptKey();
    expect(store.question).toBeNull();
    const trust = transport.answer('hosts.trustKey', { ok: true, result: { ok: true, hostKey: key, alreadyKnown: false } });
    expect(trust.req).toEqual({ id: 'h-src1', fingerprint: key.fingerprint });
    await flush();
    const again = transport.answer('runs.start', { ok: true, result: { ok: true, run: run('r9', 'starting') } });
    expect(again.req).toEqual({ task: 'projects' });
    expect((await accepted)?.id).toBe('r9');
    expect(store.runs.map((r) => r.id)).toEqual(['r9']);
  });

  it('asks for a password and sends it with the host it is for; a failure no prompt fixes is kept for the task', async () => {
    const store = useRunsStore();
    const first = store.start('projects');
    transport.answer('runs.start', { ok: true, result: { ok: false, failure: failure('password-needed', { authMethod: 'password' }) } });
    await first;
    expect(store.question).toMatchObject({ kind: 'secret', secret: 'password' });
    const given = store.giveSecret('s3cret');
    const sent = transport.answer('runs.start', { ok: true, result: { ok: false, failure: failure('unreachable') } });
    expect(sent.req).toEqual({ task: 'projects', secret: { hostId: 'h-src1', secret: { password: 's3cret' } } });
    expect(await given).toBeNull();
    expect(store.question).toBeNull();
    expect(store.startProblems.projects?.failure?.code).toBe('unreachable');
  });

  it('keeps a schedule load failure apart from the run list, and clears it when schedules arrive', async () => {
    const store = useRunsStore();
    const init = store.init();
    transport.answer('runs.schedule', { ok: false, error: { code: 'internal', message: 'Ferry hit an unexpected error: plan.json: EIO.' } });
    transport.answer('runs.list', { ok: true, result: [run('r1')] });
    await init;
    await flush();
    expect(store.scheduleProblem?.message).toMatch(/plan\.json: EIO/);
    expect(store.error).toBeNull();
    // The next run list leaves it (it is not a run-list problem); the next schedules clear it.
    client.event({ event: 'runs.changed', payload: [run('r1'), run('r2')] });
    expect(store.scheduleProblem?.message).toMatch(/plan\.json: EIO/);
    const schedule = { task: 'projects', everyHours: 6, state: 'scheduled', nextRunAt: '2026-01-01T06:00:00.000Z', mode: 'incremental', lastAttempt: null } as const;
    client.event({ event: 'runs.schedule', payload: [schedule] });
    expect(store.scheduleProblem).toBeNull();
    expect(store.scheduleByTask.get('projects')?.nextRunAt).toBe(schedule.nextRunAt);
  });
});
