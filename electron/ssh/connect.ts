/**
 * connect(): opens an authenticated SSH session to a host, directly or through a jump host, and
 * verifies the host key (and the jump host's) against Ferry's known_hosts and the user's. An unknown
 * key is refused with its fingerprint unless the caller passes that exact fingerprint as accepted;
 * a changed or revoked key is always refused. Never "accept anything". Secrets come in with the
 * call and are not kept. Every failure is an SshError with a stable code.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { authFailedError, prepareAuth, type PreparedAuth, type SshAuth } from './auth.ts';
import { hostLabel, SshError } from './errors.ts';
import { HostKeyStore, type HostKeyStoreOptions } from './host-key-store.ts';
import { fingerprintOf, keyTypeOf, knownHostsName } from './known-hosts.ts';
import { SshSession, type ByteCounters, type HostKeyInfo } from './session.ts';

export interface SshTarget {
  /** Address or DNS name (for a host behind a jump host: as seen from the jump host). */
  host: string;
  port?: number;
  user: string;
  /** Name for messages (Ferry's host name); default host or [host]:port. */
  label?: string;
}

export interface JumpSpec {
  target: SshTarget;
  auth: SshAuth;
  acceptFingerprint?: string;
}

export interface ConnectOptions {
  auth: SshAuth;
  /** Where known host keys live: a store, or its options (Ferry's data dir, the user's known_hosts). */
  hostKeys: HostKeyStore | HostKeyStoreOptions;
  /** The operator accepted this fingerprint ("SHA256:…") for an unknown key: remember it and go on. */
  acceptFingerprint?: string;
  /** Reach the host through this jump host (connected here and closed with the session), or an open session to it (left open). */
  jump?: JumpSpec | SshSession;
  /** TCP connect, handshake and login together (default 20 s). */
  connectTimeoutMs?: number;
  /** SSH keepalive interval (default 15 s); a drop is reported after `keepaliveCountMax` (default 3) unanswered ones. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

export async function connect(target: SshTarget, options: ConnectOptions): Promise<SshSession> {
  const port = target.port ?? 22;
  const label = target.label ?? hostLabel(target.host, port);
  const store = options.hostKeys instanceof HostKeyStore ? options.hostKeys : new HostKeyStore(options.hostKeys);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const auth = await prepareAuth(options.auth, target.user);

  let jump: SshSession | null = null;
  let ownsJump = false;
  let sock: Duplex;
  let counters: () => ByteCounters;
  let afterConnect = (): void => undefined;
  if (options.jump) {
    if (options.jump instanceof SshSession) jump = options.jump;
    else {
      jump = await connectJump(options.jump, store, options);
      ownsJump = true;
    }
    try {
      sock = await jump.openTunnel(target.host, port);
    } catch (err) {
      if (ownsJump) await jump.close();
      const why = err instanceof Error ? err.message.replace(/^.*\((.*)\).*$/s, '$1') : String(err);
      throw new SshError('host-unreachable', `The jump host ${jump.label} could not reach ${label} at ${knownHostsName(target.host, port)} (${why}). Check the address as the jump host sees it, and that the host is up and runs sshd.`, { host: label });
    }
    const counting = countStream(sock);
    counters = counting.counters;
    afterConnect = counting.attach;
  } else {
    const socket = await tcpConnect(target.host, port, label, timeoutMs);
    sock = socket;
    counters = () => ({ sent: socket.bytesWritten, received: socket.bytesRead });
  }

  try {
    const algorithms = await store.algorithmsFor(target.host, port);
    return await handshake({ target, port, label, store, auth, options, sock, counters, afterConnect, algorithms, jump: ownsJump ? jump : null, remainingMs: Math.max(1000, deadline - Date.now()), timeoutMs });
  } catch (err) {
    sock.destroy();
    if (ownsJump && jump) await jump.close();
    throw err;
  }
}

async function connectJump(spec: JumpSpec, store: HostKeyStore, options: ConnectOptions): Promise<SshSession> {
  try {
    const jumpOptions: ConnectOptions = { auth: spec.auth, hostKeys: store };
    if (spec.acceptFingerprint !== undefined) jumpOptions.acceptFingerprint = spec.acceptFingerprint;
    if (options.connectTimeoutMs !== undefined) jumpOptions.connectTimeoutMs = options.connectTimeoutMs;
    if (options.keepaliveIntervalMs !== undefined) jumpOptions.keepaliveIntervalMs = options.keepaliveIntervalMs;
    if (options.keepaliveCountMax !== undefined) jumpOptions.keepaliveCountMax = options.keepaliveCountMax;
    return await connect(spec.target, jumpOptions);
  } catch (err) {
    if (err instanceof SshError) {
      throw new SshError(err.code, `Jump host: ${err.message}`, { ...err.details, stage: 'jump' });
    }
    throw err;
  }
}

function tcpConnect(host: string, port: number, label: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SshError('timeout', `No answer from ${label} (${knownHostsName(host, port)}) within ${Math.round(timeoutMs / 1000)} s. Check the address, that the host is running, and that firewalls or security groups allow SSH from this computer.`, { host: label }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const where = `${label} (${knownHostsName(host, port)})`;
      const message =
        err.code === 'ECONNREFUSED'
          ? `${where} refused the connection: nothing listens on port ${port}. Check the port, and that sshd is running on the host.`
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `Ferry cannot resolve the name ${host}. Check the spelling, or use the host's IP address.`
            : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
              ? `There is no network route from this computer to ${where}. Check the address; a host in a private network needs a jump host.`
              : err.code === 'ETIMEDOUT'
                ? `No answer from ${where}. Check the address, that the host is running, and that firewalls or security groups allow SSH from this computer.`
                : `Ferry cannot connect to ${where} (${err.code ?? err.message}). Check the address and port.`;
      reject(new SshError(err.code === 'ETIMEDOUT' ? 'timeout' : 'host-unreachable', message, { host: label, cause: err.code ?? err.message }));
    });
  });
}

/** Counts bytes through a stream ssh2 reads and writes (a tunnel channel through a jump host). */
function countStream(stream: Duplex): { counters: () => ByteCounters; attach: () => void } {
  const counts = { sent: 0, received: 0 };
  const write = stream.write.bind(stream) as (chunk: Buffer, ...rest: unknown[]) => boolean;
  (stream as { write: unknown }).write = (chunk: Buffer, ...rest: unknown[]): boolean => {
    counts.sent += chunk.length;
    return write(chunk, ...rest);
  };
  return {
    counters: () => ({ ...counts }),
    // Must run right after ssh2's connect() paused the stream: a 'data' listener added earlier
    // starts the flow and the server's first bytes would be lost.
    attach: () => void stream.on('data', (chunk: Buffer) => (counts.received += chunk.length)),
  };
}

interface HandshakeInput {
  target: SshTarget;
  port: number;
  label: string;
  store: HostKeyStore;
  auth: PreparedAuth;
  options: ConnectOptions;
  sock: Duplex;
  counters: () => ByteCounters;
  afterConnect: () => void;
  algorithms: string[];
  jump: SshSession | null;
  remainingMs: number;
  timeoutMs: number;
}

function handshake(input: HandshakeInput): Promise<SshSession> {
  const { target, port, label, store, auth, options } = input;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyError: SshError | null = null;
    let presented: HostKeyInfo | null = null;
    let settled = false;
    const settle = (err: SshError | null, session?: SshSession): void => {
      if (settled) return;
      settled = true;
      if (err) {
        client.removeAllListeners('ready');
        client.on('error', () => undefined);
        client.destroy();
        reject(err);
      } else if (session) resolve(session);
    };

    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      const keyType = keyTypeOf(key);
      const fingerprint = fingerprintOf(key);
      presented = { keyType, fingerprint };
      const details = { host: target.host, port, keyType, fingerprint };
      void (async () => {
        const verdict = await store.verify(target.host, port, keyType, key);
        switch (verdict.status) {
          case 'known':
            return true;
          case 'revoked':
            hostKeyError = new SshError('host-key-revoked', `${label} presented a ${keyType} host key that is marked revoked (${verdict.source}). Ferry will not connect. Ask the host's administrator which key the host should have.`, { hostKey: { ...details, knownAt: [verdict.source] } });
            return false;
          case 'changed': {
            const otherType = !verdict.knownTypes.includes(keyType);
            hostKeyError = new SshError(
              'host-key-changed',
              `The host key of ${label} has CHANGED: it now presents ${keyType} ${fingerprint}, which does not match the key recorded in ${verdict.knownAt.join(', ')}` +
                (otherType ? ` (recorded type: ${verdict.knownTypes.join(', ')})` : '') +
                `. This may be an attack (someone intercepting the connection), or the host was reinstalled or replaced. Ferry refuses to connect. ` +
                `If you know the host was rebuilt, confirm the new fingerprint with its administrator, remove the old key (Ferry's list: "Forget host key"; ~/.ssh/known_hosts: ssh-keygen -R '${knownHostsName(target.host, port)}'), and connect again to accept the new one.`,
              { hostKey: { ...details, knownAt: verdict.knownAt } },
            );
            return false;
          }
          case 'unknown':
            if (options.acceptFingerprint === fingerprint) {
              await store.remember(target.host, port, keyType, key);
              return true;
            }
            hostKeyError = new SshError(
              'host-key-unknown',
              (options.acceptFingerprint ? `The fingerprint you accepted (${options.acceptFingerprint}) is not the one ${label} presents now. ` : '') +
                `Ferry has not seen ${label} before. It presents the ${keyType} host key ${fingerprint}. Compare it with the fingerprint the host's administrator or cloud console shows (on the host: ssh-keygen -lf /etc/ssh/${hostKeyFileFor(keyType)}), then accept it to connect.`,
              { hostKey: details },
            );
            return false;
        }
      })().then(verify, (err: unknown) => {
        hostKeyError = err instanceof SshError ? err : new SshError('known-hosts-unusable', `Ferry could not check the host key of ${label}: ${(err as Error).message}.`);
        verify(false);
      });
    };

