// Builds everything Ferry runs from dist/:
//   dist/cli/ferry.mjs        the CLI and web console (controller included), ESM, Node >= 20, one
//                             chunk per command next to it (loaded on demand)
//   dist/electron/main.cjs    Electron main; dist/electron/preload.cjs its preload
//   dist/agent/agent.mjs      the agent: one self-contained file, Node 24 (pinned runtime)
//   dist/renderer/            the Vue console (Vite)
//   dist/native/<target>/     the agent's small Node-API addon (build/native.mjs)
//   dist/runtime/<target>/    the pinned Node runtime for agents (build/fetch-runtime.mjs)
// Flags: --skip-renderer, --all-runtimes (both linux-x64 and linux-arm64, for packaging).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build as esbuild } from 'esbuild';
import { AGENT_BUNDLE, BUILD_STAMP, CLI_BUNDLE, DIST, PKG, ROOT } from './paths.mjs';
import { fetchRuntime, localTarget } from './fetch-runtime.mjs';

const args = new Set(process.argv.slice(2));
const define = { __FERRY_VERSION__: JSON.stringify(PKG.version) };
// ESM bundles of CommonJS dependencies need a real `require`.
const esmRequireBanner = "import { createRequire as __ferryCreateRequire } from 'node:module'; const require = __ferryCreateRequire(import.meta.url);";

export async function buildAll({ renderer = true, allRuntimes = false } = {}) {
  const started = Date.now();
  mkdirSync(DIST, { recursive: true });
  await Promise.all([
    // Split: each command (imported on demand by ferry.ts) is its own chunk next to ferry.mjs.
    esbuild({
      entryPoints: { [path.basename(CLI_BUNDLE, '.mjs')]: path.join(ROOT, 'electron/cli/ferry.ts') },
      outdir: path.dirname(CLI_BUNDLE),
      outExtension: { '.js': '.mjs' },
      splitting: true,
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      define,
      logLevel: 'warning',
    }).then(writeCliOutputs),
    esbuild({
      entryPoints: [path.join(ROOT, 'electron/main.ts')],
      outfile: path.join(DIST, 'electron/main.cjs'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['electron'],
      packages: 'external',
      sourcemap: 'linked',
      define,
      logLevel: 'warning',
    }),
    existsSync(path.join(ROOT, 'agent/main.ts'))
      ? esbuild({
          entryPoints: [path.join(ROOT, 'agent/main.ts')],
          outfile: AGENT_BUNDLE,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node24',
          banner: { js: esmRequireBanner },
          sourcemap: 'linked',
          define,
          logLevel: 'warning',
        })
      : Promise.resolve(),
  ]);
  // The preload runs sandboxed and must not pull zod's whole tree from node_modules: bundle it in.
  await esbuild({
    entryPoints: [path.join(ROOT, 'electron/preload.ts')],
    outfile: path.join(DIST, 'electron/preload.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    define,
    logLevel: 'warning',
  });
  if (renderer) {
    const { build: viteBuild } = await import('vite');
    await viteBuild({ configFile: path.join(ROOT, 'renderer/vite.config.ts'), logLevel: 'warn', define });
  }
  // Runtimes first: the addon compiles against the headers that come with them.
  const targets = allRuntimes ? ['linux-x64', 'linux-arm64'] : localTarget().startsWith('linux-') ? [localTarget()] : [];
  for (const target of targets) fetchRuntime(target);
  const { buildNative } = await import('./native.mjs');
  await buildNative({ root: ROOT, includeDir: null });
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
  console.log(`Built Ferry ${PKG.version} into dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

/**
 * Writes the CLI's chunks, each by rename (a CLI starting meanwhile never reads half a file), and
 * ferry.mjs last, so it never names a chunk not yet there. Then removes chunks of earlier builds
 * (their names carry a content hash) that this build does not name; only those older than a
 * minute, since a CLI started just before may still load one.
 */
function writeCliOutputs(result) {
  const entry = path.resolve(CLI_BUNDLE);
  const ordered = [...result.outputFiles].sort((a, b) => Number(path.resolve(a.path).startsWith(entry)) - Number(path.resolve(b.path).startsWith(entry)));
  for (const out of ordered) {
    mkdirSync(path.dirname(out.path), { recursive: true });
    const tmp = `${out.path}.tmp-${process.pid}`;
    writeFileSync(tmp, out.contents);
    renameSync(tmp, out.path);
  }
  const keep = new Set(result.outputFiles.map((o) => path.resolve(o.path)));
  const dir = path.dirname(entry);
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (keep.has(file)) continue;
    if (Date.now() - statSync(file).mtimeMs > 60_000) rmSync(file, { force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll({ renderer: !args.has('--skip-renderer'), allRuntimes: args.has('--all-runtimes') });
}
