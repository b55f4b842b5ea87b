/**
 * SSH authentication: turns the operator's choice (key file, ssh-agent, password) plus the secret
 * given at call time into what ssh2 needs, and checks key files before any network traffic
 * (unreadable, public instead of private, passphrase needed or wrong). Secrets are used for this
 * connection only: never stored, logged or put into an error.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { SshError } from './errors.ts';

export type SshAuth =
  | { kind: 'key'; keyFile: string; passphrase?: string }
  | { kind: 'agent'; /** Default: SSH_AUTH_SOCK. */ socket?: string }
  | { kind: 'password'; password: string };

export interface PreparedAuth {
  /** For messages: "the key /home/me/.ssh/id_ed25519", "your SSH agent's keys", "the password". */
  describe: string;
  handler: AuthHandlerMiddleware;
  /** Methods the server said it accepts, after a failure (for a precise message). */
  serverMethods(): string[] | null;
  method: 'publickey' | 'agent' | 'password';
}

/** Expands a leading "~" to the user's home directory. */
export function expandHome(file: string, home = os.homedir()): string {
  if (file === '~') return home;
  if (file.startsWith('~/')) return path.join(home, file.slice(2));
  return file;
}

/** Reads and decrypts a private key file; throws the key-* SshErrors. */
export async function loadPrivateKey(keyFile: string, passphrase?: string): Promise<ParsedKey> {
  const file = expandHome(keyFile);
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new SshError('key-file-unreadable', `Ferry cannot read the key file ${file}: ${why}. Choose the private key file (for example ~/.ssh/id_ed25519).`);
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    const msg = parsed.message;
    if (/no passphrase given/i.test(msg)) {
      throw new SshError('key-passphrase-needed', `The key ${file} is protected by a passphrase. Enter its passphrase to connect.`);
    }
    if (/bad passphrase|integrity check failed|decrypt/i.test(msg)) {
      throw new SshError('key-passphrase-wrong', `The passphrase for the key ${file} is wrong. Enter it again (it is the passphrase chosen when the key was created).`);
    }
    throw new SshError('key-file-unreadable', `${file} is not a private key Ferry can read (${msg}). Choose an OpenSSH, PEM or PuTTY private key file.`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null || key.getPrivatePEM() === '') {
    throw new SshError('key-file-unreadable', `${file} holds a public key, not a private one. Choose the private key file (the same name without ".pub").`);
  }
  return key;
}

export async function prepareAuth(auth: SshAuth, user: string): Promise<PreparedAuth> {
  let serverMethods: string[] | null = null;
  const once = (first: AnyAuthMethod, extra?: AnyAuthMethod): AuthHandlerMiddleware => {
    const queue = [first, ...(extra ? [extra] : [])];
    return (methodsLeft, _partial, next) => {
      // ssh2 passes null on the first call; after a failure, the methods the server still accepts.
      const left = methodsLeft as string[] | null;
      if (left) serverMethods = left;
      // Skip methods the server does not offer.
      for (let candidate = queue.shift(); candidate; candidate = queue.shift()) {
        if (!left || left.includes(candidate.type)) {
          next(candidate);
          return;
        }
      }
      // ssh2 takes `false` for "no more methods"; its types do not say so.
      (next as unknown as (v: false) => void)(false);
    };
  };

  switch (auth.kind) {
    case 'key': {
      const key = await loadPrivateKey(auth.keyFile, auth.passphrase);
      return {
        method: 'publickey',
        describe: `the key ${expandHome(auth.keyFile)}`,
        handler: once({ type: 'publickey', username: user, key }),
        serverMethods: () => serverMethods,
      };
    }
    case 'agent': {
      const socket = auth.socket ?? process.env.SSH_AUTH_SOCK;
      if (!socket) {
        throw new SshError('agent-unavailable', 'No SSH agent is running for Ferry (SSH_AUTH_SOCK is not set). Start ssh-agent and add your key with ssh-add, or choose a key file for this host.');
      }
      const exists = await fs.stat(socket).then(
        (s) => s.isSocket(),
        () => false,
      );
      if (!exists) {
        throw new SshError('agent-unavailable', `The SSH agent socket ${socket} does not exist. Start ssh-agent (and ssh-add your key) in the session Ferry runs from, or choose a key file.`);
      }
      return {
        method: 'agent',
        describe: "the keys of your SSH agent",
        handler: once({ type: 'agent', username: user, agent: socket }),
        serverMethods: () => serverMethods,
      };
    }
    case 'password': {
      const { password } = auth;
      return {
        method: 'password',
        describe: 'the password',
        // Some servers take passwords only through keyboard-interactive (PAM): answer its prompts with it.
        handler: once(
          { type: 'password', username: user, password },
          {
            type: 'keyboard-interactive',
            username: user,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
          },
        ),
        serverMethods: () => serverMethods,
      };
    }
  }
}

/** The auth-failed error for a refused login, naming what was offered and what to check. */
export function authFailedError(auth: PreparedAuth, user: string, hostName: string): SshError {
  const methods = auth.serverMethods();
  const offered = methods ? ` (the host accepts: ${methods.join(', ') || 'nothing'})` : '';
  const wanted = auth.method === 'password' ? ['password', 'keyboard-interactive'] : ['publickey'];
  if (methods && !methods.some((m) => wanted.includes(m))) {
    const what = auth.method === 'password' ? 'password logins' : 'key logins';
    return new SshError('auth-failed', `${hostName} does not allow ${what} for user ${user}${offered}. Choose another way to log in, or enable it in the host's sshd_config.`);
  }
  switch (auth.method) {
    case 'password':
      return new SshError('auth-failed', `The server refused the password for user ${user} on ${hostName}. Check the user name and the password${offered}.`);
    case 'agent':
      return new SshError('auth-failed', `The server refused ${auth.describe} for user ${user} on ${hostName}. Check that the agent holds the right key (ssh-add -l) and that its public key is in ~${user}/.ssh/authorized_keys on the host.`);
    case 'publickey':
      return new SshError('auth-failed', `The server refused ${auth.describe} for user ${user} on ${hostName}. Check the user name, and that the public key (the .pub file) is in ~${user}/.ssh/authorized_keys on the host.`);
  }
}
