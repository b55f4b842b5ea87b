// `npm run bench`: Ferry against tar, cp -a and rsync -a, side by side, in one run.
//
// Builds dist/ first when it is missing or stale (the CLI, the agent, the runtime and the addon; not
// the renderer, and the build stamp keeps its old time so `npm start` still rebuilds that). Generates
// each dataset, then runs every tool on it, the order rotating every round, with an empty destination
// each time; Ferry as `ferry migrate SRC DST --json` (verification 'transferred', so every file is read
// back), through build/bin/ferry.mjs and dist/cli/ferry.mjs, its agents' peak RSS taken from the
// finished event and the CLI's own from a probe preloaded into it.
//   small  50,000 files of 4 KiB in 500 directories
//   large  4 files of 512 MiB of random data
//   wide   one directory with 250,000 files of 1 KiB
// As root the data, the destinations and Ferry's journals live on a tmpfs the bench mounts itself and
// always unmounts (also on Ctrl-C and errors); otherwise in a temp directory, which it says. On the
// tmpfs, the dataset's size in zeros is written and deleted right before every run, so that each tool
// starts on memory the VM has not handed back to its host (see warmMemory).
// Prints per dataset and tool the best wall time of the rounds, files/s and MB/s (10^6 bytes), CPU
// seconds (with /usr/bin/time: user + system of the tool and its children, e.g. Ferry's agents),
// Ferry's speed ratio to each tool and the peak RSS of Ferry's processes; then PASS/MISS per target.
// For the small-file datasets it also times the floor (build/bench-floor.mjs: the per-file work Ferry's
// rules require, through its own C calls in one thread, with no TLS, journal or second process) and
// prints Ferry's CPU over the floor's: the share of Ferry's cost that is its own overhead.
// Exit code 0 when every run succeeded (a MISS is a figure, not an error), 1 when a tool failed.
//
// Options: --scale F (file counts and large-file size times F, e.g. 0.05), --dataset NAME (repeatable
// or comma-separated), --rounds N (default 2), --json FILE (also write the figures), --cli FILE (a
// ferry CLI script to run instead of build/bin/ferry.mjs; no build then).
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILD_STAMP, ROOT } from './paths.mjs';
import { needsBuild } from './stale.mjs';

const KiB = 1024;
const MiB = 1024 * 1024;
const RSS_LIMIT = 300 * 1e6;
const TOOLS = ['ferry', 'tar', 'cp', 'rsync'];
/** Datasets of small files get the floor (build/bench-floor.mjs): the per-file work alone, in C. */
const FLOOR_DATASETS = new Set(['small', 'wide']);
const DATASETS = {
  small: { describe: (d) => `${fmtInt(d.files)} files of 4 KiB in ${fmtInt(d.dirs)} directories`, plan: (s) => ({ dirs: atLeast(1, 500 * s), files: atLeast(1, 50_000 * s), size: 4 * KiB }) },
  large: { describe: (d) => `${d.files} files of ${fmtBytes(d.size)} of random data`, plan: (s) => ({ dirs: 1, files: 4, size: Math.max(MiB, Math.round((512 * MiB * s) / (64 * KiB)) * 64 * KiB) }) },
  wide: { describe: (d) => `one directory with ${fmtInt(d.files)} files of 1 KiB`, plan: (s) => ({ dirs: 1, files: atLeast(10, 250_000 * s), size: KiB }) },
};

const USAGE = `Usage: npm run bench -- [--scale F] [--dataset small|large|wide] [--rounds N] [--json FILE] [--cli FILE]`;

