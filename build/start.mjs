// `npm start`: build if needed, then launch the Electron app when its binary is present; where it
// is absent (no display libraries, or the binary could not be downloaded) say so in one line and
// start the web console instead. `npm run console` (--console) goes straight to the web console.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI_BUNDLE, DIST, ROOT } from './paths.mjs';
import { needsBuild } from './stale.mjs';

const argv = process.argv.slice(2);
const consoleOnly = argv.includes('--console');
const passThrough = argv.filter((a) => a !== '--console');

if (needsBuild()) {
  const { buildAll } = await import('./build.mjs');
  await buildAll();
}

const electronBinary = consoleOnly ? null : findElectronBinary();
if (electronBinary) {
  const child = spawn(electronBinary, [path.join(DIST, 'electron', 'main.cjs'), ...passThrough], { stdio: 'inherit', cwd: ROOT });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  if (!consoleOnly) console.log("Electron's binary is not installed here; starting Ferry's web console instead.");
  const { main } = await import(pathToFileURL(CLI_BUNDLE).href);
  process.exitCode = await main(['console', ...passThrough]);
}

function findElectronBinary() {
  try {
    const require = createRequire(path.join(ROOT, 'package.json'));
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}
