// The guided setup end to end, from an empty data directory: Plan (the documented 200 TB
// examples), two hosts, source and destination tunnels, mount specs (the Extreme /share rule
// shown live, then fixed), data addresses, a task definition with options, the plan file
// (export, download, a broken import with its located problem), and a refused change with its
// reason. The real `ferry console`, the built renderer, Debian's Chromium; nothing may leave
// 127.0.0.1 and nothing may be logged as an error (except the HTTP status of a deliberate refusal).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, watchPage, type PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { AddressesPage } from './pages/addresses-page.ts';
import { HostsPage } from './pages/hosts-page.ts';
import { MountsPage } from './pages/mounts-page.ts';
import { PlanFilePage } from './pages/plan-file-page.ts';
import { PlanPage } from './pages/plan-page.ts';
import { ShellPage } from './pages/shell-page.ts';
import { TasksPage } from './pages/tasks-page.ts';
import { TunnelsPage } from './pages/tunnels-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
const DOCS = path.join(ROOT, 'docs/screenshots');
const OPTIONS = 'vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576';

let fixture: ConsoleFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let shell: ShellPage;
let allowedErrors: RegExp[] = [];

interface PlanState {
  tunnels: Array<{ name: string; role: string; hosts: string[] }>;
  mounts: Array<{ tunnel: string; nasType: string; server: string; export: string; directory: string }>;
  addresses: Array<{ name: string; tunnel: string; directory: string; agents?: string[] }>;
  tasks: Array<{ name: string; source: string; destination: string; options: Record<string, unknown>; repeatEveryHours: number | null }>;
}

async function planOnServer(): Promise<PlanState> {
  return (await fixture.call('plan.get')).body.result as PlanState;
}

/** Full-page screenshot from the top; `docs` also saves the light one as the documented screenshot. */
async function shot(name: string, docs?: string): Promise<void> {
  await fs.mkdir(SHOTS, { recursive: true });
  await page.mouse.move(0, 0);
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(SHOTS, `${name}-light.png`), fullPage: true });
  if (docs) {
    await fs.mkdir(DOCS, { recursive: true });
    await page.screenshot({ path: path.join(DOCS, docs), fullPage: true });
  }
  await setTheme('dark');
  await page.screenshot({ path: path.join(SHOTS, `${name}-dark.png`), fullPage: true });
  await setTheme('light');
}

// The locale and theme switches of the shell, waiting by polling from the test (a string
// predicate evaluated in the page can trip the console's CSP, which forbids eval).
async function setLocale(locale: 'en' | 'zh-CN'): Promise<void> {
  await shell.localeSelect.selectOption(locale);
  await expect.poll(() => shell.htmlLang()).toBe(locale);
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  await page.locator('label', { has: page.locator(`[data-test=theme-${theme}]`) }).click();
  await expect.poll(() => shell.htmlTheme()).toBe(theme);
}

async function navStatus(step: string): Promise<string | null> {
  return shell.navLink(step).getAttribute('data-status');
}

beforeAll(async () => {
  fixture = await startConsole();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  watch = await watchPage(page);
  shell = new ShellPage(page);
  await shell.open(fixture.url);
});

afterEach(() => {
  expect(watch.offsite, 'requests that left 127.0.0.1').toEqual([]);
  expect(watch.unexpectedErrors(allowedErrors), 'console errors').toEqual([]);
  watch.errors.length = 0;
  allowedErrors = [];
});

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
});

