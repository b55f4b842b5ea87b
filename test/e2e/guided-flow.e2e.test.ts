// The whole guided flow in Debian's Chromium, from an EMPTY data directory, against the real
// `ferry console`, real sshd hosts of the lab and real agents: Plan (size and speed give the
// instances), Hosts (add both lab hosts, test the connection, accept the fingerprint, see the facts
// and the "NAS" mount: a tmpfs the test mounted, bound at the same path into each host), Tunnels,
// Mounts, Data addresses, Task, Run (watch the live progress and the throughput chart, pause and
// resume from the keyboard, reload mid-run and find the run again, the cancel confirmation), the
// verdict and its report in the Reports step, and the report's HTML export opened from disk
// (file://) with the network blocked: no request at all. Screenshots of each step go to
// docs/screenshots/tour-<n>-<step>.png for the README's guided tour. Nothing leaves 127.0.0.1 and
// the lab's 198.18.0.0/15; the console logs no error.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageWatch } from '../helpers/browser.ts';
import { compareTrees, formatDifferences } from '../helpers/compare-trees.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { expectLocalAndQuiet, openWatchedPage } from '../helpers/lab-browser.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { AddressesPage } from './pages/addresses-page.ts';
import { HostDetailPage } from './pages/host-detail-page.ts';
import { HostsPage } from './pages/hosts-page.ts';
import { MountsPage } from './pages/mounts-page.ts';
import { PlanPage } from './pages/plan-page.ts';
import { ReportsPage } from './pages/reports-page.ts';
import { RunsPage } from './pages/runs-page.ts';
import { ShellPage } from './pages/shell-page.ts';
import { TasksPage } from './pages/tasks-page.ts';
import { TunnelsPage } from './pages/tunnels-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = path.join(ROOT, 'docs/screenshots');
const MiB = 1024 * 1024;
const RUN_TIMEOUT_MS = 150_000;

let work: string;
let nasSrc: string;
let nasDst: string;
let lab: TestLab;
let fixture: ConsoleFixture;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let shell: ShellPage;
let runs: RunsPage;
let runId = '';
let reportId = '';
const mounted: string[] = [];

async function tour(n: number, step: string): Promise<void> {
  await fs.mkdir(DOCS, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(DOCS, `tour-${n}-${step}.png`), fullPage: true });
}

async function navStatus(step: string): Promise<string | null> {
  return shell.navLink(step).getAttribute('data-status');
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-tour-'));
  nasSrc = path.join(work, 'nas-src');
  nasDst = path.join(work, 'nas-dst');
  // Each "NAS" is a tmpfs, bound at the same path into every host of its side; its source names the
  // export of the Mounts step's spec, so "Check on hosts" finds the spec mounted (as tmpfs, not NFS).
  for (const [dir, source] of [
    [nasSrc, 'old-nas.lab:/export/projects'],
    [nasDst, 'new-nas.lab:/export/projects'],
  ] as const) {
    await fs.mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', source, dir]);
    mounted.push(dir);
  }
  const tree = path.join(nasSrc, 'projects');
  for (let d = 0; d < 8; d++) await fs.mkdir(path.join(tree, `team-${d}`), { recursive: true });
  await Promise.all(Array.from({ length: 240 }, (_, i) => fs.writeFile(path.join(tree, `team-${i % 8}`, `doc-${i}.bin`), randomBytes(500 + ((i * 7919) % 9000)))));
  for (let i = 0; i < 6; i++) await fs.writeFile(path.join(tree, `video-${i}.bin`), randomBytes(4 * MiB));
  await fs.mkdir(path.join(nasDst, 'projects'));
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: nasSrc, target: '/mnt/src' }] }, { name: 'dst1', binds: [{ source: nasDst, target: '/mnt/dst' }] }] });
  fixture = await startConsole();
  ({ browser, page, watch } = await openWatchedPage({ acceptDownloads: true }));
  shell = new ShellPage(page);
  runs = new RunsPage(page);
  await shell.open(fixture.url);
}, 180_000);

