/**
 * SshError: the one error type of Ferry's SSH layer. Each has a stable `code` the controller and
 * console can switch on and translate, and a message that says what happened and what to do.
 * Host-key errors carry the presented key's type and SHA256 fingerprint so the operator can compare
 * and accept it. Never carries a secret (password, passphrase, key material).
 */

export type SshErrorCode =
  | 'host-unreachable'
  | 'timeout'
  | 'auth-failed'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'key-passphrase-needed'
  | 'key-passphrase-wrong'
  | 'key-file-unreadable'
  | 'agent-unavailable'
  | 'jump-failed'
  | 'connection-lost'
  | 'exec-timeout'
  | 'exec-failed'
  | 'upload-failed'
  | 'forward-failed'
  | 'known-hosts-unusable'
  | 'protocol';

export interface HostKeyDetails {
  host: string;
  port: number;
  /** "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", … */
  keyType: string;
  /** "SHA256:…" as OpenSSH prints it. */
  fingerprint: string;
  /** For host-key-changed: where the old key is recorded ("path:line"). */
  knownAt?: string[];
}

export class SshError extends Error {
  constructor(
    readonly code: SshErrorCode,
    message: string,
    readonly details: { hostKey?: HostKeyDetails; host?: string; cause?: string; /** 'jump' when the jump host failed. */ stage?: 'jump' | 'target' } = {},
  ) {
    super(message);
    this.name = 'SshError';
  }
}

export function isSshError(err: unknown, code?: SshErrorCode): err is SshError {
  return err instanceof SshError && (code === undefined || err.code === code);
}

/** "host" or "[host]:port" (the known_hosts spelling). */
export function hostLabel(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
