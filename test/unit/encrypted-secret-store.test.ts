// The desktop app's secret store: secrets sealed by a cipher (here AES-256-GCM with a random key,
// standing in for the OS keychain that safeStorage uses) and kept across restarts in
// <data-dir>/secrets.json, never in plain text; secrets of a removed host are forgotten.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore, type SecretCipher } from '../../electron/controller/encrypted-secret-store.ts';
import { StoreCorruptError } from '../../electron/controller/store/json-store.ts';

function aesCipher(key = randomBytes(32)): SecretCipher {
  return {
    encrypt: (plain) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decrypt: (data) => {
      const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      d.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([d.update(data.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-secrets-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('EncryptedFileSecretStore', () => {
  it('keeps secrets sealed on disk (0600) and reads them back after a restart', async () => {
    const key = randomBytes(32);
    const store = new EncryptedFileSecretStore(dir, aesCipher(key));
    expect(store.kind).toBe('keychain');
    expect(await store.get('h1', 'password')).toBeNull();
    await store.set('h1', 'password', 'pa55-word-ü');
    await store.set('h1', 'passphrase', 'key phrase');
    await store.set('h2', 'password', 'other');
    const file = path.join(dir, 'secrets.json');
    const text = await fs.readFile(file, 'utf8');
    for (const plain of ['pa55-word-ü', 'key phrase', 'other']) expect(text).not.toContain(plain);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);

    const again = new EncryptedFileSecretStore(dir, aesCipher(key));
    expect(await again.get('h1', 'password')).toBe('pa55-word-ü');
    expect(await again.get('h1', 'passphrase')).toBe('key phrase');
    await again.forget('h1');
    expect(await again.get('h1', 'password')).toBeNull();
    expect(await again.get('h1', 'passphrase')).toBeNull();
    expect(await again.get('h2', 'password')).toBe('other');
  });

  it('treats a secret sealed by another key as absent, and refuses a corrupt file', async () => {
    await new EncryptedFileSecretStore(dir, aesCipher()).set('h1', 'password', 'x');
    expect(await new EncryptedFileSecretStore(dir, aesCipher()).get('h1', 'password')).toBeNull();
    await fs.writeFile(path.join(dir, 'secrets.json'), '{"version":1,"secrets":');
    await expect(new EncryptedFileSecretStore(dir, aesCipher()).get('h1', 'password')).rejects.toBeInstanceOf(StoreCorruptError);
  });
});
