/**
 * The app side of an agent's control API (protocol/control.ts): one TCP connection to 127.0.0.1,
 * the versioned Hello with the agent token, then typed calls. A call's result is validated against the
 * contract before it is returned; an error answer becomes an AgentCallError with the agent's code.
 * Runs on the user's Node >= 20; never imports engine code, only the contract.
 */
import net from 'node:net';
import { CONTROL_PROTOCOL_VERSION, ControlResponse, ControlWelcome, controlMethods } from '../../agent/protocol/control.ts';
import type { ControlMethod, ControlParams, ControlResult } from '../../agent/protocol/control.ts';

export class AgentCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'AgentCallError';
    this.code = code;
  }
}

export class ControlClient {
  private readonly socket: net.Socket;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private buffered = '';
  private closedError: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
  }

  static async connect(port: number, token: string, host = '127.0.0.1', timeoutMs = 10_000): Promise<ControlClient> {
    const socket = net.connect({ host, port });
    socket.setEncoding('utf8');
    const client = new ControlClient(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`The agent's control port ${port} did not answer within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      let first = '';
      const onData = (chunk: string) => {
        first += chunk;
        const nl = first.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        const line = first.slice(0, nl);
        client.buffered = first.slice(nl + 1);
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          reject(new Error('The agent answered the control handshake with garbage.'));
          return;
        }
        const welcome = ControlWelcome.safeParse(msg);
        if (welcome.success) {
          client.listen();
          resolve();
          return;
        }
        const err = (msg as { error?: { code?: string; message?: string } }).error;
        socket.destroy();
        reject(new AgentCallError(err?.code ?? 'bad-request', err?.message ?? 'The agent refused the connection.'));
      };
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      socket.on('data', onData);
      socket.once('error', onError);
      socket.write(`${JSON.stringify({ type: 'hello', protocolVersion: CONTROL_PROTOCOL_VERSION, token })}\n`);
    });
    return client;
  }

  private listen(): void {
    const onData = (chunk: string) => {
      this.buffered += chunk;
      for (;;) {
        const nl = this.buffered.indexOf('\n');
        if (nl < 0) return;
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const parsed = ControlResponse.safeParse(JSON.parse(line));
        if (!parsed.success) continue;
        const w = this.waiting.get(parsed.data.id);
        if (!w) continue;
        this.waiting.delete(parsed.data.id);
        if (parsed.data.ok) w.resolve(parsed.data.result);
        else w.reject(new AgentCallError(parsed.data.error.code, parsed.data.error.message));
      }
    };
    this.socket.on('data', onData);
    if (this.buffered) onData('');
    const fail = (err?: Error) => {
      this.closedError = err ?? new Error('The agent closed the control connection.');
      for (const w of this.waiting.values()) w.reject(this.closedError);
      this.waiting.clear();
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail());
  }

  async call<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (this.closedError) throw this.closedError;
    const id = this.nextId++;
    const raw = await new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
    return controlMethods[method].result.parse(raw) as ControlResult<M>;
  }

  close(): void {
    this.socket.destroy();
  }
}
