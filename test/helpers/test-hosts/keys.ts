/**
 * Test lab keys: generates OpenSSH key pairs with ssh-keygen and computes the SHA256 fingerprints
 * OpenSSH prints. Keys live in the lab's own directory and die with it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { mustRun } from './run.ts';

export interface KeyPair {
  path: string;
  publicPath: string;
  /** The public key line, "ssh-ed25519 AAAA… comment". */
  publicLine: string;
  /** "ssh-ed25519" */
  type: string;
  /** Base64 key blob. */
  blob: string;
  /** "SHA256:…" as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

export async function generateKey(file: string, options: { type?: 'ed25519' | 'ecdsa' | 'rsa'; passphrase?: string; comment?: string } = {}): Promise<KeyPair> {
  await fs.rm(file, { force: true });
  await fs.rm(`${file}.pub`, { force: true });
  const args = ['-q', '-t', options.type ?? 'ed25519', '-N', options.passphrase ?? '', '-C', options.comment ?? 'ferry-test-lab', '-f', file];
  if (options.type === 'rsa') args.push('-b', '2048');
  await mustRun('ssh-keygen', args);
  return readPublicKey(file);
}

export async function readPublicKey(file: string): Promise<KeyPair> {
  const publicLine = (await fs.readFile(`${file}.pub`, 'utf8')).trim();
  const [type, blob] = publicLine.split(/\s+/);
  if (!type || !blob) throw new Error(`test lab: ${file}.pub is not an OpenSSH public key`);
  return { path: file, publicPath: `${file}.pub`, publicLine, type, blob, fingerprint: fingerprintOf(blob) };
}

export function fingerprintOf(base64Blob: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
