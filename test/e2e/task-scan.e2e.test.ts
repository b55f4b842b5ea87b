// The Task step's source scan, end to end: the real `ferry console` process, Debian's Chromium and
// sshd hosts of the test lab. A task whose source holds a directory of 200,001 entries is scanned
// from its row: the panel shows the running state, then the counts, the histogram, the huge
// directory with its warning and the estimate; the scan is still shown after a reload, and in
// Chinese with the locale's number format. Nothing leaves 127.0.0.1 and the lab's 198.18.0.0/15.
import { promises as fs, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { consoleApiOf, expectLocalAndQuiet, openWatchedPage } from '../helpers/lab-browser.ts';
import { removeTree } from '../helpers/make-tree.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { ScanPanelPage } from './pages/scan-panel-page.ts';
import { ShellPage } from './pages/shell-page.ts';
import { TasksPage } from './pages/tasks-page.ts';

const SHOTS = path.resolve('test-output/screenshots');
const HUGE = 200_001;
const SCAN_TIMEOUT_MS = 60_000;

let lab: TestLab;
let fixture: ConsoleFixture;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let nas: string;

const api = consoleApiOf(() => fixture);

/** Adds the host and trusts the key it presents (the Hosts step's test has its own e2e). */
async function addTrusted(name: string): Promise<void> {
  const host = (await api('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } })) as { id: string };
  const tested = (await api('hosts.test', { id: host.id })) as { ok: boolean; failure?: { code: string; hostKey: { fingerprint: string } } };
  if (tested.ok) return;
  expect(tested.failure?.code).toBe('host-key-unknown');
  expect(tested.failure?.hostKey.fingerprint).toBe(lab.host(name).hostKeyFingerprint);
  expect(((await api('hosts.trustKey', { id: host.id, fingerprint: tested.failure?.hostKey.fingerprint })) as { ok: boolean }).ok).toBe(true);
}

beforeAll(async () => {
  // tmpfs when possible: 200,001 entries are made in a couple of seconds there.
  const base = await fs.access('/dev/shm', fs.constants.W_OK).then(
    () => '/dev/shm',
    () => os.tmpdir(),
  );
  nas = await fs.mkdtemp(path.join(base, 'ferry-e2e-scan-'));
  const huge = path.join(nas, 'tree', 'mail', 'spool');
  await fs.mkdir(huge, { recursive: true });
  for (let i = 0; i < HUGE; i++) symlinkSync('x', path.join(huge, `m${i}`));
  await fs.mkdir(path.join(nas, 'tree', 'docs'));
  for (let i = 0; i < 5; i++) await fs.writeFile(path.join(nas, 'tree', 'docs', `d${i}.txt`), Buffer.alloc(10_000 * (i + 1)));
  await fs.mkdir(path.join(nas, 'dst'));
  lab = await createTestLab({ hosts: [{ name: 'src1', binds: [{ source: path.join(nas, 'tree'), target: '/mnt/old' }] }, { name: 'dst1', binds: [{ source: path.join(nas, 'dst'), target: '/mnt/new' }] }] });
  fixture = await startConsole();
  await addTrusted('src1');
  await addTrusted('dst1');
  await api('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['src1'] } });
  await api('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['dst1'] } });
  await api('addresses.save', { address: { name: 'mail-old', tunnel: 'old-nas', directory: '/mnt/old' } });
  await api('addresses.save', { address: { name: 'mail-new', tunnel: 'new-nas', directory: '/mnt/new' } });
  await api('taskDefs.save', { task: { name: 'mail', source: 'mail-old', destination: 'mail-new' } });
  ({ browser, page, watch } = await openWatchedPage());
  await new ShellPage(page).open(fixture.url);
}, 120_000);

afterEach(() => expectLocalAndQuiet(watch));

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  await lab?.destroy();
  if (nas) removeTree(nas);
});

describe('the Task step scans a task source', () => {
  it('shows the counts, the huge directory with its warning, and the estimate', async () => {
    const shell = new ShellPage(page);
    const tasks = new TasksPage(page);
    const scan = new ScanPanelPage(page);
    await shell.goTo('tasks');
    await tasks.row('mail').waitFor();
    expect(await scan.panel.count()).toBe(0);

    await scan.scanButton('mail').click();
    await scan.panel.waitFor();
    // Running until the agent (deployed by the scan) has listed the tree.
    expect(await scan.panel.getAttribute('data-state')).toBe('running');
    await scan.results.waitFor({ timeout: SCAN_TIMEOUT_MS });
    expect(await scan.panel.getAttribute('data-state')).toBe('done');
    expect(await scan.entries.textContent()).toBe((HUGE + 5 + 3).toLocaleString('en-US'));
    expect(await scan.files.textContent()).toBe('5');
    expect(await scan.dirs.textContent()).toBe('3');
    expect(await scan.depth.textContent()).toBe('3');
    expect(await scan.bytes.textContent()).toBe('146.5 KiB');
    expect(await scan.buckets.count()).toBe(1);
    expect(await scan.hugeDirs.getAttribute('data-path')).toBe('mail/spool');
    expect(await scan.hugeDirs.textContent()).toContain('200,001 entries');
    const warning = scan.warning('huge-directory');
    expect(await warning.textContent()).toMatch(/“mail\/spool” holds 200,001 entries\. It lists slowly over NFS/);
    // 200,009 entries at 4,000 per second on one instance: the entry count dominates.
    expect(await scan.estimate.getAttribute('data-bound')).toBe('entries');
    expect(await scan.bound.textContent()).toContain('number of entries');
    expect(await scan.duration.textContent()).toBe('Under a minute');
    expect(await scan.estimate.textContent()).toContain('Entries ÷ 4,000 entries/s per instance: under a minute');
    expect(await scan.panel.locator('[data-test=scan-where]').textContent()).toBe('/mnt/old on src1');
    await fs.mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'task-scan.png'), fullPage: true });
  }, 90_000);

  it('shows the last scan again after a reload, and in Chinese with its number format', async () => {
    const shell = new ShellPage(page);
    const scan = new ScanPanelPage(page);
    await page.reload();
    await shell.goTo('tasks');
    await scan.results.waitFor();
    expect(await scan.hugeDirs.getAttribute('data-path')).toBe('mail/spool');
    await shell.setLocale('zh-CN');
    await expect.poll(() => scan.panel.locator('h2').textContent()).toBe('mail 的源数据扫描');
    expect(await scan.warning('huge-directory').textContent()).toContain('包含 200,001 个条目');
    expect(await scan.scanButton('mail').textContent()).toContain('扫描源数据');
    await shell.setLocale('en');
  });
});
