/**
 * Builds the `ferry` command (electron/cli/ferry.ts) into test-output/ (git-ignored; inside the
 * repository so its packages resolve from node_modules, as dist/cli/ferry.mjs does) for tests that
 * run it as a child process, without touching dist/. Built once per test process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from './make-tree.ts';

let cached: Promise<string> | null = null;

/** Removes the build (call from afterAll). */
export async function removeFerryCliBuild(): Promise<void> {
  if (!cached) return;
  const file = await cached.catch(() => null);
  cached = null;
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

export function buildFerryCli(): Promise<string> {
  cached ??= (async () => {
    fs.mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    const dir = fs.mkdtempSync(path.join(REPO_ROOT, 'test-output', 'ferry-cli-'));
    const outfile = path.join(dir, 'ferry.mjs');
    const entry = path.join(dir, 'entry.ts');
    fs.writeFileSync(entry, `import { main } from ${JSON.stringify(path.join(REPO_ROOT, 'electron/cli/ferry.ts'))};\nmain(process.argv.slice(2)).then((code) => process.exit(code), (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exit(1); });\n`);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return cached;
}
