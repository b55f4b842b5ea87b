/**
 * A SecretStore that survives restarts: each secret is encrypted by a cipher the OS provides
 * (the desktop app passes Electron's safeStorage, backed by the keychain / DPAPI / libsecret) and
 * the ciphertexts live in `<data-dir>/secrets.json` (mode 0600, replaced atomically). This module
 * never sees a key and never writes a secret in plain text; a file it cannot read is reported,
 * never reset. Plain Node: the cipher comes in from electron/main.ts.
 */
import path from 'node:path';
import { z } from 'zod';
import type { SecretKind, SecretStore } from './secrets.ts';
import { JsonStore } from './store/json-store.ts';

export interface SecretCipher {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

const SecretsFile = z.object({ version: z.literal(1), secrets: z.record(z.string(), z.string()) });

export class EncryptedFileSecretStore implements SecretStore {
  readonly kind = 'keychain' as const;
  private readonly store: JsonStore<typeof SecretsFile>;

  constructor(
    dataDir: string,
    private readonly cipher: SecretCipher,
  ) {
    this.store = new JsonStore(path.join(dataDir, 'secrets.json'), SecretsFile, () => ({ version: 1 as const, secrets: {} }));
  }

  async get(hostId: string, secret: SecretKind): Promise<string | null> {
    const sealed = (await this.store.load()).secrets[`${hostId}/${secret}`];
    if (sealed === undefined) return null;
    try {
      return this.cipher.decrypt(Buffer.from(sealed, 'base64'));
    } catch {
      // Sealed by another OS account or keychain: as good as absent; the console asks again.
      return null;
    }
  }

  async set(hostId: string, secret: SecretKind, value: string): Promise<void> {
    const sealed = this.cipher.encrypt(value).toString('base64');
    await this.store.update((f) => ({ ...f, secrets: { ...f.secrets, [`${hostId}/${secret}`]: sealed } }));
  }

  async forget(hostId: string): Promise<void> {
    await this.store.update((f) => ({ ...f, secrets: Object.fromEntries(Object.entries(f.secrets).filter(([k]) => !k.startsWith(`${hostId}/`))) }));
  }
}
