/**
 * Migrations across real Linux hosts over SSH (the network-namespace lab): 2 source hosts sharing a
 * source "NAS" directory and 2 destination hosts sharing a destination one. The runner deploys the
 * agents, runs the plan task, and the trees compare equal, while the workstation's SSH connections
 * carried only a small fraction of the data (file data goes host to host). Also: SSH connections
 * dropped mid-task (the task keeps running on the hosts; the runner reconnects and reads the true
 * progress), hosts behind a jump host, `ferry migrate --plan` with host-key refusal and acceptance,
 * and `ferry plan check --hosts` on a missing directory, a read-only destination and a non-mount.
 * Needs root (the lab). Agents are deployed once per host for the whole file.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plan, type PlanHost } from '../../electron/contract/plan.ts';
import type { AgentLocalFiles } from '../../electron/hosts/deploy.ts';
import { planToYaml } from '../../electron/plan/plan-file.ts';
import { locateRemoteAgentFiles } from '../../electron/remote/agent-files.ts';
import { runRemoteTask, type RemoteRunEvent } from '../../electron/remote/remote-runner.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { buildEngine, parseEvents } from '../helpers/engine-build.ts';
import { buildFerryCli, removeFerryCliBuild } from '../helpers/ferry-cli-build.ts';
import { REPO_ROOT, bytesUnder } from '../helpers/make-tree.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { tempDir } from '../helpers/test-hosts/ssh-helpers.ts';

const MiB = 1024 * 1024;
let lab: TestLab;
let work: string;
let nasSrc: string;
let nasDst: string;
let dataDir: string;
let agentFiles: AgentLocalFiles;
let ferryCli: string;
let cliEnv: NodeJS.ProcessEnv;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `ferry` command to its end; `onStdout` sees the output as it comes (and may signal the child). */
function ferry(args: string[], onStdout?: (soFar: string, child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ferryCli, ...args], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}


/** A tree of `files` small files in 40 directories plus `large` files of `largeSize` bytes; returns its byte count. */
async function writeTree(root: string, files: number, large: number, largeSize: number): Promise<number> {
  let bytes = 0;
  for (let d = 0; d < 40; d++) await fs.mkdir(path.join(root, `dir-${d}`, 'sub'), { recursive: true });
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < files; i++) {
    const size = 200 + ((i * 7919) % 6000);
    bytes += size;
    writes.push(fs.writeFile(path.join(root, `dir-${i % 40}`, i % 3 === 0 ? 'sub' : '', `file-${i}.bin`), randomBytes(size)));
    if (writes.length >= 200) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  for (let i = 0; i < large; i++) {
    await fs.writeFile(path.join(root, `large-${i}.bin`), randomBytes(largeSize));
    bytes += largeSize;
  }
  await fs.symlink('large-0.bin', path.join(root, 'link-to-large'));
  return bytes;
}

function labHost(name: string, extra: Partial<PlanHost> = {}): Record<string, unknown> {
  const h = lab.host(name);
  return { name, address: h.address, port: h.port, user: 'root', auth: { kind: 'key', keyFile: lab.clientKey.path }, ...extra };
}

/** A plan with the four public hosts, a source and a destination tunnel, and one task. */
function publicPlan(task: { name: string; from: string; to: string; options?: Record<string, unknown> }): Plan {
  return Plan.parse({
    version: 1,
    hosts: ['src1', 'src2', 'dst1', 'dst2'].map((n) => labHost(n)),
    tunnels: [
      { name: 'old-nas', role: 'source', hosts: ['src1', 'src2'] },
      { name: 'new-nas', role: 'destination', hosts: ['dst1', 'dst2'] },
    ],
    addresses: [
      { name: 'from', tunnel: 'old-nas', directory: task.from },
      { name: 'to', tunnel: 'new-nas', directory: task.to },
    ],
    tasks: [{ name: task.name, source: 'from', destination: 'to', options: task.options ?? {} }],
  });
}

/** The problem lines of a report file (for assertion messages). */
async function problemsOf(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('"category"')).slice(0, 20).join('\n') || text.slice(0, 2000);
}

const auth = async () => ({ kind: 'key' as const, keyFile: lab.clientKey.path });

