/**
 * Owns one framed connection (TLS socket + FrameDecoder): delivering frames to a handler in order,
 * sending with backpressure, the HELLO/WELCOME/REJECT handshake on both sides, and closing with a
 * reason. A protocol violation by the peer closes the connection with a WireError (REJECT first when
 * the handshake is not done), never crashes the process.
 */
import type { Socket } from 'node:net';
import { FrameType, Hello, MAX_FRAME_LENGTH, Reject, WIRE_PROTOCOL_VERSION, Welcome } from '../protocol/wire.ts';
import { FrameDecoder, encodeFrame, encodeJsonFrame, recycleFrame } from './frames.ts';
import type { Frame } from './frames.ts';
import { WireError } from './wire-error.ts';

export type FrameHandler = (frame: Frame) => void;

export class Connection {
  readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private handler: FrameHandler | null = null;
  private queued: Frame[] = [];
  private closeListeners: ((err: Error | null) => void)[] = [];
  private closedWith: { err: Error | null } | null = null;

  constructor(socket: Socket, maxFrame = MAX_FRAME_LENGTH) {
    this.socket = socket;
    this.decoder = new FrameDecoder(maxFrame);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      try {
        this.decoder.end();
        this.finish(null);
      } catch (err) {
        this.finish(err as Error);
      }
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish(null));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /**
   * Starts delivering frames (those that arrived before are delivered first). A frame's payload is
   * valid only during the handler's call: copy what must outlive it.
   */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
    const pending = this.queued;
    this.queued = [];
    for (const f of pending) this.deliver(f);
  }

  /** Queues incoming frames until the next onFrame (between the handshake and the real handler). */
  hold(): void {
    this.handler = null;
  }

  onClose(listener: (err: Error | null) => void): void {
    if (this.closedWith) listener(this.closedWith.err);
    else this.closeListeners.push(listener);
  }

  /**
   * Writes bytes; false means the socket buffer is full (await drain()). `onWritten` runs once the
   * socket no longer needs buf (sent, or the connection failed: then with the error).
   */
  write(buf: Buffer, onWritten?: (err?: Error | null) => void): boolean {
    if (this.closedWith) {
      onWritten?.(this.closedWith.err ?? new Error('connection closed'));
      return false;
    }
    return this.socket.write(buf, onWritten);
  }

  send(type: number, payload: Uint8Array): boolean {
    return this.write(encodeFrame(type, payload));
  }

  sendJson(value: unknown, type: number = FrameType.json): boolean {
    return this.write(encodeJsonFrame(type, value));
  }

  /** Resolves when the socket can take more (at once if it can), rejects if it closes. */
  drain(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith.err ?? new Error('connection closed'));
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(this.closedWith?.err ?? new Error('connection closed'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Closes; with a WireError the peer gets a REJECT frame first when `reject` is true. */
  close(err: Error | null = null, reject = false): void {
    if (this.closedWith) return;
    if (reject && err instanceof WireError) {
      this.socket.end(encodeJsonFrame(FrameType.reject, { code: err.code, message: err.message } satisfies Reject));
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.socket.destroy();
    }
    this.finish(err);
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.close(err as Error, true);
      return;
    }
    for (const f of frames) {
      if (this.closedWith) return;
      if (this.handler) this.deliver(f);
      else this.queued.push(f);
    }
  }

  private deliver(f: Frame): void {
    try {
      (this.handler as FrameHandler)(f);
    } catch (err) {
      this.close(err as Error, err instanceof WireError);
    } finally {
      recycleFrame(f); // handlers copy what they keep (see Frame)
    }
  }

  private finish(err: Error | null): void {
    if (this.closedWith) {
      return;
    }
    this.closedWith = { err };
    if (!this.socket.destroyed && err) this.socket.destroy();
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(err);
  }
}

/** Parses a JSON payload, turning garbage into a WireError. */
export function parseJsonPayload(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new WireError('bad-frame', 'A JSON frame did not contain valid JSON.');
  }
}

/**
 * Client side of the handshake: sends HELLO, waits for WELCOME (resolves) or REJECT (rejects with the
 * peer's WireError). The connection must not have a frame handler yet.
 */
export function clientHandshake(conn: Connection, hello: Hello, timeoutMs = 10_000): Promise<Welcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.close(new Error('handshake timed out'));
      reject(new Error('The agent did not answer the handshake within 10 s.'));
    }, timeoutMs);
    conn.onClose((err) => {
      clearTimeout(timer);
      reject(err ?? new Error('The agent closed the connection during the handshake.'));
    });
    conn.onFrame((f) => {
      clearTimeout(timer);
      if (f.type === FrameType.welcome) {
        const w = Welcome.safeParse(parseJsonPayload(f.payload));
        if (!w.success) throw new WireError('bad-hello', 'The agent answered the handshake with a malformed WELCOME.');
        conn.hold();
        resolve(w.data);
        return;
      }
      if (f.type === FrameType.reject) {
        const r = Reject.safeParse(parseJsonPayload(f.payload));
        const e = r.success ? new WireError(r.data.code, r.data.message) : new WireError('bad-hello', 'The agent rejected the connection.');
        conn.close(e);
        reject(e);
        return;
      }
      throw new WireError('bad-hello', `Expected WELCOME or REJECT, got frame type ${f.type}.`);
    });
    conn.sendJson(hello, FrameType.hello);
  });
}

/**
 * Server side: waits for the first frame, which must be a valid HELLO with our protocol version.
 * `admit` checks the token and task; it throws a WireError to refuse.
 */
export function serverHandshake(conn: Connection, admit: (hello: Hello) => Welcome, timeoutMs = 10_000): Promise<Hello> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const e = new WireError('bad-hello', 'No HELLO within 10 s.');
      conn.close(e, true);
      reject(e);
    }, timeoutMs);
    conn.onClose((err) => {
      clearTimeout(timer);
      reject(err ?? new Error('closed during handshake'));
    });
    conn.onFrame((f) => {
      clearTimeout(timer);
      try {
        if (f.type !== FrameType.hello) throw new WireError('bad-hello', `The first frame must be HELLO (type 1), not type ${f.type}.`);
        const raw = parseJsonPayload(f.payload) as { protocolVersion?: unknown };
        if (typeof raw === 'object' && raw !== null && raw.protocolVersion !== WIRE_PROTOCOL_VERSION) {
          throw new WireError(
            'protocol-mismatch',
            `This agent speaks wire protocol ${WIRE_PROTOCOL_VERSION}, the peer ${String(raw.protocolVersion)}: upgrade the agent so both run the same Ferry version.`,
          );
        }
        const hello = Hello.safeParse(raw);
        if (!hello.success) throw new WireError('bad-hello', 'The HELLO frame is malformed.');
        const welcome = admit(hello.data);
        conn.hold();
        conn.sendJson(welcome, FrameType.welcome);
        resolve(hello.data);
      } catch (err) {
        conn.close(err as Error, err instanceof WireError);
        reject(err);
      }
    });
  });
}
