/**
 * readHostKey(): the host key a host presents right now, read with an SSH handshake that stops at
 * key verification (no login, no secret needed). Used to trust a key the operator has compared:
 * the caller checks the fingerprint and the known_hosts verdict before remembering anything.
 * Offers the same host key algorithms connect() would, so the key read is the key connect() meets.
 * Never accepts the key itself and never authenticates.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { SshError } from './errors.ts';
import { fingerprintOf, keyTypeOf, knownHostsName } from './known-hosts.ts';
import type { SshSession } from './session.ts';

export interface PresentedKey {
  keyType: string;
  fingerprint: string;
  blob: Buffer;
}

export interface ReadHostKeyOptions {
  /** Host key algorithms in order of preference (HostKeyStore.algorithmsFor). */
  algorithms: string[];
  /** Reach the host through this open session (a jump host); left open. */
  jump?: SshSession;
  timeoutMs: number;
  /** Name for messages. */
  label: string;
}

export async function readHostKey(host: string, port: number, options: ReadHostKeyOptions): Promise<PresentedKey> {
  const where = `${options.label} (${knownHostsName(host, port)})`;
  let sock: Duplex;
  if (options.jump) {
    try {
      sock = await options.jump.openTunnel(host, port);
    } catch (err) {
      throw new SshError('host-unreachable', `The jump host ${options.jump.label} could not reach ${where}: ${(err as Error).message}`, { host: options.label });
    }
  } else {
    sock = await tcpConnect(host, port, where, options.timeoutMs);
  }
  return new Promise<PresentedKey>((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: PresentedKey | null = null;
    let settled = false;
    const finish = (err: SshError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      client.destroy();
      sock.destroy();
      if (presented) resolve(presented);
      else reject(err ?? new SshError('protocol', `${where} presented no host key.`, { host: options.label }));
    };
    const timer = setTimeout(
      () => finish(new SshError('timeout', `${where} did not present its host key within ${Math.round(options.timeoutMs / 1000)} s. Check that it runs sshd on that port.`, { host: options.label })),
      options.timeoutMs,
    );
    client.on('error', (err: Error) =>
      finish(presented ? null : new SshError('host-unreachable', `The SSH handshake with ${where} failed before its host key arrived (${err.message}). Check that it runs an SSH server on that port.`, { host: options.label })),
    );
    client.on('close', () => finish(null));
    client.connect({
      sock,
      username: 'ferry-host-key-check',
      // Reject every key: the handshake ends here, before any login.
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        presented = { keyType: keyTypeOf(key), fingerprint: fingerprintOf(key), blob: Buffer.from(key) };
        verify(false);
      },
      readyTimeout: options.timeoutMs,
      algorithms: { serverHostKey: options.algorithms as ssh2.ServerHostKeyAlgorithm[] },
    });
  });
}

function tcpConnect(host: string, port: number, where: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SshError('timeout', `No answer from ${where} within ${Math.round(timeoutMs / 1000)} s. Check the address, and that firewalls allow SSH from this computer.`, { host }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SshError('host-unreachable', `Ferry cannot connect to ${where} (${err.code ?? err.message}). Check the address and port, and that sshd is running.`, { host, cause: err.code ?? err.message }));
    });
  });
}
