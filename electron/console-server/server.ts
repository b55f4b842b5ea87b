/**
 * The web console: the same controller and UI as the desktop app, served on 127.0.0.1.
 *
 * Access needs the random token printed with the URL (as Jupyter does): API calls carry it as
 * `Authorization: Bearer`, the event socket as `?token=`. Requests whose Host or Origin is not
 * this loopback server are refused (DNS-rebinding defence). Routes:
 *   GET  /api/hello            -> Hello
 *   POST /api/call/<name>      -> CallResult envelope (4xx/5xx status when not ok)
 *   WS   /api/events?token=    -> Hello, then EventEnvelope messages
 *   GET  /api/exports/<name>   -> a report export from <data-dir>/exports (attachment), see export-download.ts
 *   GET  anything else         -> the built renderer
 * Listens only on 127.0.0.1; never on another interface.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CallResult, ConsoleError, ConsoleErrorCode } from '../contract/console.ts';
import type { Controller } from '../controller/controller.ts';
import { serveStatic, sendText } from './static-files.ts';
import { serveExportDownload } from './export-download.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK = '127.0.0.1';

export interface ConsoleServerOptions {
  controller: Controller;
  /** Built renderer directory. */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
}

export interface ConsoleServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const STATUS: Record<ConsoleErrorCode, number> = {
  'bad-json': 400,
  'invalid-request': 400,
  unauthorized: 401,
  'forbidden-origin': 403,
  'unknown-call': 404,
  'not-found': 404,
  conflict: 409,
  'version-mismatch': 409,
  internal: 500,
};

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const server = http.createServer();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  let port = 0;
  const guard = new RequestGuard(token, () => port);

  server.on('request', (req, res) => {
    handleRequest(req, res, options, guard).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, { code: 'internal', message: `Ferry hit an unexpected error: ${String(err)}` });
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const problem = url.pathname !== '/api/events' ? 'not-found' : guard.check(req, url.searchParams.get('token'));
    if (problem) {
      socket.end(`HTTP/1.1 ${problem === 'not-found' ? '404 Not Found' : problem === 'unauthorized' ? '401 Unauthorized' : '403 Forbidden'}\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attachEventSocket(ws, options.controller));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks Host, Origin and token; returns the error code to answer with, or null when allowed. */
class RequestGuard {
  private readonly tokenBytes: Buffer;
  constructor(
    token: string,
    private readonly port: () => number,
  ) {
    this.tokenBytes = Buffer.from(token);
  }

  check(req: IncomingMessage, presented: string | null | undefined): 'forbidden-origin' | 'unauthorized' | null {
    const allowedHosts = [`${LOOPBACK}:${this.port()}`, `localhost:${this.port()}`];
    if (!allowedHosts.includes(req.headers.host ?? '')) return 'forbidden-origin';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts.some((h) => origin === `http://${h}`)) return 'forbidden-origin';
    if (!presented) return 'unauthorized';
    const given = Buffer.from(presented);
    return given.length === this.tokenBytes.length && timingSafeEqual(given, this.tokenBytes) ? null : 'unauthorized';
  }
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, options: ConsoleServerOptions, guard: RequestGuard): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (!url.pathname.startsWith('/api/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Only GET is served here.');
    if (guard.check(req, 'skip-token') === 'forbidden-origin') return sendText(res, 403, 'Open the console at the URL Ferry printed.');
    return serveStatic(options.staticDir, url.pathname, res);
  }
  const problem = guard.check(req, bearerToken(req));
  if (problem === 'forbidden-origin') return sendError(res, { code: problem, message: 'Requests must come from the Ferry console page on 127.0.0.1.' });
  if (problem === 'unauthorized') {
    return sendError(res, { code: problem, message: 'Missing or wrong access token. Open the console with the full URL Ferry printed (it ends in ?token=…).' });
  }
  if (url.pathname === '/api/hello' && req.method === 'GET') return sendJson(res, 200, options.controller.hello());
  const download = /^\/api\/exports\/(.*)$/.exec(url.pathname);
  if (download && (req.method === 'GET' || req.method === 'HEAD')) return serveExportDownload(options.controller.dataDir, download[1] ?? '', req, res, sendError);
  const call = /^\/api\/call\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
  if (!call || req.method !== 'POST') return sendError(res, { code: 'not-found', message: `No API route ${req.method} ${url.pathname}.` });
  const body = await readJsonBody(req);
  if (!body.ok) return sendError(res, body.error);
  const result = await options.controller.dispatch(call[1], body.value);
  sendResult(res, result);
}

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7) : null;
}

async function readJsonBody(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: ConsoleError }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, error: { code: 'invalid-request', message: `Request body over ${MAX_BODY_BYTES} bytes.` } };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: { code: 'bad-json', message: `The request body is not valid JSON (${(err as Error).message}). Send a JSON object.` } };
  }
}

function attachEventSocket(ws: WebSocket, controller: Controller): void {
  ws.send(JSON.stringify(controller.hello()));
  const unsubscribe = controller.subscribe((event) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
  });
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  // The socket is one-way: anything the page sends is ignored.
}

function sendResult(res: ServerResponse, result: CallResult): void {
  sendJson(res, result.ok ? 200 : STATUS[result.error.code], result);
}

function sendError(res: ServerResponse, error: ConsoleError): void {
  sendResult(res, { ok: false, error });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
