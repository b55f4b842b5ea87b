#!/usr/bin/env node
// The `ferry` command: builds dist/ first when running from a source checkout whose build is
// missing or stale, then hands over to the bundled CLI. FERRY_SKIP_BUILD=1 (set by the test
// runner, which builds once up front) skips the check so parallel test processes never rebuild.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CLI_BUNDLE } from '../paths.mjs';
import { isSourceCheckout, needsBuild } from '../stale.mjs';

if (process.env.FERRY_SKIP_BUILD === '1') {
  if (!existsSync(CLI_BUNDLE)) {
    console.error('ferry: dist/ is not built. Run "npm run build" first.');
    process.exit(1);
  }
} else if (isSourceCheckout() && needsBuild()) {
  const { buildAll } = await import('../build.mjs');
  await buildAll();
}
const { main } = await import(pathToFileURL(CLI_BUNDLE).href);
process.exitCode = await main(process.argv.slice(2));
