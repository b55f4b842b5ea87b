// The web console over real HTTP and WebSocket: every wrong payload gets a clear error and
// changes nothing; the right ones work and push events.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONSOLE_PROTOCOL_VERSION } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { startConsoleServer, type ConsoleServer } from '../../electron/console-server/server.ts';

let dataDir: string;
let staticDir: string;
let server: ConsoleServer;
let base: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-console-'));
  staticDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-static-'));
  await fs.writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Ferry</title>');
  await fs.writeFile(path.join(dataDir, 'secret.txt'), 'not for the web');
  const controller = await Controller.open({ dataDir, appVersion: '9.9.9', shell: 'web' });
  server = await startConsoleServer({ controller, staticDir });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.rm(staticDir, { recursive: true, force: true });
});

async function call(name: string, body: string, token: string | null = server.token) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/api/call/${name}`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string; issues?: unknown[] } } };
}

async function hostsOnDisk(): Promise<string> {
  return fs.readFile(path.join(dataDir, 'hosts.json'), 'utf8').catch(() => '<none>');
}

describe('web console API', () => {
  let before: string;
  beforeEach(async () => {
    before = await hostsOnDisk();
  });

  it('prints a loopback URL with a token and serves the page', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain('<title>Ferry</title>');
  });

  it('answers hello with the protocol version', async () => {
    const res = await fetch(`${base}/api/hello`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(await res.json()).toEqual({ protocolVersion: CONSOLE_PROTOCOL_VERSION, appVersion: '9.9.9' });
  });

  it('bad JSON: 400 bad-json, nothing changes', async () => {
    const { status, json } = await call('hosts.add', '{"name": "a",');
    expect(status).toBe(400);
    expect(json.error?.code).toBe('bad-json');
    expect(json.error?.message).toMatch(/not valid JSON/);
    expect(await hostsOnDisk()).toBe(before);
  });

  it('missing or wrong token: 401 unauthorized, nothing changes', async () => {
    for (const token of [null, 'wrong', `${server.token}x`]) {
      const { status, json } = await call('hosts.add', JSON.stringify({ name: 'sneaky', address: '198.18.0.9' }), token);
      expect(status).toBe(401);
      expect(json.error?.code).toBe('unauthorized');
      expect(json.error?.message).toMatch(/token/);
    }
    expect(await hostsOnDisk()).toBe(before);
  });

  it('unknown call: 404 unknown-call, nothing changes', async () => {
    const { status, json } = await call('hosts.nuke', '{}');
    expect(status).toBe(404);
    expect(json.error).toMatchObject({ code: 'unknown-call' });
    expect((await call('__proto__', '{}')).json.error?.code).toBe('unknown-call');
    expect(await hostsOnDisk()).toBe(before);
  });

  it('schema mismatch: 400 invalid-request with field issues, nothing changes', async () => {
    const { status, json } = await call('hosts.add', JSON.stringify({ name: '../etc', address: 42, port: 'ssh' }));
    expect(status).toBe(400);
    expect(json.error?.code).toBe('invalid-request');
    expect(json.error?.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'name' }), expect.objectContaining({ path: 'port' })]));
    expect((await call('hosts.add', '[]')).json.error?.code).toBe('invalid-request');
    expect((await call('hosts.add', 'null')).json.error?.code).toBe('invalid-request');
    expect(await hostsOnDisk()).toBe(before);
  });

  it('a foreign Host or Origin is refused (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, path: '/api/call/hosts.list', method: 'POST', headers: { host: 'evil.example:80', authorization: `Bearer ${server.token}` } },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
    const res = await fetch(`${base}/api/call/hosts.list`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, origin: 'http://evil.example' },
      body: '{}',
    });
    expect(res.status).toBe(403);
  });

  it('static files cannot escape the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const res = await fetch(`${base}${p}`);
      expect(await res.text()).not.toContain('not for the web');
    }
  });

  it('a good call persists and pushes an event to the socket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    const messages: unknown[] = [];
    const gotEvent = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        messages.push(JSON.parse(String(data)));
        if (messages.length === 2) resolve();
      });
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const { status, json } = await call('hosts.add', JSON.stringify({ name: 'ecs-src-1', address: '198.18.0.2' }));
    expect(status).toBe(200);
    expect(json.result).toMatchObject({ name: 'ecs-src-1', port: 22, user: 'root' });
    await gotEvent;
    expect(messages[0]).toEqual({ protocolVersion: CONSOLE_PROTOCOL_VERSION, appVersion: '9.9.9' });
    expect(messages[1]).toMatchObject({ event: 'hosts.changed', payload: [expect.objectContaining({ name: 'ecs-src-1' })] });
    ws.close();
    const dup = await call('hosts.add', JSON.stringify({ name: 'ecs-src-1', address: '198.18.0.3' }));
    expect(dup.status).toBe(409);
    expect(dup.json.error?.message).toMatch(/already exists/);
    expect(JSON.parse(await hostsOnDisk()).hosts).toHaveLength(1);
  });

  it('the event socket needs the token', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=nope`);
    const code = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(code).toBe(401);
  });
});
