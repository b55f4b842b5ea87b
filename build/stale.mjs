// Decides whether dist/ must be rebuilt: true when the build stamp is missing or older than any
// source file. Only meaningful in a source checkout (a packaged app ships a built dist/).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUILD_STAMP, CLI_BUNDLE, ROOT, SOURCE_INPUTS } from './paths.mjs';

function newestMtime(p) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, name)));
  }
  return newest;
}

export function isSourceCheckout() {
  return existsSync(path.join(ROOT, 'electron', 'main.ts'));
}

export function needsBuild() {
  if (!existsSync(CLI_BUNDLE) || !existsSync(BUILD_STAMP)) return true;
  if (!isSourceCheckout()) return false;
  const stamp = statSync(BUILD_STAMP).mtimeMs;
  return SOURCE_INPUTS.some((input) => newestMtime(path.join(ROOT, input)) > stamp);
}