function atLeast(min, v) {
  return Math.max(min, Math.round(v));
}
function fmtInt(n) {
  return Math.round(n).toLocaleString('en');
}
function fmtBytes(n) {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;
  return `${(n / KiB).toFixed(0)} KiB`;
}
function fmtMB(bytes) {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      dataset: { type: 'string', multiple: true },
      rounds: { type: 'string', default: '2' },
      json: { type: 'string' },
      cli: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 10)) throw new UsageError(`--scale wants a number above 0 (at most 10), not "${values.scale}".`);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new UsageError(`--rounds wants a whole number from 1 to 20, not "${values.rounds}".`);
  const datasets = (values.dataset ?? Object.keys(DATASETS)).flatMap((d) => d.split(',')).filter(Boolean);
  for (const d of datasets) if (!DATASETS[d]) throw new UsageError(`Unknown dataset "${d}": use ${Object.keys(DATASETS).join(', ')}.`);
  const cli = values.cli ? path.resolve(values.cli) : null;
  if (cli && !fs.existsSync(cli)) throw new UsageError(`--cli ${cli} does not exist.`);
  return { scale, rounds, datasets: [...new Set(datasets)], json: values.json ? path.resolve(values.json) : null, cli };
}

class UsageError extends Error {}

// ------------------------------------------------------------------ build

async function buildIfNeeded() {
  if (!needsBuild()) return;
  const stamp = fs.statSync(BUILD_STAMP, { throwIfNoEntry: false });
  console.log('dist/ is missing or stale: building the CLI, the agent, its runtime and addon (not the renderer).');
  const { buildAll } = await import('./build.mjs');
  await buildAll({ renderer: false });
  // The renderer was not rebuilt: the stamp must keep saying what it said before.
  if (stamp) fs.utimesSync(BUILD_STAMP, stamp.atime, stamp.mtime);
  else fs.rmSync(BUILD_STAMP, { force: true });
}

// ------------------------------------------------------------------ the storage

