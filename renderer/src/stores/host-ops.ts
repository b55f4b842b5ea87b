/**
 * Host operations store: the live status of every host (hosts.statusList, kept current by the
 * `hosts.status` event) and the console's side of SSH work on a host: testing a connection,
 * trusting a host key, giving a password or passphrase, the agent's actions and its log tail,
 * importing from an SSH config. A cache of controller state plus what the operator must answer
 * now (a host key to compare, a secret to type); secrets are passed through to Ferry, never kept.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CallRequest, CallResponse, DeploySummary, HostFailure, HostSecret, HostStatus, SshConfigApplyResult, SshConfigPreview } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';

export type AgentAction = 'deploy' | 'stop' | 'restart' | 'uninstall';

/** What the console must ask the operator before it can go on with a host. */
export type HostQuestion =
  | { kind: 'host-key'; hostId: string; forHostId: string; failure: HostFailure }
  | { kind: 'secret'; hostId: string; forHostId: string; secret: 'password' | 'passphrase'; failure: HostFailure };

const QUESTION_CODES: Record<string, 'host-key' | 'password' | 'passphrase' | undefined> = {
  'host-key-unknown': 'host-key',
  'password-needed': 'password',
  'passphrase-needed': 'passphrase',
  'passphrase-wrong': 'passphrase',
};