    client.once('ready', () => {
      if (!presented) {
        settle(new SshError('protocol', `${label} completed the handshake without a host key. Ferry does not trust it.`));
        return;
      }
      client.removeAllListeners('error');
      const session = new SshSession({ client, counters: input.counters, host: target.host, port, user: target.user, label, hostKey: presented, jump: input.jump });
      settle(null, session);
    });
    client.on('error', (err: Error & { level?: string }) => settle(mapHandshakeError(err, hostKeyError, auth, target.user, label, input.timeoutMs)));
    client.on('close', () => settle(hostKeyError ?? new SshError('host-unreachable', `${label} closed the connection during the SSH handshake. Check that it runs an SSH server on port ${port} and accepts connections from this computer.`, { host: label })));

    client.connect({
      sock: input.sock,
      username: target.user,
      hostVerifier,
      authHandler: auth.handler,
      readyTimeout: input.remainingMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: input.algorithms as ssh2.ServerHostKeyAlgorithm[] },
    });
    input.afterConnect();
  });
}

/** The usual public host key file of OpenSSH for a key type, for messages. */
function hostKeyFileFor(keyType: string): string {
  const kind = keyType === 'ssh-ed25519' ? 'ed25519' : keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType === 'ssh-rsa' ? 'rsa' : 'ed25519';
  return `ssh_host_${kind}_key.pub`;
}

