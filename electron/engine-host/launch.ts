/**
 * Starts local agent processes for the app and the CLI: finds the Node 24 runtime and the agent
 * bundle (overridable with FERRY_AGENT_NODE / FERRY_AGENT_BUNDLE), runs `agent.mjs serve --home DIR
 * --exit-with-parent`, waits for its ready line (protocol/control.ts ReadyLine) and reads its token
 * from DIR/agent.json. Never talks the control protocol itself (control-client.ts does).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReadyLine } from '../../agent/protocol/control.ts';
import { AGENT_NODE_FLAGS } from '../../agent/runtime-flags.ts';

export interface AgentProcess {
  child: ChildProcess;
  ready: ReadyLine;
  token: string;
  home: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** stderr lines kept for error messages (last 50). */
  stderrTail: string[];
}

export interface AgentLocation {
  node: string;
  bundle: string;
}

/** Where the Node 24 runtime and the agent bundle are: env overrides first, then dist/ next to this code or the repo. */
export function locateAgent(env: NodeJS.ProcessEnv = process.env): AgentLocation {
  const target = `${process.platform}-${process.arch}`;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/cli/ferry.mjs -> dist/; electron/engine-host/launch.ts -> repo/dist/
  const dists = [path.resolve(here, '..'), path.resolve(here, '..', '..', 'dist')];
  const find = (rel: string) => dists.map((d) => path.join(d, rel)).find((p) => fs.existsSync(p));
  const node = env.FERRY_AGENT_NODE ?? find(path.join('runtime', target, 'bin', 'node'));
  const bundle = env.FERRY_AGENT_BUNDLE ?? find(path.join('agent', 'agent.mjs'));
  if (!node) throw new Error(`Ferry's agent runtime (Node 24 for ${target}) is missing: run "npm run build" (or set FERRY_AGENT_NODE).`);
  if (!bundle) throw new Error('The agent bundle dist/agent/agent.mjs is missing: run "npm run build" (or set FERRY_AGENT_BUNDLE).');
  return { node, bundle };
}

export interface LaunchOptions {
  home: string;
  dataListen?: string;
  location?: AgentLocation;
  env?: NodeJS.ProcessEnv;
  /** Run the agent as this user (tests of unreadable files run the whole chain as nobody). */
  uid?: number;
  gid?: number;
}

export async function launchAgent(opts: LaunchOptions): Promise<AgentProcess> {
  const loc = opts.location ?? locateAgent();
  const args = [...AGENT_NODE_FLAGS, loc.bundle, 'serve', '--home', opts.home, '--exit-with-parent'];
  if (opts.dataListen) args.push('--data-listen', opts.dataListen);
  fs.mkdirSync(opts.home, { recursive: true, mode: 0o700 });
  if (opts.uid !== undefined) fs.chownSync(opts.home, opts.uid, opts.gid ?? opts.uid);
  const child = spawn(loc.node, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    for (const line of d.split('\n')) if (line) stderrTail.push(line);
    if (stderrTail.length > 50) stderrTail.splice(0, stderrTail.length - 50);
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout?.off('data', onData);
      const parsed = ReadyLine.safeParse(JSON.parse(out.slice(0, nl)));
      if (parsed.success) resolve(parsed.data);
      else reject(new Error(`The agent printed an unexpected first line: ${out.slice(0, nl)}`));
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => reject(new Error(`The agent exited (${code}) before it was ready: ${stderrTail.join('\n')}`)));
  });
  const token = (JSON.parse(fs.readFileSync(path.join(opts.home, 'agent.json'), 'utf8')) as { token: string }).token;
  return { child, ready, token, home: opts.home, exited, stderrTail };
}
