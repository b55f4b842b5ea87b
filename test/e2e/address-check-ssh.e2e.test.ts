// The Data addresses step checking addresses on real SSH hosts, end to end: the real `ferry
// console` process, Debian's Chromium and two sshd hosts of the test lab, with one tmpfs standing
// in for the NAS export, bound at /mnt/nas into both. "Check on hosts" on a source address below
// the planned mount (reached from the keyboard) shows on each host which mount it is on, that it is
// readable and that both hosts see the same storage; on a destination address whose directory only
// one host has, it shows that host writable and the other missing. Then the same in Chinese.
// Nothing leaves 127.0.0.1 and the lab's 198.18.0.0/15.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { consoleApiOf, expectLocalAndQuiet, openWatchedPage } from '../helpers/lab-browser.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { ShellPage } from './pages/shell-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
/** The NAS address of the mount spec: a lab address nothing listens on (never contacted). */
const NAS = '198.18.255.254';

let lab: TestLab;
let work: string;
let nasDir: string;
let fixture: ConsoleFixture;
let browser: Browser;
let page: Page;
let watch: PageWatch;

const api = consoleApiOf(() => fixture);

const row = (name: string): Locator => page.locator(`[data-test=address-row][data-name="${name}"]`);
const results = (name: string): Locator => page.locator(`[data-test=address-results-row][data-name="${name}"]`);
const hostCheck = (name: string, host: string): Locator => results(name).locator(`[data-test=mount-host-check][data-host="${host}"]`);
const findingCodes = (h: Locator): Promise<string[]> => h.locator('[data-test=mount-finding]').evaluateAll((els) => els.map((e) => e.getAttribute('data-code') ?? ''));

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-address-check-e2e-'));
  nasDir = path.join(work, 'nas');
  const dstDir = path.join(work, 'dst');
  await fs.mkdir(nasDir);
  await fs.mkdir(dstDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', `${NAS}:/share/data`, nasDir]);
  await fs.mkdir(path.join(nasDir, 'projects'));
  const bind = { source: nasDir, target: '/mnt/nas' };
  lab = await createTestLab({ hosts: [{ name: 's1', binds: [bind, { source: dstDir, target: '/mnt/dst' }] }, { name: 's2', binds: [bind] }] });
  fixture = await startConsole();
  // The steps before Data addresses through the API: their own e2e tests drive them in the browser.
  for (const name of ['s1', 's2']) {
    const host = (await api('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } })) as { id: string };
    await api('hosts.trustKey', { id: host.id, fingerprint: lab.host(name).hostKeyFingerprint });
  }
  await api('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['s1', 's2'] } });
  await api('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['s1', 's2'] } });
  await api('mounts.save', { mount: { tunnel: 'old-nas', nasType: 'general', server: NAS, export: '/share/data', directory: '/mnt/nas' } });
  await api('addresses.save', { address: { name: 'src-projects', tunnel: 'old-nas', directory: '/mnt/nas/projects' } });
  await api('addresses.save', { address: { name: 'dst-projects', tunnel: 'new-nas', directory: '/mnt/dst' } });

  ({ browser, page, watch } = await openWatchedPage());
  const shell = new ShellPage(page);
  await shell.open(fixture.url);
  await shell.goTo('addresses');
  await row('src-projects').waitFor();
}, 120_000);

afterEach(() => expectLocalAndQuiet(watch));

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  await lab?.destroy();
  if (nasDir) execFileSync('umount', ['-l', nasDir]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('Data addresses checked on their hosts', () => {
  it('checks a source address below the planned mount from the keyboard: the mount it is on, readable, the same storage', async () => {
    const button = row('src-projects').locator('[data-test=address-check]');
    expect(await button.getAttribute('aria-label')).toBe('Check data address src-projects on the hosts that serve it');
    // Keyboard: Tab from the control before it reaches the button, with a visible focus ring.
    await button.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | null>(`document.activeElement?.getAttribute('data-test') ?? null`)).toBe('address-check');
    expect(await page.evaluate<string>(`getComputedStyle(document.activeElement).outlineStyle`)).not.toBe('none');
    await page.keyboard.press('Enter');
    await results('src-projects').locator('[data-test=mount-check-summary]').waitFor();
    expect(await results('src-projects').locator('[data-test=mount-check-results]').getAttribute('data-ok')).toBe('true');
    expect(await results('src-projects').locator('[data-test=mount-check-summary]').textContent()).toContain('Every host that serves this address can read it, on the same storage.');
    expect(await results('src-projects').locator('[data-test=mount-same]').textContent()).toContain('The same storage on both hosts.');
    for (const host of ['s1', 's2']) {
      const h = hostCheck('src-projects', host);
      expect(await h.getAttribute('data-verdict')).toBe('ok');
      expect(await h.locator('[data-test=host-state]').getAttribute('data-state')).toBe('inside');
      expect(await h.locator('[data-test=host-on-mount]').textContent()).toBe(`${NAS}:/share/data (tmpfs) at /mnt/nas`);
      expect(await h.locator('[data-test=host-matches]').getAttribute('data-value')).toBe('true');
      expect(await h.locator('[data-test=host-readable]').getAttribute('data-value')).toBe('true');
      expect(await h.locator('[data-test=host-writable]').count()).toBe(0);
    }
    await fs.mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'addresses-ssh-check.png'), fullPage: true });
  });

  it('shows a destination address writable on the host that has it and missing on the other', async () => {
    await row('dst-projects').locator('[data-test=address-check]').click();
    await results('dst-projects').locator('[data-test=mount-check-summary]').waitFor();
    expect(await results('dst-projects').locator('[data-test=mount-check-results]').getAttribute('data-ok')).toBe('false');
    const s1 = hostCheck('dst-projects', 's1');
    expect(await s1.locator('[data-test=host-writable]').getAttribute('data-value')).toBe('true');
    const s2 = hostCheck('dst-projects', 's2');
    expect(await s2.getAttribute('data-verdict')).toBe('errors');
    expect(await findingCodes(s2)).toEqual(['dir-missing']);
    expect(await s2.locator('[data-test=mount-finding]').textContent()).toContain('/mnt/dst does not exist on s2');
  });

  it('reads the same in Chinese', async () => {
    await new ShellPage(page).setLocale('zh-CN');
    expect(await row('src-projects').locator('[data-test=address-check]').textContent()).toContain('在主机上检查');
    expect(await results('src-projects').locator('[data-test=mount-check-summary]').textContent()).toContain('服务此地址的每台主机都能读取它');
    expect(await hostCheck('src-projects', 's1').locator('[data-test=host-on-mount]').textContent()).toBe(`${NAS}:/share/data (tmpfs)，挂载于 /mnt/nas`);
    await new ShellPage(page).setLocale('en');
  });
});
