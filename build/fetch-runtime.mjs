// Fetches the pinned Node runtime agents run on, from the npm packages node-<platform>-<arch>,
// with `npm pack` (their os/cpu fields stop a plain install on other machines). npm checks the
// tarball's integrity against the registry. bin/node and include/node (the Node-API headers the
// agent's addon compiles against) are kept, under dist/runtime/<platform>-<arch>/.
// A per-user cache (~/.cache/ferry/runtime) avoids downloading 50 MB again after `rm -rf dist`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_RUNTIME_VERSION, runtimeDir } from './paths.mjs';

const SUPPORTED = ['linux-x64', 'linux-arm64'];

function cacheDir() {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ferry', 'runtime');
}

/** Returns the path of bin/node for the target, fetching it if needed. */
export function fetchRuntime(target, log = console.log) {
  if (!SUPPORTED.includes(target)) throw new Error(`No Ferry agent runtime for ${target}; supported: ${SUPPORTED.join(', ')}.`);
  const [platform, arch] = target.split('-');
  const outDir = runtimeDir(platform, arch);
  const outNode = path.join(outDir, 'bin', 'node');
  const versionFile = path.join(outDir, 'VERSION');
  if (existsSync(outNode) && existsSync(versionFile) && readText(versionFile) === AGENT_RUNTIME_VERSION) return outNode;

  const cachedDir = path.join(cacheDir(), `${target}-${AGENT_RUNTIME_VERSION}`);
  const cached = path.join(cachedDir, 'node');
  if (!existsSync(cached) || !existsSync(path.join(cachedDir, 'include', 'node', 'node_api.h'))) {
    const work = mkdtempSync(path.join(os.tmpdir(), 'ferry-runtime-'));
    try {
      log(`Fetching the agent runtime node-${target}@${AGENT_RUNTIME_VERSION} (about 50 MB)…`);
      execFileSync('npm', ['pack', `node-${target}@${AGENT_RUNTIME_VERSION}`, '--silent'], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] });
      const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new Error('npm pack produced no tarball');
      execFileSync('tar', ['xzf', tgz, 'package/bin/node', 'package/include/node'], { cwd: work });
      mkdirSync(cachedDir, { recursive: true });
      rmSync(path.join(cachedDir, 'include'), { recursive: true, force: true });
      cpSync(path.join(work, 'package', 'include'), path.join(cachedDir, 'include'), { recursive: true });
      copyFileSync(path.join(work, 'package', 'bin', 'node'), `${cached}.part`);
      renameSync(`${cached}.part`, cached);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  mkdirSync(path.dirname(outNode), { recursive: true });
  copyFileSync(cached, outNode);
  rmSync(path.join(outDir, 'include'), { recursive: true, force: true });
  cpSync(path.join(cachedDir, 'include'), path.join(outDir, 'include'), { recursive: true });
  chmodSync(outNode, 0o755);
  writeFileSync(versionFile, AGENT_RUNTIME_VERSION);
  return outNode;
}

function readText(file) {
  return readFileSync(file, 'utf8');
}

export function localTarget() {
  return `${process.platform}-${process.arch}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const targets = process.argv.includes('--all') ? SUPPORTED : [localTarget()];
  for (const t of targets) console.log(fetchRuntime(t));
}