function mapHandshakeError(err: Error & { level?: string }, hostKeyError: SshError | null, auth: PreparedAuth, user: string, label: string, timeoutMs: number): SshError {
  if (hostKeyError) return hostKeyError;
  switch (err.level) {
    case 'client-authentication':
      return authFailedError(auth, user, label);
    case 'agent':
      return new SshError('agent-unavailable', `Ferry could not use your SSH agent (${err.message}). Check that ssh-agent is running and holds your key (ssh-add -l), or choose a key file.`);
    case 'client-timeout':
      return new SshError('timeout', `${label} did not complete the SSH handshake and login within ${Math.round(timeoutMs / 1000)} s. Check that the host is not overloaded and that port 22 is sshd.`, { host: label });
    case 'client-socket':
      return new SshError('host-unreachable', `The connection to ${label} broke during the SSH handshake (${err.message}). Check the network and try again.`, { host: label, cause: err.message });
    default:
      if (/before handshake/i.test(err.message)) {
        return new SshError('host-unreachable', `${label} closed the connection before the SSH handshake. Check that it runs an SSH server on that port and does not block this computer (MaxStartups, fail2ban).`, { host: label });
      }
      return new SshError('protocol', `The SSH handshake with ${label} failed (${err.message}). Check that the host runs a current OpenSSH server.`, { host: label, cause: err.message });
  }
}
