/**
 * Finds the agent build this Ferry deploys: dist/agent/agent.mjs, the pinned runtime per arch
 * (dist/runtime/linux-<arch>/bin/node) and the native addon per arch (dist/native/linux-<arch>/).
 * The shells pass the dist/ next to their bundle (dist/cli/ferry.mjs, dist/electron/main.cjs);
 * without one, the dist/ of the current directory (a source checkout). Reads the file system only; says exactly what is
 * missing so the console can tell the operator which build step to run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AgentArch } from '../hosts/agent-layout.ts';
import type { AgentLocalFiles } from '../hosts/deploy.ts';
import { agentVersionLabel } from '../remote/agent-files.ts';

const ARCHES: AgentArch[] = ['x64', 'arm64'];
const ADDON_FILE = 'ferry_fs.node';

export interface AgentBuild {
  distDir: string;
  /** Null when dist/agent/agent.mjs is missing. */
  files: AgentLocalFiles | null;
  /** Arches with a runtime in this build. */
  arches: AgentArch[];
}

/** The version label this build deploys under (appVersion+hash); without a build, appVersion. */
export async function agentBuildVersion(build: AgentBuild, appVersion: string): Promise<string> {
  return build.files ? agentVersionLabel({ ...build.files, versionBase: appVersion }) : appVersion;
}

/** True when an installed agent version is this Ferry's (its label, or the bare app version). */
export function isAppAgentVersion(version: string, appVersion: string): boolean {
  return version === appVersion || version.startsWith(`${appVersion}+`);
}

export function findDistDir(explicit?: string): string {
  return path.resolve(explicit ?? 'dist');
}

export function locateAgentBuild(distDir: string): AgentBuild {
  const bundle = path.join(distDir, 'agent', 'agent.mjs');
  const runtimeByArch: Partial<Record<AgentArch, string>> = {};
  const nativeAddonByArch: Partial<Record<AgentArch, string>> = {};
  for (const arch of ARCHES) {
    const node = path.join(distDir, 'runtime', `linux-${arch}`, 'bin', 'node');
    if (existsSync(node)) runtimeByArch[arch] = node;
    const addon = path.join(distDir, 'native', `linux-${arch}`, ADDON_FILE);
    if (existsSync(addon)) nativeAddonByArch[arch] = addon;
  }
  const arches = ARCHES.filter((a) => runtimeByArch[a] !== undefined);
  return { distDir, files: existsSync(bundle) ? { bundle, runtimeByArch, nativeAddonByArch } : null, arches };
}
