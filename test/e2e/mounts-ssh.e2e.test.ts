// The Mounts step acting on real SSH hosts, end to end: the real `ferry console` process, Debian's
// Chromium and two sshd hosts of the test lab, with one tmpfs standing in for the NAS export,
// bound at /mnt/nas into both. "Check on hosts" shows each host's mount, its options and the
// findings (a tmpfs is not NFS); a spec whose directory is missing shows that on both hosts.
// "Mount on hosts" opens the confirmation (hosts, exact commands, use sudo; Cancel focused, Esc
// cancels and nothing runs), and the confirmed mount on one host shows the real mount error of this
// kernel (no NFS) with the command run and its exit status. Keyboard only where it matters; then
// the same screen in Chinese. Nothing leaves 127.0.0.1 and the lab's 198.18.0.0/15.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { consoleApiOf, expectLocalAndQuiet, openWatchedPage } from '../helpers/lab-browser.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { MountsPage } from './pages/mounts-page.ts';
import { ShellPage } from './pages/shell-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
/** The NAS address of the specs: a lab address nothing listens on (never contacted: no NFS here). */
const NAS = '198.18.255.254';
const OPTIONS = 'vers=3,hard,timeo=600,retrans=2,noresvport,rsize=1048576,wsize=1048576';

let lab: TestLab;
let work: string;
let nasDir: string;
let fixture: ConsoleFixture;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let mounts: MountsPage;

const api = consoleApiOf(() => fixture);