export const useHostOpsStore = defineStore('ferry.hostOps', () => {
  const statuses = ref<Record<string, HostStatus>>({});
  /** The last failure per host that this console caused (a call error or a failed result). */
  const failures = ref<Record<string, HostFailure | null>>({});
  const problems = ref<Record<string, Problem | null>>({});
  const question = ref<HostQuestion | null>(null);
  const logs = ref<Record<string, string>>({});
  /** The last deployment this console ran per host (what was sent, how long it took). */
  const deploys = ref<Record<string, DeploySummary>>({});
  /** The host whose details are open on the Hosts screen. */
  const selected = ref<string | null>(null);
  /** Host ids with a call of this console in flight (the status' `busy` follows from Ferry). */
  const pending = ref<Record<string, string | null>>({});
  let revision = 0;
  let started = false;
  /**
   * A secret given for a host whose key turned out to be unknown: Ferry never tried it, so it is
   * passed once more to the test that follows trusting the key, then dropped. Not reactive.
   */
  let carried: { hostId: string; secret: HostSecret } | null = null;

  function applyStatuses(next: HostStatus[]): void {
    revision += 1;
    statuses.value = Object.fromEntries(next.map((s) => [s.hostId, s]));
  }

  async function loadStatuses(): Promise<void> {
    const seen = revision;
    try {
      const next = await consoleApi().call('hosts.statusList', {});
      if (seen === revision) applyStatuses(next);
    } catch {
      // The event stream brings the next snapshot; the inventory shows load errors already.
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const api = consoleApi();
    api.on('hosts.status', applyStatuses);
    api.onReconnect(() => void loadStatuses());
    await loadStatuses();
  }

  /** Runs one host call, recording its failure or call error; returns the result when it worked. */
  async function hostCall<T extends { ok: boolean }>(hostId: string, label: string, run: () => Promise<T>): Promise<T | null> {
    pending.value = { ...pending.value, [hostId]: label };
    problems.value = { ...problems.value, [hostId]: null };
    try {
      const result = await run();
      failures.value = { ...failures.value, [hostId]: result.ok ? null : (result as unknown as { failure: HostFailure }).failure };
      return result;
    } catch (err) {
      problems.value = { ...problems.value, [hostId]: describeError(err) };
      return null;
    } finally {
      pending.value = { ...pending.value, [hostId]: null };
    }
  }

  /** Asks the operator what the failure needs (trust a key, type a secret), if anything. */
  function askFor(forHostId: string, failure: HostFailure): void {
    const refusedPassword = failure.code === 'auth-failed' && failure.authMethod === 'password';
    const kind = refusedPassword ? 'password' : QUESTION_CODES[failure.code];
    if (kind === 'host-key') question.value = { kind: 'host-key', hostId: failure.hostId, forHostId, failure };
    else if (kind) question.value = { kind: 'secret', hostId: failure.hostId, forHostId, secret: kind, failure };
  }

  async function test(hostId: string, secret?: HostSecret): Promise<CallResponse<'hosts.test'> | null> {
    const req: CallRequest<'hosts.test'> = secret ? { id: hostId, secret } : { id: hostId };
    const result = await hostCall(hostId, 'testing', () => consoleApi().call('hosts.test', req));
    carried = secret && result && !result.ok && result.failure.code === 'host-key-unknown' && result.failure.hostId === hostId ? { hostId, secret } : null;
    if (result && !result.ok) askFor(hostId, result.failure);
    return result;
  }

  /** The operator compared the fingerprint and accepted it: trust it, then test again. */
  async function acceptKey(): Promise<void> {
    const q = question.value;
    if (q?.kind !== 'host-key' || !q.failure.hostKey) return;
    question.value = null;
    const trusted = await hostCall(q.forHostId, 'trusting', () => consoleApi().call('hosts.trustKey', { id: q.hostId, fingerprint: q.failure.hostKey?.fingerprint ?? '' }));
    const secret = carried?.hostId === q.forHostId ? carried.secret : undefined;
    carried = null;
    if (trusted?.ok) await test(q.forHostId, secret);
  }

  /** The operator typed the password or passphrase: test the host it is for, then the one asked for. */
  async function giveSecret(value: string): Promise<void> {
    const q = question.value;
    if (q?.kind !== 'secret') return;
    question.value = null;
    const secret: HostSecret = q.secret === 'password' ? { password: value } : { passphrase: value };
    const result = await test(q.hostId, secret);
    if (result?.ok && q.hostId !== q.forHostId) await test(q.forHostId);
  }

  /** Forgets what this console last saw go wrong on a host (after it was edited). */
  function clearFailure(hostId: string): void {
    failures.value = { ...failures.value, [hostId]: null };
    problems.value = { ...problems.value, [hostId]: null };
  }

  function dismissQuestion(): void {
    question.value = null;
    carried = null;
  }

  async function agent(hostId: string, action: AgentAction): Promise<boolean> {
    const api = consoleApi();
    if (action === 'deploy') {
      const deployed = await hostCall(hostId, action, () => api.call('agents.deploy', { id: hostId }));
      if (deployed?.ok) deploys.value = { ...deploys.value, [hostId]: deployed.deploy };
      else if (deployed) askFor(hostId, deployed.failure);
      return deployed?.ok ?? false;
    }
    const result = await hostCall(hostId, action, () =>
      action === 'stop' ? api.call('agents.stop', { id: hostId }) : action === 'restart' ? api.call('agents.restart', { id: hostId }) : api.call('agents.uninstall', { id: hostId }),
    );
    if (result && !result.ok) askFor(hostId, result.failure);
    return result?.ok ?? false;
  }

  async function logTail(hostId: string, lines = 200): Promise<void> {
    const result = await hostCall(hostId, 'log', () => consoleApi().call('agents.logTail', { id: hostId, lines }));
    if (result?.ok) logs.value = { ...logs.value, [hostId]: result.text };
  }

  async function forgetSecret(hostId: string): Promise<void> {
    await consoleApi().call('hosts.forgetSecret', { id: hostId });
  }

  async function previewSshConfig(source: { text: string } | { path: string }): Promise<SshConfigPreview> {
    return consoleApi().call('hosts.importSshConfig', source);
  }

  async function applySshConfig(source: { text: string } | { path: string }, names: string[]): Promise<SshConfigApplyResult> {
    return consoleApi().call('hosts.importSshConfigApply', { ...source, names });
  }

  return { statuses, failures, problems, question, logs, deploys, selected, pending, init, loadStatuses, askFor, test, acceptKey, giveSecret, dismissQuestion, clearFailure, agent, logTail, forgetSecret, previewSshConfig, applySshConfig };
});
