/**
 * Host key store: Ferry's own known_hosts file (`<dataDir>/known_hosts`, the only one Ferry writes)
 * and the user's `~/.ssh/known_hosts` (read only). Verifies presented keys against both, remembers
 * keys the operator accepted (atomic replace, one writer at a time per file in this process) and
 * forgets a host's keys on request (a reinstalled host). Never accepts a key on its own.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../controller/store/atomic-file.ts';
import { SshError } from './errors.ts';
import { checkHostKey, entryMatchesHost, formatKnownHostsLine, hostKeyAlgorithmsFor, parseKnownHosts, type HostKeyVerdict, type KnownHostEntry } from './known-hosts.ts';

export interface HostKeyStoreOptions {
  /** Ferry's data directory; its `known_hosts` is where accepted keys go. */
  dataDir: string;
  /** The user's known_hosts (read only); default `~/.ssh/known_hosts`; null to ignore it. */
  userKnownHostsFile?: string | null;
}

const writeQueues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = writeQueues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  writeQueues.set(
    file,
    next.catch(() => undefined),
  );
  return next;
}

export class HostKeyStore {
  readonly ferryFile: string;
  readonly userFile: string | null;

  constructor(options: HostKeyStoreOptions) {
    this.ferryFile = path.join(options.dataDir, 'known_hosts');
    this.userFile = options.userKnownHostsFile === undefined ? path.join(os.homedir(), '.ssh', 'known_hosts') : options.userKnownHostsFile;
  }

  /** All entries of both files; a missing file is empty; an unreadable user file is skipped. */
  async entries(): Promise<KnownHostEntry[]> {
    const ferry = await readIfPresent(this.ferryFile, true);
    const user = this.userFile ? await readIfPresent(this.userFile, false) : '';
    return [...parseKnownHosts(ferry, this.ferryFile), ...(this.userFile ? parseKnownHosts(user, this.userFile) : [])];
  }

  async verify(host: string, port: number, keyType: string, keyBlob: Buffer): Promise<HostKeyVerdict> {
    return checkHostKey(await this.entries(), host, port, keyType, keyBlob);
  }

  async algorithmsFor(host: string, port: number): Promise<string[]> {
    return hostKeyAlgorithmsFor(await this.entries(), host, port);
  }

  /** Appends the key to Ferry's known_hosts (atomic replace of the whole file). */
  async remember(host: string, port: number, keyType: string, keyBlob: Buffer): Promise<void> {
    const line = formatKnownHostsLine(host, port, keyType, keyBlob);
    await serialized(this.ferryFile, async () => {
      const current = await readIfPresent(this.ferryFile, true);
      if (current.split('\n').includes(line)) return;
      const next = `${current}${current && !current.endsWith('\n') ? '\n' : ''}${line}\n`;
      await fs.mkdir(path.dirname(this.ferryFile), { recursive: true });
      try {
        await writeFileAtomic(this.ferryFile, next, 0o600);
      } catch (err) {
        throw new SshError('known-hosts-unusable', `Ferry could not save the host key in ${this.ferryFile}: ${(err as Error).message}. Check that the data directory is writable.`);
      }
    });
  }

  /**
   * Removes every key recorded for host:port from Ferry's known_hosts (for a reinstalled host).
   * Returns how many lines were removed. Keys in the user's file are left alone (see the message of
   * host-key-changed for the ssh-keygen -R command).
   */
  async forget(host: string, port: number): Promise<number> {
    return serialized(this.ferryFile, async () => {
      const current = await readIfPresent(this.ferryFile, true);
      if (!current) return 0;
      let removed = 0;
      const kept = current.split('\n').filter((line) => {
        const [entry] = parseKnownHosts(line, this.ferryFile);
        if (entry && entry.marker === null && entryMatchesHost(entry, host, port)) {
          removed++;
          return false;
        }
        return true;
      });
      if (removed > 0) await writeFileAtomic(this.ferryFile, kept.join('\n'), 0o600);
      return removed;
    });
  }
}

async function readIfPresent(file: string, mustBeReadable: boolean): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || !mustBeReadable) return '';
    throw new SshError('known-hosts-unusable', `Ferry cannot read its known hosts file ${file} (${code ?? (err as Error).message}). Check its permissions.`);
  }
}
