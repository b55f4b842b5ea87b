/**
 * Owns the control API listener: TCP on 127.0.0.1 only, newline-delimited JSON, a Hello with the
 * protocol version and the agent token first, then requests validated against protocol/control.ts and
 * dispatched to a handler table the compiler checks for completeness. Never lets a bad request reach
 * a handler and never throws out of a connection: errors go back as { ok:false, error }.
 */
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import {
  CONTROL_PROTOCOL_VERSION,
  ControlHello,
  ControlRequest,
  MAX_CONTROL_LINE,
  controlMethods,
} from '../protocol/control.ts';
import type { ControlErrorCode, ControlMethod, ControlResponse, ControlResult } from '../protocol/control.ts';
import type { z } from 'zod';

export class ControlFailure extends Error {
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type ControlHandlers = {
  [M in ControlMethod]: (params: z.infer<(typeof controlMethods)[M]['params']>) => Promise<ControlResult<M>> | ControlResult<M>;
};

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function startControlServer(
  port: number,
  token: string,
  info: { version: string; agentId: string },
  handlers: ControlHandlers,
): Promise<net.Server> {
  const server = net.createServer((socket) => serveConnection(socket, token, info, handlers));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function serveConnection(socket: net.Socket, token: string, info: { version: string; agentId: string }, handlers: ControlHandlers): void {
  let buffered = '';
  let authed = false;
  /** Set by refuse: nothing more from this client is read, not even lines already received. */
  let refused = false;
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  const send = (value: unknown) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
  };
  const refuse = (code: ControlErrorCode, message: string) => {
    if (refused) return;
    refused = true;
    buffered = '';
    send({ type: 'error', error: { code, message } });
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const onLine = (line: string) => {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      refuse('bad-request', 'A control line was not valid JSON.');
      return;
    }
    if (!authed) {
      const hello = ControlHello.safeParse(msg);
      if (!hello.success) return refuse('bad-request', 'The first control message must be {"type":"hello","protocolVersion":N,"token":"..."}.');
      if (hello.data.protocolVersion !== CONTROL_PROTOCOL_VERSION) {
        return refuse(
          'protocol-mismatch',
          `This agent speaks control protocol ${CONTROL_PROTOCOL_VERSION}, the app ${hello.data.protocolVersion}: upgrade the agent (or the app) so both are the same Ferry version.`,
        );
      }
      if (!tokensEqual(hello.data.token, token)) return refuse('bad-token', 'Wrong agent token (see agent.json in the agent home).');
      authed = true;
      send({ type: 'welcome', protocolVersion: CONTROL_PROTOCOL_VERSION, version: info.version, agentId: info.agentId });
      return;
    }
    void handleRequest(msg, handlers).then(send);
  };
  socket.on('data', (chunk: string) => {
    if (refused) return;
    buffered += chunk;
    while (!refused) {
      const nl = buffered.indexOf('\n');
      if (nl < 0) break;
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
    if (buffered.length > MAX_CONTROL_LINE) refuse('bad-request', `A control line is longer than ${MAX_CONTROL_LINE} bytes.`);
  });
}

async function handleRequest(msg: unknown, handlers: ControlHandlers): Promise<ControlResponse> {
  const req = ControlRequest.safeParse(msg);
  if (!req.success) return { id: -1, ok: false, error: { code: 'bad-request', message: 'A request needs {id, method, params}.' } };
  const { id, method } = req.data;
  if (!Object.hasOwn(controlMethods, method)) {
    return { id, ok: false, error: { code: 'unknown-method', message: `Unknown method "${method}": the agent may be older than the app.` } };
  }
  const m = method as ControlMethod;
  const params = controlMethods[m].params.safeParse(req.data.params ?? {});
  if (!params.success) {
    const issue = params.error.issues[0];
    return { id, ok: false, error: { code: 'bad-request', message: `Bad params for ${m}: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid'}` } };
  }
  try {
    const handler = handlers[m] as (p: unknown) => Promise<unknown> | unknown;
    const result = await handler(params.data);
    return { id, ok: true, result };
  } catch (err) {
    if (err instanceof ControlFailure) return { id, ok: false, error: { code: err.code, message: err.message } };
    return { id, ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
  }
}
