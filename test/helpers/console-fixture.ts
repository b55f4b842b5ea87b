/**
 * Runs the real web console (`ferry console`) as a child process on a fresh data directory and
 * hands back the URL it printed. `stop()` ends the process and removes the data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FERRY_BIN = path.join(ROOT, 'build/bin/ferry.mjs');
const URL_LINE = /(http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))/;
const START_TIMEOUT_MS = 90_000;

export interface ConsoleFixture {
  /** The full URL with its token, as a user would open it. */
  url: string;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  token: string;
  port: number;
  dataDir: string;
  /** Everything the process wrote so far (for failure messages). */
  output(): string;
  /** Calls the console API as the page would (Bearer token); returns the parsed CallResult envelope and status. */
  call(name: string, req?: unknown): Promise<{ status: number; body: { ok: boolean; result?: unknown; error?: { code: string; message: string } } }>;
  stop(): Promise<void>;
}

export async function startConsole(options: { dataDir?: string } = {}): Promise<ConsoleFixture> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-')));
  const child = spawn(process.execPath, [FERRY_BIN, 'console', '--data-dir', dataDir, '--port', '0', '--no-open'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BROWSER: 'none' },
  });
  let log = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (log += chunk));

  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`ferry console printed no URL within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- output ---\n${log}`));
    };
    child.stdout.on('data', (chunk: string) => {
      log += chunk;
      stdout += chunk;
      const found = URL_LINE.exec(stdout);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`ferry console exited (${code ?? signal}) before printing its URL`)));
    child.once('error', (err) => fail(err));
  });

  const [, url, port, token] = match as unknown as [string, string, string, string];
  return {
    url,
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    port: Number(port),
    dataDir,
    output: () => log,
    call: async (name, req = {}) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/call/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(req),
      });
      return { status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error?: { code: string; message: string } } };
    },
    stop: async () => {
      await stopChild(child);
      if (!options.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
