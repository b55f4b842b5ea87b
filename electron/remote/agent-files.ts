/**
 * The local files Ferry deploys to migration hosts (agent bundle, the pinned Node runtime per arch,
 * the optional Node-API addon per arch) and the version label they are installed under: Ferry's
 * version plus a short hash of the files, so a rebuilt agent is a new version on the host (deployed
 * and restarted) and an unchanged one uploads nothing. Env overrides: FERRY_AGENT_BUNDLE,
 * FERRY_AGENT_RUNTIME_X64 / FERRY_AGENT_RUNTIME_ARM64, FERRY_NATIVE_DIR. Reads only.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FERRY_VERSION } from '../../agent/version.ts';
import type { AgentArch } from '../hosts/agent-layout.ts';
import type { AgentLocalFiles } from '../hosts/deploy.ts';
import { hashLocalFile } from '../hosts/local-files.ts';

const ARCHES: readonly AgentArch[] = ['x64', 'arm64'];

function distDirs(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/cli/ferry.mjs -> dist/; electron/remote/agent-files.ts -> repo/dist/
  return [path.resolve(here, '..'), path.resolve(here, '..', '..', 'dist')];
}

function firstExisting(candidates: Array<string | undefined>): string | undefined {
  return candidates.find((c): c is string => c !== undefined && fs.existsSync(c));
}

/** Finds the deployable files; throws with what to build when the bundle or every runtime is missing. */
export function locateRemoteAgentFiles(env: NodeJS.ProcessEnv = process.env): AgentLocalFiles {
  const dists = distDirs();
  const bundle = firstExisting([env.FERRY_AGENT_BUNDLE, ...dists.map((d) => path.join(d, 'agent', 'agent.mjs'))]);
  if (!bundle) throw new Error('The agent bundle dist/agent/agent.mjs is missing: run "npm run build" (or set FERRY_AGENT_BUNDLE).');
  const runtimeByArch: Partial<Record<AgentArch, string>> = {};
  const nativeAddonByArch: Partial<Record<AgentArch, string>> = {};
  for (const arch of ARCHES) {
    const runtime = firstExisting([env[`FERRY_AGENT_RUNTIME_${arch.toUpperCase()}`], ...dists.map((d) => path.join(d, 'runtime', `linux-${arch}`, 'bin', 'node'))]);
    if (runtime) runtimeByArch[arch] = runtime;
    const nativeDir = env.FERRY_NATIVE_DIR;
    const addon = firstExisting([nativeDir ? path.join(nativeDir, `linux-${arch}`, 'ferry_fs.node') : undefined, ...dists.map((d) => path.join(d, 'native', `linux-${arch}`, 'ferry_fs.node'))]);
    if (addon) nativeAddonByArch[arch] = addon;
  }
  if (Object.keys(runtimeByArch).length === 0) {
    throw new Error('No agent runtime for Linux hosts (dist/runtime/linux-x64 or linux-arm64): run "npm run build" (or set FERRY_AGENT_RUNTIME_X64).');
  }
  return { bundle, runtimeByArch, nativeAddonByArch };
}

/**
 * "<Ferry version>+<8 hex of the files' hashes>": a valid agent version label, and the one label every
 * deploy of these files uses (Hosts step, task scans, runs, `ferry migrate --plan`), so one never
 * replaces an agent another just installed.
 */
export async function agentVersionLabel(files: AgentLocalFiles): Promise<string> {
  const parts = [files.bundle, ...ARCHES.flatMap((a) => [files.runtimeByArch[a], files.nativeAddonByArch?.[a]])].filter((p): p is string => p !== undefined);
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${(await hashLocalFile(p)).sha256}\n`);
  const base = (files.versionBase ?? FERRY_VERSION).replace(/[^0-9A-Za-z.+_-]/g, '_').slice(0, 50);
  return `${base}+${hash.digest('hex').slice(0, 8)}`;
}
