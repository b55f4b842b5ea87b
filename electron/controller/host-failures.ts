/**
 * Maps whatever an SSH or agent operation threw onto the console's HostFailure: a stable code the
 * renderer branches on, the English message that says what to do, and the host it is about (the
 * jump host when that one failed). Every SshError and AgentError code has a mapping; anything else
 * becomes 'command-failed' with its message. Never puts a secret in a failure (the errors below
 * never carry one).
 */
import type { Host, HostFailure, HostFailureCode } from '../contract/console.ts';
import { AgentError, type AgentErrorCode } from '../hosts/errors.ts';
import { SshError, type SshErrorCode } from '../ssh/errors.ts';

const SSH_CODES: Record<SshErrorCode, HostFailureCode> = {
  'host-unreachable': 'unreachable',
  timeout: 'timeout',
  'auth-failed': 'auth-failed',
  'host-key-unknown': 'host-key-unknown',
  'host-key-changed': 'host-key-changed',
  'host-key-revoked': 'host-key-revoked',
  'key-passphrase-needed': 'passphrase-needed',
  'key-passphrase-wrong': 'passphrase-wrong',
  'key-file-unreadable': 'key-file-unreadable',
  'agent-unavailable': 'agent-unavailable',
  'jump-failed': 'unreachable',
  'connection-lost': 'connection-lost',
  'exec-timeout': 'timeout',
  'exec-failed': 'command-failed',
  'upload-failed': 'deploy-failed',
  'forward-failed': 'unreachable',
  'known-hosts-unusable': 'known-hosts-unusable',
  protocol: 'protocol',
};

const AGENT_CODES: Record<AgentErrorCode, HostFailureCode> = {
  'unsupported-arch': 'unsupported-arch',
  'bad-version': 'deploy-failed',
  'local-file-missing': 'runtime-missing',
  'deploy-failed': 'deploy-failed',
  'agent-not-installed': 'agent-not-installed',
  'agent-start-failed': 'agent-start-failed',
  'agent-start-timeout': 'agent-start-timeout',
  'agent-stop-failed': 'agent-stop-failed',
};

/** A failure already in console form; thrown inside host operations and returned as `{ok:false}`. */
export class HostOpError extends Error {
  constructor(readonly failure: HostFailure) {
    super(failure.message);
    this.name = 'HostOpError';
  }
}

export function hostFailure(host: Pick<Host, 'id' | 'name'>, code: HostFailureCode, message: string, extra: Partial<HostFailure> = {}): HostFailure {
  return { code, message, stage: 'target', hostId: host.id, hostName: host.name, hostKey: null, authMethod: null, logTail: null, ...extra };
}

/** The failure for an error thrown while working on `host` (with `authMethod` the login method in use). */
export function toHostFailure(err: unknown, host: Pick<Host, 'id' | 'name' | 'auth'>, options: { probing?: boolean } = {}): HostFailure {
  if (err instanceof HostOpError) return err.failure;
  if (err instanceof SshError) {
    let code = SSH_CODES[err.code];
    if (options.probing && code === 'command-failed') code = 'probe-failed';
    const key = err.details.hostKey;
    return hostFailure(host, code, err.message, {
      hostKey: key ? { keyType: key.keyType, fingerprint: key.fingerprint, knownAt: key.knownAt ?? [] } : null,
      authMethod: code === 'auth-failed' ? host.auth.kind : null,
    });
  }
  if (err instanceof AgentError) {
    return hostFailure(host, AGENT_CODES[err.code], err.message, { logTail: err.logTail ?? null });
  }
  const message = err instanceof Error ? err.message : String(err);
  return hostFailure(host, 'command-failed', `Ferry could not finish the operation on ${host.name}: ${message}`);
}

/** The same failure, reported as the jump host's (for the host behind it). */
export function asJumpFailure(failure: HostFailure, target: Pick<Host, 'name'>): HostFailure {
  if (failure.stage === 'jump') return failure;
  return { ...failure, stage: 'jump', message: `Jump host ${failure.hostName} (for ${target.name}): ${failure.message}` };
}
