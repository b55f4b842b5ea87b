#!/usr/bin/env node
// The `ferry` command: builds dist/ first when running from a source checkout whose build is
// missing or stale, then hands over to the bundled CLI.
import { pathToFileURL } from 'node:url';
import { CLI_BUNDLE } from '../paths.mjs';
import { isSourceCheckout, needsBuild } from '../stale.mjs';

if (isSourceCheckout() && needsBuild()) {
  const { buildAll } = await import('../build.mjs');
  await buildAll();
}
const { main } = await import(pathToFileURL(CLI_BUNDLE).href);
process.exitCode = await main(process.argv.slice(2));
