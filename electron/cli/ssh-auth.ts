/**
 * SSH credentials and host-key choices for CLI commands that reach plan hosts (`ferry migrate
 * --plan`, `ferry plan check --hosts`): turns a plan host's auth kind into an SshAuth, asking for
 * what is secret only when needed: a key's passphrase from FERRY_SSH_PASSPHRASE or a hidden prompt
 * on the terminal, a password from FERRY_SSH_PASSWORD or a hidden prompt. Secrets live in this
 * process's memory for the run only (reconnects need them again); never written anywhere, never
 * logged. Also parses --accept-host-key NAME=SHA256:… values.
 */
import { loadPrivateKey, type SshAuth } from '../ssh/auth.ts';
import { isSshError } from '../ssh/errors.ts';
import type { PlanHost } from '../contract/plan.ts';
import { CliUsageError } from './args.ts';

export class CliAuthError extends Error {
  override name = 'CliAuthError';
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    let value = '';
    const wasRaw = input.isRaw;
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    const finish = (err: Error | null): void => {
      input.off('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new CliAuthError('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

export interface CliAuthOptions {
  env?: NodeJS.ProcessEnv;
  /** Whether prompts are possible (default: stdin and stderr are terminals). */
  interactive?: boolean;
  prompt?: (question: string) => Promise<string>;
}

/** A HostAuthProvider for the CLI: secrets from the environment or the terminal, asked once per key or host. */
export function cliAuthProvider(options: CliAuthOptions = {}): (host: PlanHost) => Promise<SshAuth> {
  const env = options.env ?? process.env;
  const interactive = options.interactive ?? (process.stdin.isTTY === true && process.stderr.isTTY === true);
  const prompt = options.prompt ?? ((q: string) => promptHidden(q));
  const passphrases = new Map<string, Promise<string | undefined>>();
  const passwords = new Map<string, Promise<string>>();
  let prompting: Promise<unknown> = Promise.resolve();
  // One prompt at a time: hosts connect in parallel.
  const ask = <T>(work: () => Promise<T>): Promise<T> => {
    const next = prompting.then(work, work);
    prompting = next.catch(() => undefined);
    return next;
  };

  const passphraseFor = (keyFile: string): Promise<string | undefined> => {
    let p = passphrases.get(keyFile);
    if (!p) {
      p = (async () => {
        try {
          await loadPrivateKey(keyFile);
          return undefined;
        } catch (err) {
          if (!isSshError(err, 'key-passphrase-needed')) throw err;
        }
        if (env.FERRY_SSH_PASSPHRASE !== undefined) return env.FERRY_SSH_PASSPHRASE;
        if (!interactive) throw new CliAuthError(`The key ${keyFile} needs its passphrase. Set FERRY_SSH_PASSPHRASE, run on a terminal to be asked, or add the key to ssh-agent (ssh-add) and use auth: {kind: agent}.`);
        return ask(async () => {
          const value = await prompt(`Passphrase for ${keyFile}: `);
          await loadPrivateKey(keyFile, value);
          return value;
        });
      })();
      passphrases.set(keyFile, p);
      p.catch(() => passphrases.delete(keyFile));
    }
    return p;
  };

  return async (host) => {
    switch (host.auth.kind) {
      case 'agent':
        return env.SSH_AUTH_SOCK ? { kind: 'agent', socket: env.SSH_AUTH_SOCK } : { kind: 'agent' };
      case 'key': {
        const passphrase = await passphraseFor(host.auth.keyFile);
        return passphrase === undefined ? { kind: 'key', keyFile: host.auth.keyFile } : { kind: 'key', keyFile: host.auth.keyFile, passphrase };
      }
      case 'password': {
        if (env.FERRY_SSH_PASSWORD !== undefined) return { kind: 'password', password: env.FERRY_SSH_PASSWORD };
        if (!interactive) throw new CliAuthError(`Host ${host.name} logs in with a password. Set FERRY_SSH_PASSWORD or run on a terminal to be asked.`);
        let p = passwords.get(host.name);
        if (!p) {
          p = ask(() => prompt(`Password for ${host.user}@${host.address} (${host.name}): `));
          passwords.set(host.name, p);
          p.catch(() => passwords.delete(host.name));
        }
        return { kind: 'password', password: await p };
      }
    }
  };
}

/** "NAME=SHA256:…" values of --accept-host-key → name → fingerprint. */
export function parseAcceptedKeys(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const m = /^([^=\s]+)=(SHA256:[A-Za-z0-9+/]{43}=?)$/.exec(v.trim());
    if (!m) throw new CliUsageError(`--accept-host-key wants NAME=SHA256:FINGERPRINT (as Ferry printed it), not "${v}".`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}