describe('guided setup', () => {
  it('starts from an empty plan with every step still to do', async () => {
    expect(await planOnServer()).toEqual({ tunnels: [], mounts: [], addresses: [], tasks: [] });
    await expect.poll(() => navStatus('tunnels')).toBe('todo');
    for (const step of ['plan', 'hosts', 'mounts', 'addresses', 'tasks']) expect(await navStatus(step), step).toBe('todo');
    // No step is "coming soon"; the plan file and reports steps have no progress of their own.
    expect(await shell.navLink('reports').textContent()).not.toContain('Soon');
    expect(await navStatus('plan-file')).toBeNull();
    expect(await navStatus('reports')).toBeNull();
  });

  it('Plan: 200 TB at 2 Gbit/s is 1 instance and about 9.3 days; at 5 Gbit/s 2 instances and about 3.7 days', async () => {
    const plan = new PlanPage(page);
    await shell.goTo('plan');
    await plan.view.waitFor();
    expect(await plan.incomplete.textContent()).toContain('Enter the data size');
    expect(await plan.instance.inputValue()).toBe('3');
    expect(await plan.unit.inputValue()).toBe('TB');
    expect(await plan.view.textContent()).toContain('decimal (1 TB = 10¹² bytes');

    await plan.fill({ size: 200, expected: 2 });
    await plan.instances.waitFor();
    expect(await plan.instances.textContent()).toBe('1 instance');
    expect(await plan.explanation.textContent()).toBe('2 Gbit/s ÷ 3 Gbit/s per instance → 1 instance per tunnel');
    expect(await plan.eta.textContent()).toBe('≈9.3 days');
    expect(await plan.etaParts.textContent()).toBe('9 days 6 hours');
    expect(await plan.etaExplanation.textContent()).toBe('200 TB × 8 bits ÷ 2 Gbit/s = 800,000 s');

    await plan.fill({ expected: 5 });
    await expect.poll(() => plan.instances.textContent()).toBe('2 instances');
    expect(await plan.explanation.textContent()).toBe('5 Gbit/s ÷ 3 Gbit/s per instance = 1.67, rounded up → 2 instances per tunnel');
    expect(await plan.eta.textContent()).toBe('≈3.7 days');
    expect(await plan.etaParts.textContent()).toBe('3 days 17 hours');
    expect(await navStatus('plan')).toBe('done');

    // Binary units and "scan later".
    await plan.fill({ unit: 'TiB' });
    await expect.poll(() => plan.eta.getAttribute('data-seconds')).toBe(String((200 * 2 ** 40 * 8) / 5e9));
    await plan.scanLater.check();
    expect(await plan.eta.textContent()).toBe('After the scan');
    expect(await plan.instances.textContent()).toBe('2 instances');
    await plan.scanLater.uncheck();
    await plan.fill({ unit: 'TB' });
    // A bad speed says what to fix.
    await plan.fill({ instance: 0 });
    await page.locator('[data-test=plan-error-instanceGbps]').waitFor();
    expect(await page.locator('[data-test=plan-error-instanceGbps]').textContent()).toBe('Enter a number above 0.');
    await plan.fill({ instance: 3 });
    await expect.poll(() => plan.eta.textContent()).toBe('≈3.7 days');

    // Operator notes survive a reload (this browser's storage, not the plan).
    await page.reload();
    await plan.instances.waitFor();
    expect(await plan.dataSize.inputValue()).toBe('200');
    expect(await plan.expected.inputValue()).toBe('5');
    expect(await plan.instances.textContent()).toBe('2 instances');

    await shot('plan', 'plan.png');
    await setLocale('zh-CN');
    expect(await plan.instances.textContent()).toBe('2 个实例');
    expect(await plan.eta.textContent()).toBe('约 3.7天');
    await page.screenshot({ path: path.join(SHOTS, 'plan-light-zh-CN.png'), fullPage: true });
    await setLocale('en');
  });

  it('Hosts: adds the two hosts of the migration', async () => {
    const hosts = new HostsPage(page);
    await shell.goTo('hosts');
    await hosts.ready();
    await hosts.addHost({ name: 'mover-src', address: '198.18.0.11' });
    await hosts.hostRow('mover-src').waitFor();
    await hosts.addHost({ name: 'mover-dst', address: '198.18.0.12' });
    await hosts.hostRow('mover-dst').waitFor();
    // Two hosts for two tunnels of 2 planned instances each: not enough yet.
    await expect.poll(() => navStatus('hosts')).toBe('attention');
    expect(await shell.navLink('hosts').getAttribute('title')).toContain('Fewer hosts than the plan needs');
  });

  it('Tunnels: creates a source and a destination tunnel, and warns about fewer hosts than planned', async () => {
    const tunnels = new TunnelsPage(page);
    await shell.goTo('tunnels');
    await tunnels.empty.waitFor();

    // A tunnel without hosts: the schema's own message, on the field.
    await tunnels.field('name').fill('src-hz');
    await tunnels.submit.click();
    await tunnels.fieldError('hosts').waitFor();
    expect(await tunnels.fieldError('hosts').textContent()).toBe('A tunnel needs at least one host.');
    expect((await planOnServer()).tunnels).toEqual([]);

    await tunnels.hostOption('mover-src').check();
    await expect.poll(() => tunnels.fieldError('hosts').count()).toBe(0);
    await tunnels.submit.click();
    await tunnels.row('src-hz').waitFor();
    expect(await tunnels.formDone.textContent()).toContain('Saved src-hz');
    await tunnels.create({ name: 'dst-sh', role: 'destination', hosts: ['mover-dst'] });
    await tunnels.row('dst-sh').waitFor();

    expect(await tunnels.row('src-hz').getAttribute('data-role')).toBe('source');
    expect(await tunnels.row('dst-sh').getAttribute('data-role')).toBe('destination');
    expect(await tunnels.row('dst-sh').textContent()).toContain('Destination');
    // 1 host against 2 planned instances per tunnel.
    expect(await tunnels.hostCheck('src-hz').textContent()).toContain('1 / 2');
    expect(await tunnels.row('src-hz').getAttribute('data-check')).toBe('fewer');
    expect(await tunnels.fewerNotice.textContent()).toContain('The plan needs 2 instances per tunnel');
    expect(await navStatus('tunnels')).toBe('attention');
    expect((await planOnServer()).tunnels).toEqual([
      { name: 'src-hz', role: 'source', hosts: ['mover-src'] },
      { name: 'dst-sh', role: 'destination', hosts: ['mover-dst'] },
    ]);

    // A duplicate name is caught before it could replace the other tunnel.
    await tunnels.field('name').fill('src-hz');
    await tunnels.field('name').blur();
    await tunnels.fieldError('name').waitFor();
    expect(await tunnels.fieldError('name').textContent()).toContain('already used');
    await tunnels.field('name').fill('');
    await shot('tunnels', 'tunnels.png');

    // Revisiting Plan: at 2 Gbit/s one instance per tunnel is enough, and the warning goes.
    await shell.goTo('plan');
    await new PlanPage(page).fill({ expected: 2 });
    await shell.goTo('tunnels');
    await expect.poll(() => tunnels.row('src-hz').getAttribute('data-check')).toBe('ok');
    expect(await tunnels.fewerNotice.count()).toBe(0);
    expect(await navStatus('tunnels')).toBe('done');
    expect(await navStatus('hosts')).toBe('done');
  });

  it('Mounts: shows the Extreme /share rule while typing, the exact command, and saves the specs', async () => {
    const mounts = new MountsPage(page);
    await shell.goTo('mounts');
    await mounts.view.waitFor();
    expect(await navStatus('mounts')).toBe('todo');
    expect(await mounts.mountOnHostsNote.textContent()).toContain('Save the mount spec, then check it on the hosts of its tunnel');
    // Checking and mounting on the hosts is per saved spec (test/e2e/mounts-ssh.e2e.test.ts): no spec, no action yet.
    expect(await page.locator('[data-test=check-on-hosts], [data-test=mount-on-hosts]').count()).toBe(0);
    expect(await mounts.options.count()).toBe(6);
    expect(await mounts.options.first().textContent()).toContain('vers=3');
    expect(await mounts.options.nth(1).textContent()).toContain('never soft');

    await mounts.fillMount({ nasType: 'extreme', tunnel: 'dst-sh', server: 'extreme-nas.example.com', export: '/data', directory: '/mnt/dst' });
    // Live, before any submit: the contract's own message.
    await mounts.fieldError('export').waitFor();
    expect(await mounts.fieldError('export').textContent()).toBe('Extreme NAS exports start with /share (for example /share or /share/data).');
    expect(await mounts.field('export').getAttribute('aria-invalid')).toBe('true');
    // General-purpose NAS exports have no such rule.
    await mounts.field('nasType-general').check();
    await expect.poll(() => mounts.fieldError('export').count()).toBe(0);
    await mounts.field('nasType-extreme').check();
    await mounts.fieldError('export').waitFor();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SHOTS, 'mounts-extreme-error.png'), fullPage: true });
    // Submitting anyway changes nothing.
    await mounts.submit.click();
    expect((await planOnServer()).mounts).toEqual([]);

    await mounts.field('export').fill('/share/data');
    await expect.poll(() => mounts.fieldError('export').count()).toBe(0);
    expect(await mounts.command.textContent()).toBe(`mount -t nfs -o ${OPTIONS} extreme-nas.example.com:/share/data /mnt/dst`);
    await mounts.submit.click();
    await mounts.mountRow('dst-sh', '/mnt/dst').waitFor();

    await mounts.fillMount({ nasType: 'general', tunnel: 'src-hz', server: 'old-nas.example.com', export: '/export/projects', directory: '/mnt/src' });
    expect(await mounts.command.textContent()).toBe(`mount -t nfs -o ${OPTIONS} old-nas.example.com:/export/projects /mnt/src`);
    await mounts.submit.click();
    await mounts.mountRow('src-hz', '/mnt/src').waitFor();
    expect(await mounts.mountRow('dst-sh', '/mnt/dst').textContent()).toContain('Extreme');
    expect(await mounts.checkButton('src-hz', '/mnt/src').isEnabled()).toBe(true);
    expect(await mounts.mountButton('src-hz', '/mnt/src').isEnabled()).toBe(true);
    expect((await planOnServer()).mounts).toEqual([
      { tunnel: 'dst-sh', nasType: 'extreme', server: 'extreme-nas.example.com', export: '/share/data', directory: '/mnt/dst' },
      { tunnel: 'src-hz', nasType: 'general', server: 'old-nas.example.com', export: '/export/projects', directory: '/mnt/src' },
    ]);
    await expect.poll(() => navStatus('mounts')).toBe('done');

    // Editing loads the spec and its command back into the form.
    await mounts.edit(mounts.mountRow('dst-sh', '/mnt/dst'));
    expect(await mounts.field('export').inputValue()).toBe('/share/data');
    expect(await mounts.command.textContent()).toBe(`mount -t nfs -o ${OPTIONS} extreme-nas.example.com:/share/data /mnt/dst`);
    await shot('mounts', 'mounts.png');
    await mounts.form.locator('[data-test=cancel-edit]').click();
  });

  it('Data addresses: shows schema errors per field, defaults the agents to the whole tunnel, and lists them', async () => {
    const addresses = new AddressesPage(page);
    await shell.goTo('addresses');
    await addresses.view.waitFor();

    await addresses.fillAddress({ name: 'src-projects', tunnel: 'src-hz', directory: 'mnt/src/projects' });
    expect(await addresses.agentsSummary.textContent()).toContain('All 1 host');
    expect(await addresses.agentOption('mover-src').isChecked()).toBe(true);
    await addresses.submit.click();
    await addresses.fieldError('directory').waitFor();
    expect(await addresses.fieldError('directory').textContent()).toBe('Use an absolute path, such as /mnt/nas.');
    expect((await planOnServer()).addresses).toEqual([]);

    // The tunnel's planned mount is offered as the directory.
    await addresses.form.locator('[data-test=directory-suggestion]', { hasText: '/mnt/src' }).click();
    await addresses.field('directory').fill('/mnt/src/projects');
    await expect.poll(() => addresses.fieldError('directory').count()).toBe(0);
    await addresses.submit.click();
    await addresses.row('src-projects').waitFor();

    await addresses.fillAddress({ name: 'dst-projects', tunnel: 'dst-sh', directory: '/mnt/dst/projects' });
    await addresses.submit.click();
    await addresses.row('dst-projects').waitFor();
    expect(await addresses.row('src-projects').textContent()).toContain('/mnt/src/projects');
    expect(await addresses.row('dst-projects').locator('[data-test=address-agents]').textContent()).toBe('All 1 host');
    expect((await planOnServer()).addresses).toEqual([
      { name: 'src-projects', tunnel: 'src-hz', directory: '/mnt/src/projects' },
      { name: 'dst-projects', tunnel: 'dst-sh', directory: '/mnt/dst/projects' },
    ]);
    await expect.poll(() => navStatus('addresses')).toBe('done');
    await shot('addresses', 'addresses.png');
  });

  it('Tasks: defines a task with options, offering only addresses of the right side', async () => {
    const tasks = new TasksPage(page);
    await shell.goTo('tasks');
    await tasks.view.waitFor();
    const sourceOptions = await tasks.field('source').locator('option:not([disabled])').allTextContents();
    const destinationOptions = await tasks.field('destination').locator('option:not([disabled])').allTextContents();
    expect(sourceOptions).toEqual(['src-projects — src-hz:/mnt/src/projects']);
    expect(destinationOptions).toEqual(['dst-projects — dst-sh:/mnt/dst/projects']);

    await tasks.field('name').fill('projects-sync');
    await tasks.field('source').selectOption('src-projects');
    await tasks.field('destination').selectOption('dst-projects');
    await tasks.field('mode-incremental').check();
    await tasks.field('checksum').check();
    await tasks.field('overwrite').selectOption('if-newer');
    await tasks.addChips('include', ['projects/**']);
    await tasks.addChips('exclude', ['*.tmp', '.snapshot/**']);
    expect(await tasks.chips('exclude').allTextContents()).toEqual(['*.tmp', '.snapshot/**'].map((c) => expect.stringContaining(c)));
    await tasks.field('newerThan').fill('2024-01-01');
    await tasks.field('verify-full').check();
    await tasks.field('concurrency-auto').uncheck();
    await tasks.field('concurrency').fill('16');
    await tasks.field('rangeSize-auto').uncheck();
    await tasks.field('rangeSize').fill('0');
    await tasks.submit.click();
    await tasks.fieldError('options.rangeSize').waitFor();
    expect(await tasks.fieldError('options.rangeSize').textContent()).toBe('At least 1 MiB.');
    await tasks.field('rangeSize').fill('512');
    await tasks.field('limited').selectOption('true');
    await tasks.field('limit').fill('200');
    await tasks.addWindow.click();
    await tasks.field('repeat').check();
    await tasks.field('repeatEveryHours').fill('24');
    await tasks.field('mirror').check();
    await tasks.mirrorWarning.waitFor();
    expect(await tasks.mirrorWarning.textContent()).toContain('Deletes files and directories on the destination that are not on the source');

    await tasks.submit.click();
    await tasks.row('projects-sync').waitFor();
    const facts = await tasks.facts('projects-sync').allTextContents();
    expect(facts).toEqual(['Incremental', 'Verify all', 'Checksum', 'Mirror deletes', '200 MB/s, 1 window', '+1 / −2 patterns', 'Date filter', 'Every 24 h']);
    const [task] = (await planOnServer()).tasks;
    expect(task).toEqual({
      name: 'projects-sync',
      source: 'src-projects',
      destination: 'dst-projects',
      options: {
        mode: 'incremental',
        checksum: true,
        overwrite: 'if-newer',
        include: ['projects/**'],
        exclude: ['*.tmp', '.snapshot/**'],
        newerThan: '2024-01-01T00:00:00Z',
        olderThan: null,
        mirror: true,
        bandwidth: { bytesPerSecond: 200_000_000, windows: [{ from: '09:00', to: '18:00' }] },
        verify: 'full',
        concurrency: 16,
        rangeSize: 512 * 1024 * 1024,
        dryRun: false,
      },
      repeatEveryHours: 24,
    });
    await expect.poll(() => navStatus('tasks')).toBe('done');

    // Editing brings every option back, in Mbit/s if asked.
    await tasks.edit(tasks.row('projects-sync'));
    expect(await tasks.field('limit').inputValue()).toBe('200');
    expect(await tasks.chips('include').count()).toBe(1);
    expect(await tasks.field('newerThan').inputValue()).toBe('2024-01-01');
    await shot('task', 'task.png');
    await tasks.form.locator('[data-test=cancel-edit]').click();
  });

  it('Plan file: exports the YAML (shown and downloadable), and refuses a broken file with the line of each problem', async () => {
    const file = new PlanFilePage(page);
    await shell.goTo('plan-file');
    await file.yaml.waitFor();
    const yaml = await file.yamlText();
    for (const expected of [
      'version: 1',
      '- name: mover-src',
      'address: 198.18.0.11',
      '- name: src-hz',
      'role: destination',
      'nasType: extreme',
      'export: /share/data',
      'directory: /mnt/dst/projects',
      '- name: projects-sync',
      'bytesPerSecond: 200000000',
      'repeatEveryHours: 24',
    ]) {
      expect(yaml, expected).toContain(expected);
    }
    expect(yaml).toBe(((await fixture.call('plan.exportYaml')).body.result as { yaml: string }).yaml.replace(/\n$/, ''));

    // The download is a Blob of the same text: nothing is fetched.
    expect(await file.download.getAttribute('href')).toMatch(/^blob:http:\/\/127\.0\.0\.1:/);
    const [download] = await Promise.all([page.waitForEvent('download'), file.download.click()]);
    expect(download.suggestedFilename()).toBe('ferry-plan.yaml');
    const saved = await fs.readFile((await download.path()) as string, 'utf8');
    expect(saved.replace(/\n$/, '')).toBe(yaml);

    // A broken file: each problem with its line; the plan is unchanged.
    allowedErrors = [/status of 400/];
    const before = await planOnServer();
    await file.importText.fill(['version: 1', 'tunnels:', '  - name: t1', '    role: sideways', '    hosts: [mover-src]', ''].join('\n'));
    await file.importSubmit.click();
    await file.importProblems.waitFor();
    expect(await file.importProblems.textContent()).toContain('The file was not imported: 1 problem');
    expect(await file.importProblem.first().getAttribute('data-line')).toBe('4');
    expect(await file.importProblem.first().textContent()).toMatch(/^line 4:\s*tunnels\.0\.role:/);
    await page.screenshot({ path: path.join(SHOTS, 'plan-file-problems.png'), fullPage: true });

    // A reference to a host that does not exist, picked as a file.
    await file.importFile.setInputFiles({
      name: 'other.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from(['version: 1', 'tunnels:', '  - name: t1', '    role: source', '    hosts: [ghost]', ''].join('\n')),
    });
    await expect.poll(() => file.importText.inputValue()).toContain('ghost');
    await file.importSubmit.click();
    await expect.poll(() => file.importProblem.first().textContent()).toContain('No host named "ghost"');
    expect(await file.importProblem.first().getAttribute('data-line')).toBe('5');
    expect(await planOnServer()).toEqual(before);

    // The exported file imports cleanly (same hosts updated by name, same plan).
    await file.importText.fill(`${yaml}\n`);
    await file.importSubmit.click();
    await file.importDone.waitFor();
    expect(await file.importDone.textContent()).toBe('Imported: 0 hosts added, 2 updated; 2 tunnels, 2 data addresses, 1 task.');
    expect(await planOnServer()).toEqual(before);
  });

  it('shows why Ferry refuses to delete a tunnel that is still in use', async () => {
    allowedErrors = [/status of 409/];
    const tunnels = new TunnelsPage(page);
    await shell.goTo('tunnels');
    await tunnels.row('src-hz').waitFor();
    await tunnels.remove(tunnels.row('src-hz'));
    await tunnels.listProblem.waitFor();
    const text = await tunnels.listProblem.textContent();
    expect(text).toContain('Ferry refused the change: it would leave the plan inconsistent.');
    expect(text).toContain('Data address “src-projects”: No tunnel named "src-hz".');
    expect(text).toContain('Mount “src-hz:/mnt/src”: No tunnel named "src-hz".');
    expect(await tunnels.rows.count()).toBe(2);
    expect((await planOnServer()).tunnels.map((t) => t.name)).toEqual(['src-hz', 'dst-sh']);

    // The same refusal, in Chinese.
    await setLocale('zh-CN');
    expect(await tunnels.listProblem.textContent()).toContain('数据地址“src-projects”: 没有名为“src-hz”的隧道。');
    await setLocale('en');

    // A task depends on the addresses; removing it first is allowed.
    const tasks = new TasksPage(page);
    await shell.goTo('tasks');
    await tasks.remove(tasks.row('projects-sync'));
    await expect.poll(() => tasks.rows.count()).toBe(0);
    expect(await tasks.listDone.textContent()).toContain('Removed projects-sync');
    expect(await navStatus('tasks')).toBe('todo');
  });

  it('is usable from the keyboard: Enter submits a form, and the steps link on to the next one', async () => {
    const tunnels = new TunnelsPage(page);
    await shell.goTo('tunnels');
    await tunnels.field('name').focus();
    await page.keyboard.type('src-extra');
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown'); // role: destination
    await tunnels.hostOption('mover-dst').focus();
    await page.keyboard.press('Space');
    await tunnels.field('name').focus();
    await page.keyboard.press('Enter');
    await tunnels.row('src-extra').waitFor();
    expect(await tunnels.row('src-extra').getAttribute('data-role')).toBe('destination');
    await tunnels.remove(tunnels.row('src-extra'));
    await expect.poll(() => tunnels.row('src-extra').count()).toBe(0);

    await tunnels.nextStep.click();
    await new MountsPage(page).view.waitFor();
    expect(page.url()).toMatch(/#\/mounts$/);
  });
});
