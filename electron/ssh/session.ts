/**
 * SshSession: one authenticated SSH connection to a host. Runs commands (buffered or streaming),
 * uploads files, forwards local ports to the host's loopback, opens tunnels (for a jump host),
 * counts the bytes that crossed the SSH transport, and reports a dropped connection through its
 * 'close' event. Created only by connect() (connect.ts); holds no secrets.
 */
import { EventEmitter } from 'node:events';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { SshError } from './errors.ts';
import { forwardLocal, type ForwardHandle } from './forward.ts';
import { shQuote } from './shell.ts';
import { uploadCompressed, uploadSftp, type UploadOptions, type UploadResult } from './transfer.ts';

export interface ByteCounters {
  /** Bytes written to the SSH transport (workstation → host), encrypted, including protocol overhead. */
  sent: number;
  /** Bytes read from the SSH transport (host → workstation). */
  received: number;
}

export interface ExecOptions {
  /** Data for the command's standard input; without it, stdin is closed at once. */
  stdin?: string | Buffer | Readable;
  /** Kill the command and fail with exec-timeout after this long. */
  timeoutMs?: number;
  /** Fail with exec-failed when stdout + stderr grow past this (default 64 MiB). */
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** Exit code, or null when the command died of a signal. */
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ExecStream {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the command ends; rejects with connection-lost if the connection drops first. */
  done: Promise<{ code: number | null; signal: string | null }>;
  /** Asks the host to kill the command and closes the channel. */
  kill(): void;
}

export interface HostKeyInfo {
  keyType: string;
  fingerprint: string;
}

export interface SessionCloseInfo {
  /** True when close() was called; false for a drop (network, host, keepalive). */
  expected: boolean;
  error: SshError | null;
}

export interface SessionInit {
  client: Client;
  counters: () => ByteCounters;
  host: string;
  port: number;
  user: string;
  label: string;
  hostKey: HostKeyInfo;
  /** A jump session this session owns (closed with it). */
  jump: SshSession | null;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

export class SshSession extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The name used in messages (the host's name in Ferry, or host:port). */
  readonly label: string;
  readonly hostKey: HostKeyInfo;
  readonly jump: SshSession | null;
  private readonly client: Client;
  private readonly counters: () => ByteCounters;
  private sftpPromise: Promise<SFTPWrapper> | null = null;
  private closing = false;
  private closedInfo: SessionCloseInfo | null = null;
  private lastError: SshError | null = null;
  private readonly closedPromise: Promise<SessionCloseInfo>;

  constructor(init: SessionInit) {
    super();
    this.client = init.client;
    this.counters = init.counters;
    this.host = init.host;
    this.port = init.port;
    this.user = init.user;
    this.label = init.label;
    this.hostKey = init.hostKey;
    this.jump = init.jump;
    this.closedPromise = new Promise((resolve) => {
      this.client.on('error', (err: Error & { level?: string }) => {
        this.lastError =
          err.level === 'client-timeout'
            ? new SshError('connection-lost', `Lost the connection to ${this.label}: it stopped answering keepalives. Check the network path to the host; Ferry reconnects when it is back.`)
            : new SshError('connection-lost', `Lost the connection to ${this.label} (${err.message}). Check that the host is up and reachable; Ferry reconnects when it is back.`);
      });
      this.client.once('close', () => {
        const info: SessionCloseInfo = this.closing
          ? { expected: true, error: null }
          : { expected: false, error: this.lastError ?? new SshError('connection-lost', `The connection to ${this.label} was closed by the host or the network. Check that the host is up; Ferry reconnects when it is back.`) };
        this.closedInfo = info;
        this.sftpPromise = null;
        if (this.jump) void this.jump.close();
        this.emit('close', info);
        resolve(info);
      });
    });
  }

  override on(event: 'close', listener: (info: SessionCloseInfo) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once(event: 'close', listener: (info: SessionCloseInfo) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  /** Bytes over this session's SSH transport so far (for a session through a jump host: its tunnel). */
  get bytes(): ByteCounters {
    return this.counters();
  }

  get closed(): boolean {
    return this.closedInfo !== null;
  }

  /** Resolves when the session has closed (by close() or a drop). */
  whenClosed(): Promise<SessionCloseInfo> {
    return this.closedPromise;
  }

  private ensureOpen(): void {
    if (this.closedInfo || this.closing) {
      throw new SshError('connection-lost', `The connection to ${this.label} is closed. Connect again.`);
    }
  }

  /** Opens a channel for a command; rejects with connection-lost or exec-failed. */
  private openExec(command: string): Promise<ClientChannel> {
    this.ensureOpen();
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(
            this.closed
              ? new SshError('connection-lost', `The connection to ${this.label} dropped before the command could start. Connect again.`)
              : new SshError('exec-failed', `${this.label} refused to run a command (${err.message}). Check the host's sshd MaxSessions and that the user has a shell.`),
          );
        } else resolve(channel);
      });
    });
  }

  /**
   * Runs a command (through the user's login shell, as ssh does) and collects its output. With
   * `timeoutMs`, the host's `timeout` kills the command's whole process group when time is up
   * (works with any OpenSSH; signal requests need 7.9+), and a local timer closes the channel
   * should the host not answer.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const limit = options.timeoutMs;
    const remote = limit === undefined ? command : `timeout -k 2 ${(limit / 1000).toFixed(3)} sh -c ${shQuote(command)}`;
    const channel = await this.openExec(remote);
    const started = Date.now();
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const timedOut = (): SshError =>
      new SshError('exec-timeout', `A command on ${this.label} did not finish within ${Math.max(1, Math.round((limit ?? 0) / 1000))} s; Ferry stopped it. Check the host's load, then try again.`);
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      let exit: { code: number | null; signal: string | null } | null = null;
      let failure: SshError | null = null;
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: SshError): void => {
        if (failure) return;
        failure = err;
        channel.close();
        // Do not wait for the host to confirm: it may be the reason we gave up.
        clearTimeout(timer);
        reject(err);
      };
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) fail(new SshError('exec-failed', `A command on ${this.label} wrote more than ${max} bytes of output; Ferry stopped it.`));
        else into.push(chunk);
      };
      channel.on('data', collect(stdout));
      channel.stderr.on('data', collect(stderr));
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
      });
      channel.on('close', () => {
        clearTimeout(timer);
        if (failure) return;
        if (!exit && this.closed) {
          reject(new SshError('connection-lost', `The connection to ${this.label} dropped while a command was running. Connect again; the command may or may not have finished.`));
          return;
        }
        // `timeout` exits 124 (137 after -k) when it had to stop the command.
        if (limit !== undefined && (exit?.code === 124 || exit?.code === 137) && Date.now() - started >= limit * 0.9) {
          reject(timedOut());
          return;
        }
        resolve({ code: exit?.code ?? null, signal: exit?.signal ?? null, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
      });
      if (limit !== undefined) timer = setTimeout(() => fail(timedOut()), limit + 5000);
      feedStdin(channel, options.stdin);
    });
  }

  /** Runs a command with streaming stdin/stdout/stderr. */
  async execStream(command: string): Promise<ExecStream> {
    const channel = await this.openExec(command);
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      let exit: { code: number | null; signal: string | null } | null = null;
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
      });
      channel.on('close', () => {
        if (!exit && this.closed) reject(new SshError('connection-lost', `The connection to ${this.label} dropped while a command was running. Connect again.`));
        else resolve(exit ?? { code: null, signal: null });
      });
    });
    // The caller may never await `done` (it killed the command); a drop must not become an unhandled rejection.
    done.catch(() => undefined);
    return {
      stdin: channel,
      stdout: channel,
      stderr: channel.stderr,
      done,
      kill: () => {
        try {
          channel.signal('KILL');
        } catch {
          // gone
        }
        channel.close();
      },
    };
  }

  /** The session's SFTP channel (opened once). */
  sftp(): Promise<SFTPWrapper> {
    this.ensureOpen();
    this.sftpPromise ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) {
          this.sftpPromise = null;
          reject(new SshError('upload-failed', `${this.label} refused the SFTP subsystem (${err.message}). Enable "Subsystem sftp" in the host's sshd_config.`));
        } else {
          sftp.once('close', () => (this.sftpPromise = null));
          resolve(sftp);
        }
      });
    });
    return this.sftpPromise;
  }

  /** Uploads a file through SFTP: to a temp name next to the target, then an atomic rename. */
  upload(localPath: string, remotePath: string, options: UploadOptions = {}): Promise<UploadResult> {
    return uploadSftp(this, localPath, remotePath, options);
  }

  /** Uploads a file gzip-compressed through `gzip -dc` on the host: temp name, then rename. */
  uploadCompressed(localPath: string, remotePath: string, options: UploadOptions & { level?: number } = {}): Promise<UploadResult> {
    return uploadCompressed(this, localPath, remotePath, options);
  }

  /** A TCP stream to host:port as seen from the remote host (direct-tcpip). */
  openTunnel(host: string, port: number): Promise<Duplex> {
    this.ensureOpen();
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) {
          reject(new SshError('forward-failed', `${this.label} could not open a connection to ${host}:${port} (${err.message}). Check the address and port as seen from ${this.label}, and that its sshd allows TCP forwarding.`));
        } else resolve(stream);
      });
    });
  }

  /** Listens on 127.0.0.1:<ephemeral> and tunnels each connection to remoteHost:remotePort on the host. */
  forwardLocal(remoteHost: string, remotePort: number): Promise<ForwardHandle> {
    return forwardLocal(this, remoteHost, remotePort);
  }

  /** Closes the connection (and a jump connection it owns); resolves when closed. */
  async close(): Promise<void> {
    if (this.closedInfo) {
      if (this.jump) await this.jump.close();
      return;
    }
    this.closing = true;
    this.client.end();
    const timer = setTimeout(() => this.client.destroy(), 3000);
    await this.closedPromise;
    clearTimeout(timer);
    if (this.jump) await this.jump.close();
  }
}

function feedStdin(channel: ClientChannel, stdin: ExecOptions['stdin']): void {
  if (stdin === undefined) channel.end();
  else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) channel.end(stdin);
  else stdin.pipe(channel);
}