beforeAll(async () => {
  work = await tempDir('ferry-remote-');
  nasSrc = path.join(work, 'nas-src');
  nasDst = path.join(work, 'nas-dst');
  await fs.mkdir(nasSrc);
  await fs.mkdir(nasDst);
  const engine = await buildEngine();
  cliEnv = { ...process.env, FERRY_AGENT_BUNDLE: engine.agentBundle, FERRY_AGENT_RUNTIME_X64: engine.node24, FERRY_NATIVE_DIR: path.join(REPO_ROOT, 'dist/native') };
  // What the CLI finds with that environment: the runner and the CLI deploy the same version.
  agentFiles = locateRemoteAgentFiles(cliEnv);
  expect(existsSync(agentFiles.nativeAddonByArch?.x64 as string)).toBe(true);
  const src = { source: nasSrc, target: '/mnt/src' };
  const dst = { source: nasDst, target: '/mnt/dst' };
  // For the live checks: a read-only destination, and a directory that is a different mount on each source host.
  for (const d of ['ro', 'odd-a', 'odd-b']) await fs.mkdir(path.join(work, d));
  const ro = { source: path.join(work, 'ro'), target: '/mnt/ro', readOnly: true };
  lab = await createTestLab({
    hosts: [
      { name: 'src1', binds: [src, { source: path.join(work, 'odd-a'), target: '/mnt/odd' }] },
      { name: 'src2', binds: [src, { source: path.join(work, 'odd-b'), target: '/mnt/odd' }] },
      { name: 'dst1', binds: [dst, ro] },
      { name: 'dst2', binds: [dst, ro] },
    ],
    // A private host (reachable only through the jump host) for the live checks.
    jump: { name: 'jump', privateHosts: [{ name: 'priv', binds: [src] }] },
  });
  dataDir = path.join(work, 'data');
  await fs.mkdir(dataDir);
  await fs.writeFile(path.join(dataDir, 'known_hosts'), Object.keys(lab.hosts).map((n) => lab.knownHostsLine(n)).join('\n') + '\n');
  ferryCli = await buildFerryCli();
});