/** A tmpfs mounted here (root) or a plain temp dir; `release` undoes it. */
function setUpStorage(bytesNeeded) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  if (process.getuid?.() !== 0) return { dir, tmpfs: false, release: () => fs.rmSync(dir, { recursive: true, force: true }) };
  const size = Math.ceil((bytesNeeded * 1.15 + 256 * MiB) / MiB);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}m,mode=0755`, 'ferry-bench', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    throw new Error(`Could not mount a tmpfs for the bench at ${dir}: ${r.stderr.trim()}`);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, tmpfs: true, release };
}

// ------------------------------------------------------------------ datasets

/** Random bytes to cut file contents from (each file a different slice). */
const POOL = randomFillSync(Buffer.allocUnsafe(8 * MiB));

function generate(name, plan, root) {
  const src = path.join(root, `src-${name}`);
  fs.mkdirSync(src);
  const started = Date.now();
  if (name === 'large') {
    const chunk = Buffer.allocUnsafe(16 * MiB);
    for (let f = 0; f < plan.files; f++) {
      const fd = fs.openSync(path.join(src, `big${f}.bin`), 'w');
      for (let left = plan.size; left > 0; ) {
        const n = Math.min(left, chunk.length);
        randomFillSync(chunk, 0, n);
        fs.writeSync(fd, chunk, 0, n);
        left -= n;
      }
      fs.closeSync(fd);
    }
  } else {
    const perDir = Math.ceil(plan.files / plan.dirs);
    let made = 0;
    for (let d = 0; d < plan.dirs && made < plan.files; d++) {
      const dir = plan.dirs === 1 ? src : path.join(src, `d${String(d).padStart(4, '0')}`);
      if (dir !== src) fs.mkdirSync(dir);
      for (let f = 0; f < perDir && made < plan.files; f++, made++) {
        const off = (made * 4099) % (POOL.length - plan.size);
        fs.writeFileSync(path.join(dir, `f${String(f).padStart(6, '0')}`), POOL.subarray(off, off + plan.size));
      }
    }
  }
  return { src, files: plan.files, dirs: plan.dirs, size: plan.size, bytes: plan.files * plan.size, seconds: (Date.now() - started) / 1000 };
}

// ------------------------------------------------------------------ running one tool

let current = null;
let interrupted = false;

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Runs argv in its own process group (so Ctrl-C reaches it through us, and all of a pipeline dies).
 * With /usr/bin/time it also measures CPU seconds (user + system, the waited-for descendants
 * included: Ferry's agents, both ends of the tar pipe), a figure the other load on the machine
 * disturbs less than wall time.
 */
function runTimed(argv, env, timeFile) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const full = TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...argv] : argv;
    const child = spawn(full[0], full.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
    child.on('close', (code, signal) => {
      current = null;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ code, signal, stdout, stderr, seconds, cpu: TIME ? cpuSeconds(timeFile) : null });
    });
  });
}

/** user + system seconds from /usr/bin/time's last line, or null. */
function cpuSeconds(file) {
  try {
    const last = fs.readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
    const [user, sys] = last.split(' ').map(Number);
    return Number.isFinite(user) && Number.isFinite(sys) ? user + sys : null;
  } catch {
    return null;
  }
}

function writeRssProbe(dir) {
  const probe = path.join(dir, 'rss-probe.mjs');
  fs.writeFileSync(
    probe,
    `import fs from 'node:fs';\nprocess.on('exit', () => { try { fs.writeFileSync(process.env.FERRY_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)); } catch {} });\n`,
  );
  return probe;
}

/**
 * Writes and deletes `bytes` of zeros on the bench's tmpfs right before a run. Why: this VM hands
 * memory that sat free for a few seconds back to its host, and the first touch of it afterwards is
 * about 4x slower (writing 2 GiB into a tmpfs: 4.3 s cold, 1.0 s warm). Without this, whichever tool
 * ran after the previous one's destination was deleted got cold pages, and the large set's ratios
 * measured the VM rather than the tools.
 */
function warmMemory(ctx, bytes) {
  if (!ctx.tmpfs) return;
  const file = path.join(ctx.dir, 'warm');
  const chunk = Buffer.alloc(8 * MiB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += chunk.length) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

async function runTool(tool, ctx, src, dst, bytes) {
  if (interrupted) throw new Interrupted();
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst);
  warmMemory(ctx, bytes);
  const shellQuote = (p) => `'${p.replace(/'/g, `'\\''`)}'`;
  const timeFile = path.join(ctx.dir, 'time');
  if (tool === 'tar') return check(tool, await runTimed(['sh', '-c', `tar -C ${shellQuote(src)} -cf - . | tar -C ${shellQuote(dst)} -xf -`], process.env, timeFile));
  if (tool === 'cp') return check(tool, await runTimed(['cp', '-a', `${src}/.`, dst], process.env, timeFile));
  if (tool === 'rsync') return check(tool, await runTimed(['rsync', '-a', `${src}/`, `${dst}/`], process.env, timeFile));
  const state = path.join(ctx.dir, 'ferry-state');
  fs.rmSync(state, { recursive: true, force: true });
  const rssFile = path.join(ctx.dir, 'cli-rss');
  fs.rmSync(rssFile, { force: true });
  const env = { ...process.env, FERRY_SKIP_BUILD: '1', FERRY_BENCH_RSS_FILE: rssFile };
  const argv = [process.execPath, '--import', `file://${ctx.probe}`, ctx.cli, 'migrate', src, dst, '--json', '--verify', 'transferred', '--state-dir', state];
  const r = check(tool, await runTimed(argv, env, timeFile));
  const finished = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((e) => e.event === 'finished');
  if (!finished?.passed) throw new Error(`ferry migrate did not pass on ${src}: ${finished ? JSON.stringify(finished.summary) : 'no finished event'}\n${r.stderr.slice(-2000)}`);
  const cliRss = Number(fs.readFileSync(rssFile, 'utf8'));
  return { ...r, rss: { ...finished.maxRss, cli: cliRss } };
}

/** Node 24 and the addon for the floor (the agent's own runtime and C calls), or null when not built. */
function floorTools() {
  const target = `${process.platform}-${process.arch}`;
  const node = [process.env.FERRY_AGENT_NODE, path.join(ROOT, 'dist', 'runtime', target, 'bin', 'node')].find((p) => p && fs.existsSync(p));
  const native = process.env.FERRY_NATIVE_DIR ?? path.join(ROOT, 'dist', 'native');
  const addon = [path.join(native, target, 'ferry_fs.node'), path.join(native, 'ferry_fs.node')].find((p) => fs.existsSync(p));
  return node && addon ? { node, addon } : null;
}

