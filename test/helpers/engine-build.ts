/**
 * Builds what the engine tests run, into a temp dir: the agent bundle (as build/build.mjs does) and a
 * standalone CLI for `migrate` / `scan`. Agents run on the Node 24 runtime (dist/runtime or
 * /tmp/n24, or $FERRY_AGENT_NODE). Returns the env the CLI needs to find them.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT, ensureNativeBuilt } from './make-tree.ts';

export interface EngineBuild {
  dir: string;
  agentBundle: string;
  cli: string;
  node24: string;
  env: NodeJS.ProcessEnv;
}

let cached: Promise<EngineBuild> | null = null;

export function findNode24(): string {
  const candidates = [process.env.FERRY_AGENT_NODE, path.join(REPO_ROOT, 'dist/runtime/linux-x64/bin/node'), '/tmp/n24/package/bin/node'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error('No Node 24 runtime for agents: run npm run build (or set FERRY_AGENT_NODE).');
}

export function buildEngine(): Promise<EngineBuild> {
  cached ??= (async () => {
    ensureNativeBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-engine-build-'));
    const banner = { js: "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);" };
    const agentBundle = path.join(dir, 'agent', 'agent.mjs');
    // The CLI keeps its npm dependencies external, as dist/cli/ferry.mjs does (some carry native
    // .node files esbuild cannot bundle), so it lives where the repository's node_modules resolve.
    const cliDir = path.join(REPO_ROOT, 'node_modules', '.cache', 'ferry-engine-tests');
    fs.mkdirSync(cliDir, { recursive: true });
    const cli = path.join(fs.mkdtempSync(path.join(cliDir, 'cli-')), 'ferry-engine.mjs');
    await Promise.all([
      build({ entryPoints: [path.join(REPO_ROOT, 'agent/main.ts')], outfile: agentBundle, bundle: true, platform: 'node', format: 'esm', target: 'node24', banner, logLevel: 'warning' }),
      build({ entryPoints: [path.join(REPO_ROOT, 'test/helpers/engine-cli-entry.ts')], outfile: cli, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', banner, logLevel: 'warning' }),
    ]);
    // Tests may run agents as an unprivileged user: let them read the bundles.
    for (const d of [dir, path.dirname(agentBundle), path.dirname(cli)]) fs.chmodSync(d, 0o755);
    const node24 = findNode24();
    const env = { ...process.env, FERRY_AGENT_NODE: node24, FERRY_AGENT_BUNDLE: agentBundle, FERRY_NATIVE_DIR: path.join(REPO_ROOT, 'dist', 'native') };
    return { dir, agentBundle, cli, node24, env };
  })();
  return cached;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: Record<string, unknown>[];
}

/** Runs the CLI to completion (synchronously, in a child process). */
export function runCliSync(b: EngineBuild, args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [b.cli, ...args], { env: { ...b.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, events: parseEvents(r.stdout) };
}

/** Runs the CLI asynchronously, calling onEvent for each --json event line. */
export function runCli(b: EngineBuild, args: string[], onEvent: (e: Record<string, unknown>) => void = () => undefined, env: NodeJS.ProcessEnv = {}): { child: ReturnType<typeof spawn>; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [b.cli, ...args], { env: { ...b.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    stdout += d;
    partial += d;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        onEvent(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not an event line
      }
    }
  });
  child.stderr?.on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, events: parseEvents(stdout) })));
  return { child, done };
}

export function parseEvents(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return out;
}

export function finishedEvent(run: CliRun): Record<string, unknown> & { summary: Record<string, unknown> } {
  const e = run.events.find((x) => x.event === 'finished');
  if (!e) throw new Error(`No finished event (exit ${run.code}).\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}`);
  return e as Record<string, unknown> & { summary: Record<string, unknown> };
}
