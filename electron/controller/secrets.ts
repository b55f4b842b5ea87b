/**
 * Secrets for SSH (passwords, key passphrases), keyed by host id. The controller never writes
 * them in plain text: the desktop app plugs in a store backed by the OS keychain (Electron's
 * safeStorage, see electron/main.ts); the web console and the CLI keep them in memory for the
 * life of the process and ask the operator again after a restart.
 */

export type SecretKind = 'password' | 'passphrase';

export interface SecretStore {
  /** 'memory' forgets on exit; 'keychain' survives restarts, encrypted by the OS. */
  readonly kind: 'memory' | 'keychain';
  get(hostId: string, secret: SecretKind): Promise<string | null>;
  set(hostId: string, secret: SecretKind, value: string): Promise<void>;
  forget(hostId: string): Promise<void>;
}

export class MemorySecretStore implements SecretStore {
  readonly kind = 'memory' as const;
  private readonly secrets = new Map<string, string>();

  async get(hostId: string, secret: SecretKind): Promise<string | null> {
    return this.secrets.get(`${hostId}/${secret}`) ?? null;
  }

  async set(hostId: string, secret: SecretKind, value: string): Promise<void> {
    this.secrets.set(`${hostId}/${secret}`, value);
  }

  async forget(hostId: string): Promise<void> {
    for (const key of [...this.secrets.keys()]) if (key.startsWith(`${hostId}/`)) this.secrets.delete(key);
  }
}