async function runFloor(ctx, data, dst) {
  if (interrupted) throw new Interrupted();
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst);
  warmMemory(ctx, data.bytes);
  const r = check('floor', await runTimed([ctx.floor.node, path.join(ROOT, 'build', 'bench-floor.mjs'), ctx.floor.addon, data.src, dst], process.env, path.join(ctx.dir, 'time')));
  const copied = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  if (copied.files !== data.files) throw new Error(`The floor copied ${copied.files} files of ${data.files}.`);
  return r;
}

function check(tool, r) {
  if (interrupted) throw new Interrupted();
  if (r.code !== 0) throw new Error(`${tool} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-2000)}${r.stdout.slice(-2000)}`);
  return r;
}

class Interrupted extends Error {}

// ------------------------------------------------------------------ figures

function figures(data, runs) {
  const best = Math.min(...runs.map((r) => r.seconds));
  const cpus = runs.map((r) => r.cpu).filter((c) => c !== null);
  return {
    runs: runs.map((r) => Number(r.seconds.toFixed(3))),
    best: Number(best.toFixed(3)),
    filesPerSec: Math.round(data.files / best),
    mbPerSec: Number((data.bytes / 1e6 / best).toFixed(1)),
    cpuSeconds: cpus.length ? Number(Math.min(...cpus).toFixed(2)) : null,
  };
}

function peakRss(runs) {
  const out = {};
  for (const r of runs) for (const [role, v] of Object.entries(r.rss ?? {})) out[role] = Math.max(out[role] ?? 0, v);
  return out;
}

function printDataset(name, data, result, rounds) {
  console.log(`\n${name}: ${DATASETS[name].describe(data)} (${fmtBytes(data.bytes)}), best of ${rounds} round${rounds > 1 ? 's' : ''}`);
  console.log(`  ${'tool'.padEnd(6)} ${'wall s'.padStart(8)} ${'files/s'.padStart(10)} ${'MB/s'.padStart(8)} ${'cpu s'.padStart(7)}   runs (s)`);
  for (const tool of TOOLS) {
    const t = result.tools[tool];
    const cpu = t.cpuSeconds === null ? '-' : t.cpuSeconds.toFixed(2);
    console.log(`  ${tool.padEnd(6)} ${t.best.toFixed(2).padStart(8)} ${fmtInt(t.filesPerSec).padStart(10)} ${t.mbPerSec.toFixed(1).padStart(8)} ${cpu.padStart(7)}   ${t.runs.map((s) => s.toFixed(2)).join(' ')}`);
  }
  for (const tool of TOOLS.slice(1)) {
    const ratio = result.ratios[tool];
    console.log(`  ratio Ferry/${tool}: ${ratio.toFixed(2)}x (${ratio >= 1 ? 'Ferry faster' : 'Ferry slower'})`);
  }
  const floor = result.floor;
  if (floor) {
    const cpu = floor.cpuSeconds === null ? '-' : floor.cpuSeconds.toFixed(2);
    console.log(`  ${'floor'.padEnd(6)} ${floor.best.toFixed(2).padStart(8)} ${fmtInt(floor.filesPerSec).padStart(10)} ${floor.mbPerSec.toFixed(1).padStart(8)} ${cpu.padStart(7)}   ${floor.runs.map((s) => s.toFixed(2)).join(' ')}`);
    const ferryCpu = result.tools.ferry.cpuSeconds;
    if (ferryCpu !== null && floor.cpuSeconds) console.log(`  Ferry CPU / floor CPU: ${(ferryCpu / floor.cpuSeconds).toFixed(2)}x (the floor: the per-file work alone, Ferry's C calls in one thread)`);
  }
  const rss = result.tools.ferry.rss;
  console.log(`  Ferry peak RSS: ${Object.entries(rss).map(([role, v]) => `${role} ${fmtMB(v)}`).join(', ')}`);
}

