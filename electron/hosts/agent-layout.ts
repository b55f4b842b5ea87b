/**
 * Where the agent lives on a host, in one place. Under the agent home (default ~/.ferry):
 *   agent/<version>/runtime/bin/node               the pinned Node runtime
 *   agent/<version>/agent/agent.mjs                the agent bundle
 *   agent/<version>/native/linux-<arch>/<addon>    the optional Node-API addon (where the agent looks)
 *   agent/<version>/MANIFEST                       written last: one line per file (sha256, size, mode, path)
 *   agent/current -> <version>                     the version last started
 *   agent.pid, agent.log                           the running agent's pid and its stdout/stderr
 * Other files in the home (the agent's identity, task journals) belong to the agent and are never
 * touched by deployment. Pure.
 */

import { AgentError } from './errors.ts';

export type AgentArch = 'x64' | 'arm64';

export const DEFAULT_AGENT_HOME = '~/.ferry';
export const MANIFEST_HEADER = 'ferry-agent-manifest 1';

const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

/** A version label used as a directory name: semver-like, no slashes, no dot-files. */
export function checkVersionLabel(version: string): void {
  if (!VERSION.test(version)) {
    throw new AgentError('bad-version', `"${version}" is not a valid agent version label: use letters, digits, ".", "+", "_" and "-" (at most 64), starting with a letter or digit.`);
  }
}

/** uname -m → the agent runtime's arch, or null for machines Ferry has no runtime for. */
export function agentArch(machine: string): AgentArch | null {
  switch (machine.trim()) {
    case 'x86_64':
    case 'amd64':
      return 'x64';
    case 'aarch64':
    case 'arm64':
      return 'arm64';
    default:
      return null;
  }
}

export interface ManifestEntry {
  /** Path inside the version directory, e.g. "runtime/bin/node". */
  path: string;
  sha256: string;
  size: number;
  /** File mode, e.g. 0o755. */
  mode: number;
}

export const RUNTIME_PATH = 'runtime/bin/node';
export const BUNDLE_PATH = 'agent/agent.mjs';
export function nativeAddonPath(arch: AgentArch, fileName: string): string {
  return `native/linux-${arch}/${fileName}`;
}

export function formatManifest(version: string, arch: AgentArch, entries: readonly ManifestEntry[]): string {
  const lines = [...entries].sort((a, b) => a.path.localeCompare(b.path)).map((e) => `${e.sha256} ${e.size} ${e.mode.toString(8)} ${e.path}`);
  return `${MANIFEST_HEADER} ${version} ${arch}\n${lines.join('\n')}\n`;
}

export interface Manifest {
  version: string;
  arch: string;
  entries: ManifestEntry[];
}

/** Parses a MANIFEST; null when it is not one (a partial or foreign file). */
export function parseManifest(text: string): Manifest | null {
  const [header, ...lines] = text.split('\n');
  const h = header?.split(' ') ?? [];
  if (`${h[0]} ${h[1]}` !== MANIFEST_HEADER || !h[2] || !h[3]) return null;
  const entries: ManifestEntry[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const m = /^([0-9a-f]{64}) (\d+) ([0-7]{3,4}) (\S.*)$/.exec(line);
    if (!m) return null;
    entries.push({ sha256: m[1] as string, size: Number(m[2]), mode: parseInt(m[3] as string, 8), path: m[4] as string });
  }
  return { version: h[2], arch: h[3], entries };
}
