// The built `ferry` command as an operator runs it: help, bad input, and the web console's
// start-up line. Uses build/bin/ferry.mjs, which rebuilds dist/ when it is stale.
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const FERRY = path.resolve('build/bin/ferry.mjs');
let dataDir: string;

function ferry(args: string[]) {
  return spawnSync(process.execPath, [FERRY, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-cli-'));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('ferry CLI', () => {
  it('--help lists the commands; --version prints the version', () => {
    const help = ferry(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: ferry <command>/);
    expect(help.stdout).toMatch(/console/);
    const version = ferry(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command or option says what to do, exit 2', () => {
    const unknown = ferry(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate".*ferry --help/);
    const badOption = ferry(['console', '--colour']);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);
    const badPort = ferry(['console', '--port', 'http']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toMatch(/--port must be a number/);
  });

  it('refuses a corrupt state file, naming it, and leaves it untouched', async () => {
    const dir = path.join(dataDir, 'corrupt');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'hosts.json'), '{"version":1,"hosts":[{"name":1}]}');
    const run = ferry(['console', '--data-dir', dir, '--port', '0', '--no-open']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/hosts\.json is not a valid Ferry state file/);
    expect(await fs.readFile(path.join(dir, 'hosts.json'), 'utf8')).toBe('{"version":1,"hosts":[{"name":1}]}');
  });

  it('console prints a loopback URL with a token, serves it, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [FERRY, 'console', '--data-dir', path.join(dataDir, 'ok'), '--port', '0', '--no-open'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
        if (m) resolve(m[0]);
      });
      child.on('exit', (code) => reject(new Error(`console exited early (${code}): ${out}`)));
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const info = await fetch(url.replace(/\/\?token=(.*)$/, '/api/call/app.info'), {
      method: 'POST',
      headers: { authorization: `Bearer ${new URL(url).searchParams.get('token')}` },
      body: '{}',
    });
    expect(await info.json()).toMatchObject({ ok: true, result: { name: 'Ferry', shell: 'web', dataDir: path.join(dataDir, 'ok') } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