async function shot(name: string): Promise<void> {
  await fs.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

function focusedTestId(): Promise<string | null> {
  return page.evaluate<string | null>(`document.activeElement?.getAttribute('data-test') ?? null`);
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-mounts-e2e-'));
  nasDir = path.join(work, 'nas');
  await fs.mkdir(nasDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', `${NAS}:/share/data`, nasDir]);
  const bind = { source: nasDir, target: '/mnt/nas' };
  lab = await createTestLab({ hosts: [{ name: 's1', binds: [bind] }, { name: 's2', binds: [bind] }] });
  fixture = await startConsole();
  // The steps before Mounts (hosts with trusted keys, a tunnel, two mount specs) through the API:
  // the e2e tests of those steps drive them in the browser.
  for (const name of ['s1', 's2']) {
    const host = (await api('hosts.add', { name, address: lab.host(name).address, auth: { kind: 'key', keyFile: lab.clientKey.path } })) as { id: string };
    await api('hosts.trustKey', { id: host.id, fingerprint: lab.host(name).hostKeyFingerprint });
  }
  await api('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['s1', 's2'] } });
  await api('mounts.save', { mount: { tunnel: 'old-nas', nasType: 'extreme', server: NAS, export: '/share/data', directory: '/mnt/nas' } });
  await api('mounts.save', { mount: { tunnel: 'old-nas', nasType: 'general', server: NAS, export: '/export/new', directory: '/mnt/new' } });

  ({ browser, page, watch } = await openWatchedPage());
  mounts = new MountsPage(page);
  const shell = new ShellPage(page);
  await shell.open(fixture.url);
  await shell.goTo('mounts');
  await mounts.mountRow('old-nas', '/mnt/nas').waitFor();
}, 120_000);

afterEach(() => expectLocalAndQuiet(watch));

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  await lab?.destroy();
  if (nasDir) execFileSync('umount', ['-l', nasDir]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('Mounts on the hosts of a tunnel', () => {
  it('checks a mounted spec on both hosts from the keyboard: the mount, its options, and that a tmpfs is not NFS', async () => {
    // Keyboard: Tab from the row's own first control reaches "Check on hosts", with a visible focus ring.
    await mounts.checkButton('old-nas', '/mnt/nas').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await focusedTestId()).toBe('check-on-hosts');
    expect(await page.evaluate<string>(`getComputedStyle(document.activeElement).outlineStyle`)).not.toBe('none');
    await page.keyboard.press('Enter');
    const results = mounts.results('old-nas', '/mnt/nas');
    await results.locator('[data-test=mount-check-summary]').waitFor();
    expect(await results.locator('[data-test=mount-check-results]').getAttribute('data-ok')).toBe('true');
    expect(await results.locator('[data-test=mount-same]').textContent()).toContain('The same storage on both hosts.');
    for (const host of ['s1', 's2']) {
      const h = mounts.hostCheck('old-nas', '/mnt/nas', host);
      expect(await h.getAttribute('data-verdict')).toBe('warnings');
      expect(await h.locator('[data-test=host-state]').getAttribute('data-state')).toBe('mounted');
      expect(await h.locator('[data-test=host-mount-source]').textContent()).toBe(`${NAS}:/share/data (tmpfs)`);
      expect(await h.locator('[data-test=host-mount-options]').textContent()).toMatch(/^rw/);
      expect(await h.locator('[data-test=host-matches]').getAttribute('data-value')).toBe('true');
      expect(await h.locator('[data-test=host-readable]').getAttribute('data-value')).toBe('true');
      expect(await mounts.findingCodes(h)).toEqual(['not-nfs']);
    }
    await shot('mounts-ssh-check');
  });

  it('shows a missing directory on both hosts, then confirms before mounting: Esc cancels and nothing runs', async () => {
    await mounts.checkOnHosts('old-nas', '/mnt/new');
    for (const host of ['s1', 's2']) {
      const h = mounts.hostCheck('old-nas', '/mnt/new', host);
      expect(await h.getAttribute('data-verdict')).toBe('errors');
      expect(await mounts.findingCodes(h)).toEqual(['dir-missing']);
      expect(await h.locator('[data-test=mount-finding]').textContent()).toContain(`/mnt/new does not exist on ${host}`);
    }

    await mounts.mountButton('old-nas', '/mnt/new').click();
    await mounts.dialog.waitFor();
    expect(await focusedTestId()).toBe('cancel-mount');
    expect(await mounts.dialogHost('s1').isChecked()).toBe(true);
    expect(await mounts.dialogHost('s2').isChecked()).toBe(true);
    // Both hosts log in as root: no sudo by default, and the commands are exactly what Ferry runs.
    expect(await mounts.dialogSudo.isChecked()).toBe(false);
    expect(await mounts.dialogCommand.textContent()).toBe(`mkdir -p /mnt/new\nmount -t nfs -o ${OPTIONS} ${NAS}:/export/new /mnt/new`);
    await mounts.dialogSudo.check();
    expect(await mounts.dialogCommand.textContent()).toBe(`sudo -n mkdir -p /mnt/new\nsudo -n mount -t nfs -o ${OPTIONS} ${NAS}:/export/new /mnt/new`);
    await mounts.dialogSudo.uncheck();
    await shot('mounts-ssh-dialog');
    await page.keyboard.press('Escape');
    await mounts.dialog.waitFor({ state: 'detached' });
    expect(await focusedTestId()).toBe('mount-on-hosts');
    expect(await mounts.results('old-nas', '/mnt/new').locator('[data-test=mount-apply-results]').count()).toBe(0);
    for (const host of ['s1', 's2']) expect((await lab.host(host).exec('test -e /mnt/new; echo $?')).stdout.trim()).toBe('1');
  });

  it('mounts on the one host chosen and shows the real mount error with the command run and its exit status', async () => {
    await mounts.mountButton('old-nas', '/mnt/new').click();
    await mounts.dialog.waitFor();
    await mounts.dialogHost('s2').uncheck();
    expect(await mounts.confirmMount.textContent()).toContain('Mount on 1 host');
    await mounts.dialogHost('s1').uncheck();
    expect(await mounts.confirmMount.isDisabled()).toBe(true);
    await mounts.dialog.locator('[data-test=mount-dialog-none]').waitFor();
    await mounts.dialogHost('s1').check();
    await mounts.confirmMount.click();
    await mounts.dialog.waitFor({ state: 'detached' });

    const s1 = mounts.applyHost('old-nas', '/mnt/new', 's1');
    await s1.waitFor();
    expect(await mounts.applyHost('old-nas', '/mnt/new', 's2').count()).toBe(0);
    expect(await s1.getAttribute('data-outcome')).toBe('mount-failed');
    expect(await s1.locator('[data-test=apply-command]').textContent()).toBe(`mkdir -p /mnt/new && mount -t nfs -o ${OPTIONS} ${NAS}:/export/new /mnt/new`);
    expect(await s1.locator('[data-test=apply-exit]').textContent()).toMatch(/^exit status [1-9]\d*$/);
    expect(await s1.locator('[data-test=apply-stderr]').textContent()).toMatch(/unknown filesystem type 'nfs'|mount\.nfs/);
    expect(await s1.locator('[data-test=apply-message]').textContent()).toContain('The mount command failed on s1');
    // The check after the mount: s1 has the directory now (not a mount), s2 still has none.
    await expect.poll(() => mounts.hostCheck('old-nas', '/mnt/new', 's1').locator('[data-test=host-state]').getAttribute('data-state')).toBe('plain');
    expect(await mounts.findingCodes(mounts.hostCheck('old-nas', '/mnt/new', 's1'))).toContain('not-a-mount');
    expect(await mounts.findingCodes(mounts.hostCheck('old-nas', '/mnt/new', 's2'))).toEqual(['dir-missing']);
    await shot('mounts-ssh-apply');
  });

  it('reads the same in Chinese', async () => {
    await new ShellPage(page).setLocale('zh-CN');
    expect(await mounts.checkButton('old-nas', '/mnt/nas').textContent()).toContain('在主机上检查');
    expect(await mounts.mountButton('old-nas', '/mnt/nas').textContent()).toContain('在主机上挂载');
    expect(await mounts.applyHost('old-nas', '/mnt/new', 's1').locator('[data-test=apply-outcome]').textContent()).toBe('挂载失败');
    expect(await mounts.hostCheck('old-nas', '/mnt/nas', 's1').locator('[data-test=host-verdict]').textContent()).toBe('有警告');
    await shot('mounts-ssh-zh');
    await new ShellPage(page).setLocale('en');
  });
});