afterEach(() => expectLocalAndQuiet(watch));

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  await lab?.destroy();
  for (const dir of mounted) execFileSync('umount', ['-l', dir]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('the guided flow, from an empty data directory to a verified report', () => {
  it('Plan: the data size and the speed give the instances per tunnel', async () => {
    expect(await fs.readdir(fixture.dataDir)).not.toContain('runs.json');
    const plan = new PlanPage(page);
    await shell.goTo('plan');
    await plan.view.waitFor();
    await plan.fill({ size: 2, unit: 'TB', expected: 2 });
    await plan.instances.waitFor();
    expect(await plan.instances.textContent()).toBe('1 instance');
    expect(await navStatus('plan')).toBe('done');
    await tour(1, 'plan');
  });

  it('Hosts: adds the lab hosts, accepts their fingerprints after a test, and shows their facts and the NAS mount', async () => {
    const hosts = new HostsPage(page);
    await shell.goTo('hosts');
    await hosts.ready();
    for (const [name, mountPoint] of [
      ['src1', '/mnt/src'],
      ['dst1', '/mnt/dst'],
    ] as const) {
      await hosts.addHost({ name, address: lab.host(name).address, auth: 'key', keyFile: lab.clientKey.path });
      await hosts.hostRow(name).waitFor();
      const detail = new HostDetailPage(page, name);
      await detail.open();
      await detail.testButton.click();
      await detail.keyDialog.waitFor();
      expect(await detail.keyFingerprint.textContent()).toBe(lab.host(name).hostKeyFingerprint);
      await detail.acceptKey.click();
      await detail.keyDialog.waitFor({ state: 'detached' });
      await detail.facts.waitFor();
      expect(await detail.connectionState.getAttribute('data-state')).toBe('connected');
      expect(await detail.fact('os').textContent()).toContain('Linux');
      // The mount check: the NAS directory is a mount on the host (the tmpfs standing for it).
      const mount = detail.panel.locator(`[data-test=mount-row][data-mount-point="${mountPoint}"]`);
      await mount.waitFor();
      expect(await mount.textContent()).toContain('tmpfs');
    }
    await tour(2, 'hosts');
  });

  it('Tunnels: a source and a destination tunnel', async () => {
    const tunnels = new TunnelsPage(page);
    await shell.goTo('tunnels');
    await tunnels.view.waitFor();
    await tunnels.create({ name: 'old-nas', role: 'source', hosts: ['src1'] });
    await tunnels.row('old-nas').waitFor();
    await tunnels.create({ name: 'new-nas', role: 'destination', hosts: ['dst1'] });
    await tunnels.row('new-nas').waitFor();
    await expect.poll(() => navStatus('tunnels')).toBe('done');
    await tour(3, 'tunnels');
  });

  it('Mounts: the NFS mount of each tunnel, with its exact command', async () => {
    const mounts = new MountsPage(page);
    await shell.goTo('mounts');
    await mounts.view.waitFor();
    await mounts.fillMount({ nasType: 'general', tunnel: 'old-nas', server: 'old-nas.lab', export: '/export/projects', directory: '/mnt/src' });
    expect(await mounts.command.textContent()).toContain('old-nas.lab:/export/projects /mnt/src');
    await mounts.submit.click();
    await mounts.mountRow('old-nas', '/mnt/src').waitFor();
    await mounts.fillMount({ nasType: 'general', tunnel: 'new-nas', server: 'new-nas.lab', export: '/export/projects', directory: '/mnt/dst' });
    await mounts.submit.click();
    await mounts.mountRow('new-nas', '/mnt/dst').waitFor();
    await expect.poll(() => navStatus('mounts')).toBe('done');
    // Checked on the hosts over SSH: mounted with the spec's export, readable; a tmpfs is not NFS.
    // The form was cleared for the next spec without flagging the fields it emptied.
    expect(await mounts.fieldError('export').count()).toBe(0);
    await mounts.checkOnHosts('old-nas', '/mnt/src');
    const src1 = mounts.hostCheck('old-nas', '/mnt/src', 'src1');
    expect(await src1.locator('[data-test=host-matches]').getAttribute('data-value')).toBe('true');
    expect(await mounts.findingCodes(src1)).toEqual(['not-nfs']);
    await mounts.checkOnHosts('new-nas', '/mnt/dst');
    expect(await mounts.hostCheck('new-nas', '/mnt/dst', 'dst1').locator('[data-test=host-writable]').getAttribute('data-value')).toBe('true');
    await tour(4, 'mounts');
  });

  it('Data addresses: where the data lives on each side', async () => {
    const addresses = new AddressesPage(page);
    await shell.goTo('addresses');
    await addresses.view.waitFor();
    await addresses.fillAddress({ name: 'projects-old', tunnel: 'old-nas', directory: '/mnt/src/projects' });
    await addresses.submit.click();
    await addresses.row('projects-old').waitFor();
    await addresses.fillAddress({ name: 'projects-new', tunnel: 'new-nas', directory: '/mnt/dst/projects' });
    await addresses.submit.click();
    await addresses.row('projects-new').waitFor();
    await expect.poll(() => navStatus('addresses')).toBe('done');
    await tour(5, 'addresses');
  });

  it('Task: what to copy and how, with a bandwidth limit', async () => {
    const tasks = new TasksPage(page);
    await shell.goTo('tasks');
    await tasks.view.waitFor();
    await tasks.field('name').fill('projects');
    await tasks.field('source').selectOption('projects-old');
    await tasks.field('destination').selectOption('projects-new');
    await tasks.field('limited').selectOption('true');
    await tasks.field('limit').fill('4');
    await tasks.submit.click();
    await tasks.row('projects').waitFor();
    expect(await runs.runButton('projects').isEnabled()).toBe(true);
    await tour(6, 'task');
  });

  it('Run: starts from the Tasks step and shows live progress, the throughput chart and the connections; pauses and resumes; survives a reload', async () => {
    await runs.runButton('projects').click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/, { timeout: RUN_TIMEOUT_MS });
    runId = new URL(page.url()).hash.split('/')[2] ?? '';
    await runs.detail.waitFor();
    expect(await runs.detail.locator('[data-test=run-task-name]').textContent()).toBe('projects');
    await expect.poll(() => runs.figureValue('bytes'), { timeout: RUN_TIMEOUT_MS, interval: 250 }).toBeGreaterThan(0);
    expect(await runs.stateName()).toBe('running');
    await expect.poll(() => runs.chart.getAttribute('data-samples'), { timeout: 30_000 }).not.toBe('0');
    await expect.poll(async () => Number(await runs.chart.getAttribute('data-samples')), { timeout: 30_000 }).toBeGreaterThan(2);
    await expect.poll(() => runs.chartSeries.count()).toBe(3);
    expect(await runs.links.count()).toBe(2);
    expect(await runs.detail.locator('[data-test=run-link][data-host=dst1][data-state=ready]').count()).toBe(1);
    expect(await runs.agents.count()).toBe(2);
    expect(await runs.fraction()).toBeGreaterThan(0);
    expect(await runs.figure('rate').textContent()).toMatch(/\/s/);
    await tour(7, 'run');
    expect(await navStatus('runs')).toBe('todo');

    // Keyboard: Pause, then Resume.
    await runs.pause.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => runs.stateName()).toBe('paused');
    await runs.resume.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => runs.stateName()).toBe('running');

    // Cancel asks first (its confirm button takes the focus); Esc or "Keep running" changes nothing.
    await runs.cancel.click();
    await runs.cancelConfirm.waitFor();
    expect(await runs.cancelConfirm.textContent()).toContain('Cancel the run of projects?');
    expect(await page.evaluate<string | null>(`document.activeElement?.getAttribute('data-test') ?? null`)).toBe('run-cancel-yes');
    await page.keyboard.press('Escape');
    await runs.cancelConfirm.waitFor({ state: 'detached' });
    await runs.cancel.click();
    await runs.cancelConfirm.locator('[data-test=run-cancel-no]').click();
    await runs.cancelConfirm.waitFor({ state: 'detached' });
    expect(await runs.stateName()).not.toBe('cancelled');

    // A reload finds the run again (the store subscribes, then loads).
    await page.reload();
    await runs.detail.waitFor();
    expect(await runs.detail.getAttribute('data-run-id')).toBe(runId);
    await expect.poll(() => runs.stateName()).not.toBe('detached');
  });

  it('Run: ends verified, with a link to its report', async () => {
    await expect.poll(() => runs.stateName(), { timeout: RUN_TIMEOUT_MS, interval: 500 }).toBe('done');
    await runs.verdict.waitFor();
    expect(await runs.verdict.getAttribute('data-passed')).toBe('true');
    expect(await runs.verdict.textContent()).toContain('Verified: every file matches');
    expect(await runs.fraction()).toBe(1);
    // Each agent's total stays after the task ended: the destination wrote every byte of the copy.
    const dst = runs.detail.locator('[data-test=run-agent][data-host=dst1]');
    await expect.poll(async () => Number(await dst.getAttribute('data-bytes'))).toBe(await runs.figureValue('bytes'));
    expect(Number(await runs.detail.locator('[data-test=run-agent][data-host=src1]').getAttribute('data-bytes'))).toBe(await runs.figureValue('bytes'));
    const diffs = compareTrees(path.join(nasSrc, 'projects'), path.join(nasDst, 'projects'));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    await tour(8, 'run-done');
    await expect.poll(() => navStatus('runs')).toBe('done');
    // The same page in Chinese.
    await shell.localeSelect.selectOption('zh-CN');
    await expect.poll(() => shell.htmlLang()).toBe('zh-CN');
    expect(await runs.state.textContent()).toBe('已完成');
    expect(await runs.verdict.textContent()).toContain('校验通过');
    await fs.mkdir(path.join(ROOT, 'test-output/screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-output/screenshots/run-done-zh-CN.png'), fullPage: true });
    await shell.localeSelect.selectOption('en');
    await expect.poll(() => shell.htmlLang()).toBe('en');

    // The run list shows it done, with its verdict.
    await page.locator('[data-test=runs-back]').click();
    const row = page.locator(`[data-test=run-row][data-id="${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('done');
    expect(await page.locator('[data-test=runs-task][data-name=projects] [data-test=runs-task-state]').getAttribute('data-state')).toBe('done');
    await row.locator('[data-test=run-row-open]').click();
    await runs.reportLink.waitFor();
  });

  it('Report: the run’s report opens in the Reports step with the verdict passed', async () => {
    const reports = new ReportsPage(page);
    await runs.reportLink.click();
    await reports.reportView.waitFor();
    reportId = new URL(page.url()).hash.split('/')[2] ?? '';
    expect(reportId).not.toBe('');
    await reports.verdict.waitFor();
    expect(await reports.verdict.textContent()).toMatch(/pass/i);
    const stored = (await fixture.call('reports.list')).body.result as Array<{ id: string; passed: boolean; taskName: string }>;
    expect(stored.find((r) => r.id === reportId)).toMatchObject({ passed: true, taskName: 'projects' });
    await tour(9, 'report');
  });

  it('Report: its HTML export opens from disk with the network blocked and makes no request', async () => {
    const reports = new ReportsPage(page);
    const downloading = page.waitForEvent('download');
    await reports.exportButton('html').click();
    const download = await downloading;
    const file = path.join(work, 'report.html');
    await download.saveAs(file);
    await reports.exportDone.waitFor();

    const offline = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'light', locale: 'en-US' });
    const requests: string[] = [];
    await offline.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requests.push(url);
      return route.abort('blockedbyclient');
    });
    const viewer = await offline.newPage();
    const errors: string[] = [];
    viewer.on('request', (req) => {
      if (!req.url().startsWith('file://')) requests.push(req.url());
    });
    viewer.on('pageerror', (err) => errors.push(err.message));
    await viewer.goto(pathToFileURL(file).href);
    await viewer.locator('html[data-ready="true"]').waitFor();
    expect(await viewer.getByTestId('verdict').getAttribute('data-passed')).toBe('true');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await viewer.screenshot({ path: path.join(DOCS, 'tour-10-report-export.png'), fullPage: false });
    await offline.close();
  });
});
