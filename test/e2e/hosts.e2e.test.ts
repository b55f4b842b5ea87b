// The Hosts screen end to end: the real `ferry console` process, the built renderer, Debian's
// Chromium. Checks live facts against this machine, mounts, language and theme switches
// (persisted by Ferry), the host inventory (add, field errors, conflict, remove, live events,
// reload after a dropped event socket), and that nothing leaves 127.0.0.1 or logs an error.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toMountEntry } from '../../agent/probe/host-facts.ts';
import { CONSOLE_PROTOCOL_VERSION } from '../../electron/contract/console.ts';
import { launchBrowser, watchPage, type PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { HostsPage } from './pages/hosts-page.ts';
import { ShellPage } from './pages/shell-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
const DOCS_SHOT = path.join(ROOT, 'docs/screenshots/hosts.png');
const GIB = 1024 ** 3;
const RECOMMENDED_COMMAND = 'mount -t nfs -o vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576 NAS:/export /mnt/nas';

let fixture: ConsoleFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let shell: ShellPage;
let hosts: HostsPage;
/** Console errors a test provokes on purpose (e.g. the browser logging an HTTP 409). */
let allowedErrors: RegExp[] = [];

function gib(bytes: number, locale: string): string {
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / GIB)} GiB`;
}

/** Full-page screenshot from the top (sticky header and navigation would otherwise be drawn mid-page). */
async function shot(name: string, target = path.join(SHOTS, `${name}.png`), p: Page = page): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  await p.evaluate('window.scrollTo(0, 0)');
  await p.screenshot({ path: target, fullPage: true });
}

async function settingsOnServer(): Promise<unknown> {
  return (await fixture.call('settings.get')).body.result;
}

beforeAll(async () => {
  fixture = await startConsole();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', locale: 'en-US' });
  page = await context.newPage();
  watch = await watchPage(page);
  shell = new ShellPage(page);
  hosts = new HostsPage(page);
  await shell.open(fixture.url);
  await hosts.ready();
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

describe('Hosts screen', () => {
  it('opens with the token, then hides it from the address bar', async () => {
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate<string | null>(`sessionStorage.getItem('ferry.console.token')`)).toBe(fixture.token);
    expect(await shell.connectionState()).toBe('online');
    expect(await shell.version.textContent()).toMatch(/^v\d+\.\d+\.\d+/);
    expect(await shell.navLink('hosts').getAttribute('aria-current')).toBe('page');
  });

  it('shows "This computer" with the facts Node reports for this machine', async () => {
    expect(await hosts.thisComputer.locator('h2').textContent()).toBe('This computer');
    expect(await hosts.fact('hostname').textContent()).toBe(os.hostname());
    expect(await hosts.fact('os').textContent()).toContain(os.type());
    expect(await hosts.fact('os').textContent()).toContain(os.release());
    expect(await hosts.fact('arch').textContent()).toBe(process.arch);
    const cores = os.cpus().length;
    expect(await hosts.fact('cores').getAttribute('data-value')).toBe(String(cores));
    expect(await hosts.fact('cores').textContent()).toBe(`${cores} cores`);
    expect((await hosts.fact('cpu-model').textContent())?.trim()).toBe(os.cpus()[0]?.model.trim());
    expect(await hosts.fact('memory').getAttribute('data-value')).toBe(String(os.totalmem()));
    expect(await hosts.fact('memory').textContent()).toBe(gib(os.totalmem(), 'en'));
    expect(await hosts.fact('disk').textContent()).toMatch(/^[\d.,]+ [KMGTP]iB free of [\d.,]+ [KMGTP]iB$/);
    const root = process.getuid?.() === 0;
    expect(await hosts.fact('root').textContent()).toBe(root ? 'Yes' : 'No');

    // Prerequisites: pass or warn exactly as this machine measures up, each with its message.
    expect(await hosts.prerequisite('cpu-cores').getAttribute('data-ok')).toBe(String(cores >= 4));
    expect(await hosts.prerequisite('memory').getAttribute('data-ok')).toBe(String(os.totalmem() >= 8 * GIB * 0.95));
    for (const code of ['cpu-cores', 'memory', 'disk-free'] as const) {
      const text = await hosts.prerequisite(code).textContent();
      expect(text).toMatch(/Pass|Warning/);
      expect(text).toMatch(/needed|needs|free at least/);
    }
    expect(await hosts.prerequisite('cpu-cores').textContent()).toContain(cores >= 4 ? 'Pass' : 'Warning');
  });

  it('refreshes the facts on demand', async () => {
    const before = await hosts.checkedAt.textContent();
    await page.waitForTimeout(1100);
    await hosts.refreshFacts.click();
    await expect.poll(() => hosts.checkedAt.textContent()).not.toBe(before);
    expect(await hosts.refreshFacts.isEnabled()).toBe(true);
  });

  it('lists the mounts, hiding pseudo file systems until asked', async () => {
    await hosts.mountsTable.waitFor();
    expect(await hosts.mountRow('/proc').count()).toBe(0);
    const hiddenText = await hosts.systemMountCount.textContent();
    expect(hiddenText).toMatch(/\d+ system mounts? hidden/);
    const visibleBefore = await hosts.mountRows.count();

    await hosts.showSystemMounts.check();
    const proc = hosts.mountRow('/proc');
    await proc.waitFor();
    expect(await proc.getAttribute('data-fs-type')).toBe('proc');
    expect(await proc.locator('td').nth(2).textContent()).toBe('proc');
    expect(await hosts.mountRows.count()).toBeGreaterThan(visibleBefore);
    expect(await hosts.systemMountCount.textContent()).toMatch(/\d+ system mounts? shown/);
    // Non-NFS mounts carry no verdict.
    expect(await proc.locator('[data-test=mount-ok], [data-test=mount-warning-count]').count()).toBe(0);
    await shot('hosts-system-mounts');
    await hosts.showSystemMounts.uncheck();
    await expect.poll(() => hosts.mountRow('/proc').count()).toBe(0);
  });

  it('offers the recommended NFS mount command while the inventory is empty', async () => {
    await hosts.inventoryEmpty.waitFor();
    expect(await hosts.inventoryEmpty.textContent()).toContain('Remote hosts come next');
    expect(await hosts.mountCommand.textContent()).toBe(RECOMMENDED_COMMAND);
    await shot('hosts-light-en');
  });

  it('switches to 简体中文 and back, saved by Ferry', async () => {
    await shell.setLocale('zh-CN');
    expect(await hosts.heading.textContent()).toBe('主机');
    expect(await hosts.thisComputer.locator('h2').textContent()).toBe('本机');
    expect(await shell.navLink('plan').textContent()).toContain('规划');
    expect(await hosts.fact('cores').textContent()).toBe(`${os.cpus().length} 核`);
    expect(await hosts.fact('memory').textContent()).toBe(gib(os.totalmem(), 'zh-CN'));
    await expect.poll(settingsOnServer).toMatchObject({ locale: 'zh-CN' });
    await shot('hosts-light-zh-CN');

    // Persisted: a reload (token now from sessionStorage) comes back in Chinese.
    await page.reload();
    await hosts.ready();
    expect(await hosts.heading.textContent()).toBe('主机');
    expect(await shell.htmlLang()).toBe('zh-CN');

    await shell.setLocale('en');
    expect(await hosts.heading.textContent()).toBe('Hosts');
    await expect.poll(settingsOnServer).toMatchObject({ locale: 'en' });
  });

  it('switches to the dark theme, saved by Ferry', async () => {
    const light = await shell.bodyBackground();
    await shell.setTheme('dark');
    expect(await shell.htmlTheme()).toBe('dark');
    const dark = await shell.bodyBackground();
    expect(dark).not.toBe(light);
    const [r, g, b] = (dark.match(/\d+/g) ?? []).map(Number);
    expect((r ?? 255) + (g ?? 255) + (b ?? 255)).toBeLessThan(150);
    await expect.poll(settingsOnServer).toMatchObject({ theme: 'dark' });
    await shot('hosts-dark-en');
    await shell.setLocale('zh-CN');
    await shot('hosts-dark-zh-CN');
    await shell.setLocale('en');

    // "System" follows the OS preference (this browser context prefers light).
    await shell.setTheme('system');
    expect(await shell.htmlTheme()).toBeNull();
    expect(await shell.bodyBackground()).toBe(light);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await shell.bodyBackground()).toBe(dark);
    await page.emulateMedia({ colorScheme: 'light' });
    await shell.setTheme('light');
    await expect.poll(settingsOnServer).toMatchObject({ theme: 'light' });
  });

  it('shows the field error of a bad host name and adds nothing', async () => {
    await hosts.addHost({ name: '-bad name', address: '198.18.0.21' });
    await hosts.fieldError('name').waitFor();
    expect(await hosts.fieldError('name').textContent()).toMatch(/letters, digits/);
    expect(await hosts.field('name').getAttribute('aria-invalid')).toBe('true');
    expect(await hosts.hostRows.count()).toBe(0);
    expect((await fixture.call('hosts.list')).body.result).toEqual([]);
    await shot('hosts-add-field-error');
  });

  it('adds a host and lists it', async () => {
    await hosts.field('name').fill('');
    await hosts.addHost({ name: 'nas-mover-01', address: '198.18.0.21', port: 2222, user: 'ferry', auth: 'key', keyFile: '~/.ssh/id_ed25519' });
    await hosts.hostRow('nas-mover-01').waitFor();
    expect(await hosts.fieldError('name').count()).toBe(0);
    expect(await hosts.formDone.textContent()).toContain('Added nas-mover-01');
    const row = await hosts.hostRow('nas-mover-01').textContent();
    expect(row).toContain('198.18.0.21:2222');
    expect(row).toContain('ferry');
    expect(row).toContain('~/.ssh/id_ed25519');
    expect(await hosts.inventoryCount.textContent()).toBe('1 host');
    const listed = (await fixture.call('hosts.list')).body.result as Array<{ name: string; port: number; auth: unknown }>;
    expect(listed).toMatchObject([{ name: 'nas-mover-01', port: 2222, user: 'ferry', auth: { kind: 'key', keyFile: '~/.ssh/id_ed25519' } }]);
    // The form is ready for the next host.
    expect(await hosts.field('name').inputValue()).toBe('');
  });

  it('shows Ferry’s own field error for a duplicate name', async () => {
    // The browser logs the HTTP 409 of this deliberate conflict; nothing else may be logged.
    allowedErrors = [/status of 409/];
    await hosts.addHost({ name: 'nas-mover-01', address: '198.18.0.22' });
    await hosts.fieldError('name').waitFor();
    expect(await hosts.fieldError('name').textContent()).toContain('already used');
    expect(await hosts.hostRows.count()).toBe(1);
  });

  it('shows hosts added elsewhere at once (hosts.changed)', async () => {
    const added = await fixture.call('hosts.add', { name: 'nas-mover-02', address: '198.18.0.23' });
    expect(added.body.ok).toBe(true);
    await hosts.hostRow('nas-mover-02').waitFor();
    expect(await hosts.hostRows.count()).toBe(2);
    // Editing the field clears the error it had.
    await hosts.field('name').fill('');
    await hosts.field('address').fill('');
    await expect.poll(() => hosts.fieldError('name').count()).toBe(0);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await shot('hosts-inventory');
    await shot('hosts', DOCS_SHOT);
  });

  it('removes a host after confirmation', async () => {
    await hosts.removeHost('nas-mover-02');
    await expect.poll(() => hosts.hostRow('nas-mover-02').count()).toBe(0);
    expect(await hosts.hostRows.count()).toBe(1);
    const listed = (await fixture.call('hosts.list')).body.result as Array<{ name: string }>;
    expect(listed.map((h) => h.name)).toEqual(['nas-mover-01']);
  });

  it('falls back to the default step for an unknown address, and is keyboard usable', async () => {
    await shell.goTo('plan-file');
    await page.locator('[data-test=plan-file-view]').waitFor();
    await page.evaluate(`window.location.hash = '#/nope'`);
    await hosts.view.waitFor();
    expect(await shell.navLink('hosts').getAttribute('aria-current')).toBe('page');
    expect(await page.locator('[data-test=nav-reports] .step-soon').count()).toBe(0);

    // After a fresh load, the skip link is the first tab stop and lands on the content.
    await page.reload();
    await hosts.ready();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | null>(`document.activeElement?.className ?? null`)).toContain('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string | null>(`document.activeElement?.id ?? null`)).toBe('main');
  });
});

describe('NFS mount checks', () => {
  it('explains each deviation from the recommended options, and praises a good mount', async () => {
    const nfsPage = await context.newPage();
    const nfsWatch = await watchPage(nfsPage);
    const nfsHosts = new HostsPage(nfsPage);
    // Two NFS mounts as the controller would report them, checked by the agent's own checker.
    const good = toMountEntry('/mnt/nas-good', 'nfs', 'nas1:/export/projects', ['rw', 'vers=3', 'hard', 'timeo=600', 'retrans=2', 'noresvport', 'rsize=1048576', 'wsize=1048576']);
    const bad = toMountEntry('/mnt/nas-bad', 'nfs4', 'nas2:/export/home', ['rw', 'vers=4.1', 'soft', 'rsize=65536', 'wsize=65536', 'timeo=100']);
    expect(good.warnings).toEqual([]);
    expect(bad.warnings.length).toBeGreaterThan(3);
    await nfsPage.route('**/api/call/hosts.localFacts', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { ok: boolean; result: { mounts: unknown[] } };
      body.result.mounts = [...body.result.mounts, good, bad];
      await route.fulfill({ response, json: body });
    });
    await nfsPage.goto(fixture.url);
    await nfsHosts.ready();

    await nfsHosts.mountRow('/mnt/nas-good').locator('[data-test=mount-ok]').waitFor();
    expect(await nfsHosts.mountRow('/mnt/nas-good').textContent()).toContain('Recommended options');
    expect(await nfsHosts.mountWarnings('/mnt/nas-good').count()).toBe(0);

    const warnings = nfsHosts.mountWarnings('/mnt/nas-bad');
    expect(await warnings.count()).toBe(bad.warnings.length);
    const codes = await Promise.all((await warnings.all()).map((el) => el.getAttribute('data-code')));
    expect(codes).toEqual(bad.warnings.map((w) => w.code));
    const texts = await warnings.allTextContents();
    expect(texts.join('\n')).toContain('Mounted “soft”');
    expect(texts.join('\n')).toContain('rsize=65536');
    // NFS mounts come first.
    expect(await nfsHosts.mountRows.first().getAttribute('data-mount-point')).toBe('/mnt/nas-good');
    await shot('hosts-nfs-warnings', undefined, nfsPage);

    await new ShellPage(nfsPage).setLocale('zh-CN');
    expect((await warnings.allTextContents()).join('\n')).toContain('以“soft”方式挂载');
    await shot('hosts-nfs-warnings-zh-CN', undefined, nfsPage);
    await new ShellPage(nfsPage).setLocale('en');

    expect(nfsWatch.offsite).toEqual([]);
    expect(nfsWatch.unexpectedErrors()).toEqual([]);
    await nfsPage.close();
  });
});

describe('connection', () => {
  it('shows "reconnecting" when the event socket drops, and reloads snapshots once it is back', async () => {
    const p = await context.newPage();
    const w = await watchPage(p);
    const sockets: Array<{ close(): Promise<void> }> = [];
    let refuse = false;
    await p.routeWebSocket(/\/api\/events/, (ws) => {
      if (refuse) {
        void ws.close({ code: 1011, reason: 'test: server away' });
        return;
      }
      ws.connectToServer();
      sockets.push(ws);
    });
    const s = new ShellPage(p);
    const h = new HostsPage(p);
    await s.open(fixture.url);
    await h.ready();
    expect(await s.connectionState()).toBe('online');

    // Drop the socket and keep refusing: the banner shows, and an event sent meanwhile is missed.
    refuse = true;
    await sockets[0]?.close();
    await s.reconnectingBanner.waitFor();
    expect(await s.connectionState()).toBe('reconnecting');
    await fixture.call('hosts.add', { name: 'added-while-away', address: '198.18.0.30' });
    await p.screenshot({ path: path.join(SHOTS, 'hosts-reconnecting.png') });

    // Let it reconnect: the store reloads its snapshot and the missed host shows up.
    refuse = false;
    await s.reconnectingBanner.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await s.connectionState()).toBe('online');
    await h.hostRow('added-while-away').waitFor();

    expect(w.offsite).toEqual([]);
    expect(w.unexpectedErrors()).toEqual([]);
    await p.close();
  });

  it('refuses to run against a Ferry that speaks another protocol', async () => {
    const p = await context.newPage();
    const w = await watchPage(p);
    await p.route('**/api/hello', (route) => route.fulfill({ json: { protocolVersion: 999, appVersion: '9.9.9' } }));
    await p.goto(fixture.url);
    const message = p.locator('[data-test=fatal-message]');
    await message.waitFor();
    expect(await message.textContent()).toBe(`This console (protocol ${CONSOLE_PROTOCOL_VERSION}) does not match Ferry (protocol 999). Restart Ferry / reload.`);
    await shot('fatal-protocol', undefined, p);
    expect(w.offsite).toEqual([]);
    expect(w.unexpectedErrors()).toEqual([]);
    await p.close();
  });

  it('explains a missing token instead of showing a blank page', async () => {
    const p = await context.newPage();
    const w = await watchPage(p);
    await p.goto(fixture.baseUrl);
    const fatal = p.locator('[data-test=fatal]');
    await fatal.waitFor();
    expect(await fatal.getAttribute('data-kind')).toBe('no-token');
    expect(await fatal.textContent()).toContain('access token');
    expect(w.offsite).toEqual([]);
    expect(w.unexpectedErrors()).toEqual([]);
    await p.close();
  });
});