function targetsOf(results) {
  const out = [];
  if (results.small) {
    const v = results.small.ratios.tar;
    out.push({ target: 'small files: Ferry files/s >= 1.0x tar', value: v, pass: v >= 1, text: `${v.toFixed(2)}x tar's files/s` });
  }
  if (results.large) {
    const v = results.large.ratios.tar;
    out.push({ target: 'large files: Ferry MB/s >= 1.0x tar', value: v, pass: v >= 1, text: `${v.toFixed(2)}x tar's MB/s` });
  }
  for (const [name, r] of Object.entries(results)) {
    const [role, v] = Object.entries(r.tools.ferry.rss).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
    out.push({ target: `${name}: peak RSS of every Ferry process <= 300 MB`, value: v, pass: v <= RSS_LIMIT, text: `highest ${fmtMB(v)} (${role})` });
  }
  return out;
}

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (!opts.cli) await buildIfNeeded();
  const cli = opts.cli ?? path.join(ROOT, 'build', 'bin', 'ferry.mjs');
  const plans = Object.fromEntries(opts.datasets.map((d) => [d, DATASETS[d].plan(opts.scale)]));
  // tmpfs keeps every file in whole 4 KiB pages; source, destination and Ferry's journal share it.
  const need = Math.max(...Object.values(plans).map((p) => p.files * (Math.ceil(p.size / 4096) * 4096 + 1024) * 2.3));
  const storage = setUpStorage(need);
  const onSignal = () => {
    interrupted = true;
    if (current) process.kill(-current.pid, 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const where = storage.tmpfs ? `a tmpfs mounted at ${storage.dir}` : `${storage.dir} (not root: no tmpfs, so these figures include the local disk)`;
    console.log(`Ferry bench: scale ${opts.scale}, ${opts.rounds} round(s), ${os.cpus().length} CPUs, Node ${process.version}; data on ${where}.`);
    const ctx = { dir: storage.dir, tmpfs: storage.tmpfs, cli, probe: writeRssProbe(storage.dir), floor: floorTools() };
    if (!ctx.floor) console.log('No floor: the agent runtime or the addon is not built (npm run build).');
    const results = {};
    for (const name of opts.datasets) {
      const data = generate(name, plans[name], storage.dir);
      console.log(`\nGenerated ${name} in ${data.seconds.toFixed(1)} s.`);
      const dst = path.join(storage.dir, 'dst');
      const runs = Object.fromEntries(TOOLS.map((t) => [t, []]));
      for (let round = 0; round < opts.rounds; round++) {
        const order = TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length]);
        for (const tool of order) {
          const r = await runTool(tool, ctx, data.src, dst, data.bytes);
          runs[tool].push(r);
          console.log(`  round ${round + 1}: ${tool} ${r.seconds.toFixed(2)} s`);
        }
        if (ctx.floor && FLOOR_DATASETS.has(name)) {
          const r = await runFloor(ctx, data, dst);
          (runs.floor ??= []).push(r);
          console.log(`  round ${round + 1}: floor ${r.seconds.toFixed(2)} s`);
        }
      }
      fs.rmSync(dst, { recursive: true, force: true });
      fs.rmSync(data.src, { recursive: true, force: true });
      const tools = Object.fromEntries(TOOLS.map((t) => [t, figures(data, runs[t])]));
      tools.ferry.rss = peakRss(runs.ferry);
      const ratios = Object.fromEntries(TOOLS.slice(1).map((t) => [t, Number((tools[t].best / tools.ferry.best).toFixed(3))]));
      results[name] = { files: data.files, dirs: data.dirs, fileSize: data.size, bytes: data.bytes, tools, ratios };
      if (runs.floor) results[name].floor = figures(data, runs.floor);
      printDataset(name, data, results[name], opts.rounds);
    }
    const targets = targetsOf(results);
    console.log('\nTargets:');
    for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.text}`);
    if (opts.json) {
      const doc = { when: new Date().toISOString(), scale: opts.scale, rounds: opts.rounds, storage: storage.tmpfs ? 'tmpfs' : 'temp-dir', cpus: os.cpus().length, node: process.version, datasets: results, targets };
      fs.writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
      console.log(`Figures written to ${opts.json}.`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    storage.release();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof Interrupted) {
      console.error('\nInterrupted: the bench data is removed (and its tmpfs unmounted).');
      process.exit(130);
    }
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof UsageError) console.error(USAGE);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
