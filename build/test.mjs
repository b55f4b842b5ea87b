// `npm test`: the one command that checks everything, in order: lint, types, build, then the
// unit, integration and end-to-end tiers (Vitest; e2e drives Debian's Chromium with Playwright).
// `node build/test.mjs unit|integration|e2e` runs one tier. Ends with one summary line
// "N passed, N failed, N skipped"; exits non-zero on any failure, and in CI on any skipped test
// (a skipped test must never count as passing).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.mjs';

const TIERS = { unit: 'test/unit', integration: 'test/integration', e2e: 'test/e2e' };
const only = process.argv[2];
if (only && !TIERS[only]) {
  console.error(`Unknown test tier "${only}"; use one of: ${Object.keys(TIERS).join(', ')}.`);
  process.exit(2);
}
const outDir = path.join(ROOT, 'test-output');
mkdirSync(outDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function step(name, cmd, args) {
  const started = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, FERRY_SKIP_BUILD: '1' } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) failures.push(`${name} (exit ${result.status ?? result.signal})`);
  console.log(`=== ${name}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${seconds} s`);
  return result.status === 0;
}

function hasTests(dir) {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return false;
  return readdirSync(abs, { recursive: true }).some((f) => String(f).endsWith('.test.ts'));
}

function runTier(tier) {
  const dir = TIERS[tier];
  if (!hasTests(dir)) {
    console.log(`\n=== ${tier}: no tests in ${dir}`);
    return;
  }
  const report = path.join(outDir, `vitest-${tier}.json`);
  rmSync(report, { force: true });
  // End-to-end files run one at a time: a file's test lab adds and removes veth interfaces, which
  // Chromium takes for a network change, aborting the requests in flight of another file's page
  // (net::ERR_NETWORK_CHANGED).
  const serial = tier === 'e2e' ? ['--no-file-parallelism'] : [];
  step(tier, 'npx', ['vitest', 'run', dir, ...serial, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
  if (!existsSync(report)) {
    failures.push(`${tier} (no result file)`);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  totals.passed += json.numPassedTests ?? 0;
  totals.failed += json.numFailedTests ?? 0;
  totals.skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}

if (!only) {
  step('lint', 'npx', ['eslint', '.']);
  step('typecheck (node)', 'npx', ['tsc', '-p', 'tsconfig.node.json', '--noEmit']);
  step('typecheck (web)', 'npx', ['vue-tsc', '-p', 'tsconfig.web.json', '--noEmit']);
}
if (!step('build', 'node', ['build/build.mjs'])) {
  console.log('\nThe build failed; tests were not run.');
  console.log(`0 passed, 1 failed`);
  process.exit(1);
}
for (const tier of only ? [only] : Object.keys(TIERS)) runTier(tier);

if (process.env.CI && totals.skipped > 0) failures.push(`${totals.skipped} skipped test(s): in CI every test must run`);
console.log(`\n${failures.length ? `Failed steps: ${failures.join('; ')}` : 'All steps passed.'}`);
console.log(`Total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failures.length ? 1 : 0);