afterAll(async () => {
  await removeFerryCliBuild();
  await lab?.destroy();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('runRemoteTask across hosts', () => {
  it('deploys, migrates thousands of files and a few large ones host to host, verified; the workstation carried only control traffic', async () => {
    const dataBytes = await writeTree(path.join(nasSrc, 'tree1'), 2000, 3, 4 * MiB);
    await fs.mkdir(path.join(nasDst, 'run1'));
    const events: RemoteRunEvent[] = [];
    const started = Date.now();
    const result = await runRemoteTask({ plan: publicPlan({ name: 'first', from: '/mnt/src/tree1', to: '/mnt/dst/run1' }), auth, hostKeys: { dataDir, userKnownHostsFile: null }, agentFiles, reportFile: path.join(work, 'report1.json'), onEvent: (e) => events.push(e) });
    const ms = Date.now() - started;
    expect(result.status?.state, JSON.stringify(result.status)).toBe('done');
    expect(result.passed, await problemsOf(path.join(work, 'report1.json'))).toBe(true);
    expect(result.report?.summary.copied).toBeGreaterThanOrEqual(2004);
    const diffs = compareTrees(path.join(nasSrc, 'tree1'), path.join(nasDst, 'run1'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    // Every host got the agent; all four took part.
    expect(events.filter((e) => e.type === 'deployed').map((e) => (e as { host: string }).host).sort()).toEqual(['dst1', 'dst2', 'src1', 'src2']);
    const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
    expect(Math.max(...statuses.map((s) => s.workers.filter((w) => w.role === 'source').length))).toBe(2);
    expect(Math.max(...statuses.map((s) => s.workers.filter((w) => w.role === 'destination').length))).toBe(2);
    const task = result.bytes.task.sent + result.bytes.task.received;
    console.log(
      `remote migrate: ${(dataBytes / MiB).toFixed(1)} MiB in ${ms} ms; workstation SSH bytes during the task ${task} (${((task / dataBytes) * 100).toFixed(2)} % of the data), setup incl. deploy ${result.bytes.setup.sent + result.bytes.setup.received}`,
    );
    const deploys = events.flatMap((e) => (e.type === 'deployed' ? [`${e.host} ${(e.deploy.bytesSent / MiB).toFixed(1)} MiB in ${e.deploy.ms} ms`] : []));
    console.log(`deploys: ${deploys.join('; ')}`);
    expect(task).toBeLessThan(dataBytes * 0.05);
    expect(result.report?.summary.bytesCopied).toBeGreaterThanOrEqual(dataBytes);
  }, 150_000);

  it('keeps the task running on the hosts when every SSH connection drops; reconnects and reads the true progress', async () => {
    const dataBytes = await writeTree(path.join(nasSrc, 'tree2'), 400, 3, 6 * MiB);
    const dest = path.join(nasDst, 'run2');
    await fs.mkdir(dest);
    // About 19 MiB at 2 MiB/s: the task outlasts the links' reconnect backoff (1.5 s, then 1 s) by
    // seconds even on a loaded machine, so every link is back before the end (the runner learns of the
    // end at once, task.wait, and closes its links then).
    const plan = publicPlan({ name: 'dropped', from: '/mnt/src/tree2', to: '/mnt/dst/run2', options: { bandwidth: { bytesPerSecond: 2 * MiB } } });
    const pids: Record<string, number> = {};
    const statuses: Array<{ at: number; filesDone: number; bytesDone: number }> = [];
    const lost = new Map<string, number>();
    const restored = new Map<string, { bytesOnDest: number; agentRestarted: boolean }>();
    let bytesAtDrop = -1;
    let dropping: Promise<void> | null = null;
    const result = await runRemoteTask({
      plan,
      auth,
      hostKeys: { dataDir, userKnownHostsFile: null },
      agentFiles,
      // A longer first wait than the default makes the disconnected stretch easy to see.
      reconnect: { backoffMs: [1500, 1000] },
      onEvent: (e) => {
        if (e.type === 'agent-started') pids[e.host] = e.pid;
        if (e.type === 'lost') lost.set(e.host, Date.now());
        if (e.type === 'restored') restored.set(e.host, { bytesOnDest: bytesUnder(dest), agentRestarted: e.agentRestarted });
        if (e.type !== 'status') return;
        statuses.push({ at: Date.now(), filesDone: e.status.progress.filesDone, bytesDone: e.status.progress.bytesDone });
        if (!dropping && e.status.phase === 'copy' && e.status.progress.filesDone > 0) {
          bytesAtDrop = bytesUnder(dest);
          dropping = Promise.all(['src1', 'src2', 'dst1', 'dst2'].map((h) => lab.dropConnections(h, { how: 'kill' }))).then(() => undefined);
        }
      },
    });
    await dropping;
    expect(result.status?.state, JSON.stringify(result.status)).toBe('done');
    expect(result.passed).toBe(true);
    // Every link noticed the drop and came back to the same agent processes: nothing restarted.
    expect([...lost.keys()].sort()).toEqual(['dst1', 'dst2', 'src1', 'src2']);
    expect([...restored.keys()].sort()).toEqual(['dst1', 'dst2', 'src1', 'src2']);
    expect([...restored.values()].every((r) => !r.agentRestarted)).toBe(true);
    for (const [host, agent] of Object.entries(result.agents)) expect(agent.pid, host).toBe(pids[host] ?? agent.pid);
    expect(result.status?.resumes).toBe(0);
    expect(Object.values(result.reconnects).every((n) => n >= 1)).toBe(true);
    // Data kept arriving while the workstation had no connection at all.
    const firstLost = Math.min(...lost.values());
    const coordinatorBack = restored.get('dst1')?.bytesOnDest ?? 0;
    expect(bytesAtDrop).toBeGreaterThan(0);
    expect(coordinatorBack, `bytes at the drop ${bytesAtDrop}, when the coordinator link was back ${coordinatorBack}`).toBeGreaterThan(bytesAtDrop);
    // The first status after the reconnect is the coordinator's own count: the progress made meanwhile.
    const before = statuses.filter((st) => st.at <= firstLost).at(-1);
    const after = statuses.find((st) => st.at > firstLost);
    expect(before && after && after.bytesDone >= before.bytesDone && after.filesDone >= before.filesDone).toBe(true);
    const diffs = compareTrees(path.join(nasSrc, 'tree2'), dest);
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    console.log(`drop test: ${(dataBytes / MiB).toFixed(1)} MiB; on the destination ${bytesAtDrop} bytes at the drop, ${coordinatorBack} when the coordinator link was back; task bytes ${result.bytes.task.sent + result.bytes.task.received}`);
  }, 150_000);

  it('runs a plan whose hosts are reached through a jump host', async () => {
    // The agents deployed above are reused: the SSH path is what changes (workstation -> jump -> host).
    const dataBytes = await writeTree(path.join(nasSrc, 'tree3'), 300, 1, 4 * MiB);
    await fs.mkdir(path.join(nasDst, 'run3'));
    const plan = Plan.parse({
      version: 1,
      hosts: [labHost('jump'), labHost('src1', { jumpHost: 'jump' }), labHost('dst1', { jumpHost: 'jump' })],
      tunnels: [
        { name: 'old-nas', role: 'source', hosts: ['src1'] },
        { name: 'new-nas', role: 'destination', hosts: ['dst1'] },
      ],
      addresses: [
        { name: 'from', tunnel: 'old-nas', directory: '/mnt/src/tree3' },
        { name: 'to', tunnel: 'new-nas', directory: '/mnt/dst/run3' },
      ],
      tasks: [{ name: 'behind-jump', source: 'from', destination: 'to' }],
    });
    const logBefore = { src1: lab.host('src1').log().length, dst1: lab.host('dst1').log().length, jump: lab.host('jump').log().length };
    const result = await runRemoteTask({ plan, auth, hostKeys: { dataDir, userKnownHostsFile: null }, agentFiles });
    expect(result.passed, JSON.stringify(result.status)).toBe(true);
    const diffs = compareTrees(path.join(nasSrc, 'tree3'), path.join(nasDst, 'run3'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    // The hosts saw logins from the jump host's address, the jump host from this computer's.
    for (const h of ['src1', 'dst1'] as const) expect(lab.host(h).log().slice(logBefore[h])).toMatch(new RegExp(`Accepted publickey for root from ${lab.host('jump').address.replace(/\./g, '\\.')} `));
    expect(lab.host('jump').log().slice(logBefore.jump)).toMatch(/Accepted publickey for root from /);
    const task = result.bytes.task.sent + result.bytes.task.received;
    expect(task).toBeLessThan(dataBytes * 0.05);
    console.log(`jump test: ${(dataBytes / MiB).toFixed(1)} MiB, task bytes through the jump host ${task}`);
  }, 120_000);
});

describe('ferry plan check --hosts', () => {
  it('reports a missing directory, a read-only destination, a non-mount and different mounts, naming host and directory', async () => {
    await lab.host('src1').exec('mkdir -p /mnt/plain');
    const plan = Plan.parse({
      version: 1,
      hosts: [...['src1', 'src2', 'dst1', 'dst2', 'jump'].map((n) => labHost(n)), labHost('priv', { jumpHost: 'jump' })],
      tunnels: [
        { name: 'old-nas', role: 'source', hosts: ['src1', 'src2'] },
        { name: 'new-nas', role: 'destination', hosts: ['dst1', 'dst2'] },
        { name: 'private-side', role: 'source', hosts: ['priv'] },
      ],
      addresses: [
        { name: 'good-src', tunnel: 'old-nas', directory: '/mnt/src' },
        { name: 'good-dst', tunnel: 'new-nas', directory: '/mnt/dst' },
        { name: 'missing', tunnel: 'old-nas', directory: '/mnt/missing' },
        { name: 'read-only', tunnel: 'new-nas', directory: '/mnt/ro' },
        { name: 'plain', tunnel: 'old-nas', directory: '/mnt/plain', agents: ['src1'] },
        { name: 'odd', tunnel: 'old-nas', directory: '/mnt/odd' },
        { name: 'behind-jump', tunnel: 'private-side', directory: '/mnt/src' },
      ],
    });
    const file = path.join(work, 'check-plan.yaml');
    await fs.writeFile(file, planToYaml(plan));
    const json = await ferry(['plan', 'check', file, '--hosts', '--json', '--data-dir', dataDir]);
    expect(json.code, json.stderr).toBe(1);
    const out = JSON.parse(json.stdout) as { ok: boolean; findings: Array<{ severity: string; code: string; host: string; address?: string; directory?: string; message: string }> };
    const errors = out.findings.filter((f) => f.severity === 'error');
    const of = (address: string) => errors.filter((f) => f.address === address).map((f) => `${f.code} ${f.host}`).sort();
    expect(of('missing')).toEqual(['dir-missing src1', 'dir-missing src2']);
    expect(of('read-only')).toEqual(['read-only dst1', 'read-only dst2']);
    expect(of('plain')).toEqual(['not-a-mount src1']);
    expect(of('odd')).toEqual(['different-mounts src1, src2']);
    expect(of('good-src')).toEqual([]);
    expect(of('good-dst')).toEqual([]);
    // The private host was checked through the jump host.
    expect(of('behind-jump')).toEqual([]);
    expect(out.findings.some((f) => f.host === 'priv' && f.code === 'not-nfs' && f.directory === '/mnt/src')).toBe(true);
    // Prerequisites are visible warnings (the lab's hosts have this machine's cores and memory).
    expect(out.findings.some((f) => f.severity === 'warning' && f.code === 'not-nfs' && f.directory === '/mnt/src')).toBe(true);
    expect(out.findings.filter((f) => ['cpu-cores', 'memory', 'disk-free'].includes(f.code)).every((f) => f.severity === 'warning')).toBe(true);

    const text = await ferry(['plan', 'check', file, '--hosts', '--data-dir', dataDir]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/ERROR \[dir-missing\] src1 \/mnt\/missing \(data address "missing"\): \/mnt\/missing does not exist on src1\. Mount/);
    expect(text.stderr).toMatch(/ERROR \[read-only\] dst1 \/mnt\/ro .*read-only.*remount/);
    expect(text.stderr).toMatch(/ERROR \[not-a-mount\] src1 \/mnt\/plain .*is not a mount.*Mount it/);
    expect(text.stderr).toMatch(/Live checks found problems: 6 errors/);

    // The offline check stays the default: no SSH at all.
    const offline = await ferry(['plan', 'check', file]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/OK: 6 hosts/);
  }, 60_000);
});

describe('ferry migrate --plan', () => {
  it('refuses unknown host keys with their fingerprints, runs once they are accepted, reattaches after Ctrl-C, and refuses a changed key', async () => {
    await writeTree(path.join(nasSrc, 'tree4'), 100, 1, MiB);
    await fs.mkdir(path.join(nasDst, 'run4'));
    const fresh = path.join(work, 'fresh-data');
    const file = path.join(work, 'plan.yaml');
    await fs.writeFile(file, planToYaml(publicPlan({ name: 'cli', from: '/mnt/src/tree4', to: '/mnt/dst/run4', options: { bandwidth: { bytesPerSecond: 200 * 1024 } } })));

    const refused = await ferry(['migrate', '--plan', file, '--data-dir', fresh]);
    expect(refused.code).toBe(1);
    for (const h of ['src1', 'src2', 'dst1', 'dst2']) {
      expect(refused.stderr).toContain(`--accept-host-key ${h}=${lab.host(h).hostKeyFingerprint}`);
    }
    expect(refused.stderr).toMatch(/has not seen src1 before/);

    const accept = ['src1', 'src2', 'dst1', 'dst2'].flatMap((h) => ['--accept-host-key', `${h}=${lab.host(h).hostKeyFingerprint}`]);
    const reportFile = path.join(work, 'cli-report.json');
    // Ctrl-C once the task started: the CLI leaves, the task keeps running on the hosts.
    let interrupted = false;
    const first = await ferry(['migrate', '--plan', file, '--data-dir', fresh, '--json', ...accept], (out, child) => {
      if (!interrupted && out.includes('"event":"started"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    expect(first.code, first.stderr + first.stdout.slice(-2000)).toBe(130);
    expect(parseEvents(first.stdout).some((e) => e.event === 'interrupted')).toBe(true);
    // The same command again reattaches to the same task and sees it through.
    const run = await ferry(['migrate', '--plan', file, '--data-dir', fresh, '--json', '--report', reportFile]);
    expect(run.code, run.stderr + run.stdout.slice(-2000)).toBe(0);
    const events = parseEvents(run.stdout);
    const started = events.find((e) => e.event === 'started');
    expect(started).toMatchObject({ resumed: true, taskId: parseEvents(first.stdout).find((e) => e.event === 'started')?.taskId });
    const finished = events.find((e) => e.event === 'finished') as { passed: boolean; bytes: { task: { sent: number; received: number } } };
    expect(finished.passed).toBe(true);
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    expect(events.filter((e) => e.event === 'deployed').every((e) => e.alreadyInstalled === true)).toBe(true);
    expect(JSON.parse(await fs.readFile(reportFile, 'utf8'))).toMatchObject({ format: 'ferry-report', passed: true });
    expect(compareTrees(path.join(nasSrc, 'tree4'), path.join(nasDst, 'run4'))).toEqual([]);
    expect(await fs.readFile(path.join(fresh, 'known_hosts'), 'utf8')).toContain(lab.host('src1').address);

    // Accepted keys are remembered; a changed key is refused whatever is accepted.
    await lab.restartSshd('src2', { newHostKey: true });
    const changed = await ferry(['migrate', '--plan', file, '--data-dir', fresh, '--accept-host-key', `src2=${lab.host('src2').hostKeyFingerprint}`]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/src2: The host key of src2 has CHANGED/);
  }, 120_000);
});
