// Real SSH hosts on the Hosts screen, end to end: the real `ferry console` process, Debian's
// Chromium and sshd hosts of the test lab. Add a host, test the connection, verify and accept its
// key in the dialog, see its facts with the prerequisite warnings (lab hosts have this machine's
// cores and memory), deploy the agent and see it running, read its log, stop it after confirming;
// log in with a password (a wrong one is refused clearly); a changed key is shown as a refusal;
// import hosts from an SSH config. Nothing leaves 127.0.0.1 and the lab's 198.18.0.0/15.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { expectLocalAndQuiet, openWatchedPage } from '../helpers/lab-browser.ts';
import { createTestLab, type TestLab } from '../helpers/test-hosts.ts';
import { HostDetailPage } from './pages/host-detail-page.ts';
import { HostsPage } from './pages/hosts-page.ts';
import { ShellPage } from './pages/shell-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS_SHOT = path.join(ROOT, 'docs/screenshots/hosts-ssh.png');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
const DEPLOY_TIMEOUT_MS = 120_000;

let lab: TestLab;
let fixture: ConsoleFixture;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let hosts: HostsPage;

beforeAll(async () => {
  lab = await createTestLab({ hosts: [{ name: 'web1' }, { name: 'web2' }], jump: { name: 'gw', privateHosts: [{ name: 'inner' }] } });
  fixture = await startConsole();
  ({ browser, page, watch } = await openWatchedPage());
  hosts = new HostsPage(page);
  await new ShellPage(page).open(fixture.url);
  await hosts.ready();
}, 120_000);

/** A viewport screenshot for review (test-output/, not committed). */
async function shot(name: string): Promise<void> {
  await fs.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** The data-test hook of the element that has keyboard focus. */
function focusedTestId(): Promise<string | null> {
  return page.evaluate<string | null>(`document.activeElement?.getAttribute('data-test') ?? null`);
}

afterEach(() => expectLocalAndQuiet(watch));

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  await lab?.destroy();
});

describe('a host over SSH', () => {
  const detail = (): HostDetailPage => new HostDetailPage(page, 'web1');

  it('adds the host, asks to verify its key, and shows its facts after the key is accepted', async () => {
    await hosts.addHost({ name: 'web1', address: lab.host('web1').address, auth: 'key', keyFile: lab.clientKey.path });
    await hosts.formDone.waitFor();
    expect(await hosts.hostRow('web1').locator('[data-test=host-connection]').getAttribute('data-state')).toBe('unknown');
    const web1 = detail();
    await web1.open();
    await web1.panel.locator('[data-test=never-tested]').waitFor();

    await web1.testButton.click();
    await web1.keyDialog.waitFor();
    expect(await web1.keyFingerprint.textContent()).toBe(lab.host('web1').hostKeyFingerprint);
    expect(await web1.keyDialog.locator('[data-test=host-key-type]').textContent()).toBe('ssh-ed25519');
    expect(await web1.keyCommand.textContent()).toBe('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    await shot('hosts-ssh-key-dialog');
    // Cancel is focused first; accepting is a deliberate step.
    expect(await focusedTestId()).toBe('cancel-host-key');
    expect(await web1.failure.getAttribute('data-code')).toBe('host-key-unknown');
    // Esc cancels and trusts nothing; the notice offers to review the key again.
    await page.keyboard.press('Escape');
    await web1.keyDialog.waitFor({ state: 'detached' });
    expect(await web1.connectionState.getAttribute('data-state')).toBe('failed');
    await web1.failure.locator('[data-test=answer-failure]').click();
    await web1.keyDialog.waitFor();
    await web1.acceptKey.click();
    await web1.keyDialog.waitFor({ state: 'detached' });

    await web1.facts.waitFor();
    expect(await web1.connectionState.getAttribute('data-state')).toBe('connected');
    expect(await web1.fact('os').textContent()).toContain('Linux');
    expect(Number(await web1.fact('cores').getAttribute('data-value'))).toBe(os.cpus().length);
    expect(Number(await web1.fact('memory').getAttribute('data-value'))).toBe(os.totalmem());
    expect(await web1.fact('root').getAttribute('data-value')).toBe('true');
    expect(await web1.failure.count()).toBe(0);
    expect(await hosts.hostRow('web1').locator('[data-test=host-connection]').getAttribute('data-state')).toBe('connected');
  });

  it('shows the prerequisite shortfalls of the lab host as warnings', async () => {
    const web1 = detail();
    const coresOk = os.cpus().length >= 4;
    const memoryOk = os.totalmem() >= 8 * 1024 ** 3 * 0.95;
    expect(await web1.prerequisite('cpu-cores').getAttribute('data-ok')).toBe(String(coresOk));
    if (!coresOk) expect(await web1.prerequisite('cpu-cores').textContent()).toMatch(/Warning.*Only \d+ cores; Ferry needs at least 4/s);
    const failing = Number(await web1.prereqSummary.getAttribute('data-failing'));
    expect(failing).toBeGreaterThanOrEqual(coresOk ? 0 : 1);
    expect(failing).toBeLessThanOrEqual(3);
    if (failing > 0) expect(await web1.prereqSummary.textContent()).toMatch(/not met/);
    expect(memoryOk || (await web1.prerequisite('memory').getAttribute('data-ok')) === 'false').toBe(true);
  });

  it('deploys the agent and shows it running, with its log', async () => {
    const web1 = detail();
    // The agent's state arrives with the host status after the test (the label hashes the build once).
    await web1.panel.locator('[data-test=agent][data-state=absent]').waitFor();
    await web1.agentButton('deploy').click();
    await web1.busy.waitFor();
    await web1.panel.locator('[data-test=agent][data-state=running]').waitFor({ timeout: DEPLOY_TIMEOUT_MS });
    expect(await web1.agentState.textContent()).toMatch(/Agent \S+ is running \(pid \d+\)/);
    expect(await web1.agentDeployed.textContent()).toMatch(/deployed: [\d.]+ MB sent in [\d.]+ s/);
    await web1.agentButton('log').click();
    await web1.agentLog.waitFor();
    expect(await web1.agentLog.textContent()).toContain('"ready":true');
    await fs.mkdir(path.dirname(DOCS_SHOT), { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: DOCS_SHOT, fullPage: true });
  }, DEPLOY_TIMEOUT_MS + 30_000);

  it('stops the agent only after confirmation', async () => {
    const web1 = detail();
    await web1.agentButton('stop').click();
    const confirm = web1.agent.locator('[data-test=agent-confirm]');
    expect(await confirm.textContent()).toMatch(/Stop the agent on web1\?/);
    // Keyboard: the confirm button has focus; Cancel leaves the agent running.
    expect(await focusedTestId()).toBe('agent-confirm-yes');
    await web1.agent.locator('[data-test=agent-confirm-no]').click();
    expect(await web1.agent.getAttribute('data-state')).toBe('running');
    await web1.agentAction('stop');
    await web1.panel.locator('[data-test=agent][data-state=stopped]').waitFor();
  });
});

describe('editing a host', () => {
  it('saves a changed port, then reports the host as unreachable until it is fixed', async () => {
    const web1 = new HostDetailPage(page, 'web1');
    await web1.panel.locator('[data-test=edit-host]').click();
    const form = web1.panel.locator('[data-test=host-edit-form]');
    await form.locator('[data-test=field-port]').fill('2');
    await form.locator('[data-test=edit-host-submit]').click();
    await form.waitFor({ state: 'detached' });
    expect(await hosts.hostRow('web1').textContent()).toContain(':2');
    await web1.testButton.click();
    await web1.panel.locator('[data-test=host-failure][data-code=unreachable]').waitFor();
    expect(await web1.failure.textContent()).toMatch(/The host cannot be reached.*refused the connection/s);
    await web1.panel.locator('[data-test=edit-host]').click();
    await form.locator('[data-test=field-port]').fill('22');
    await form.locator('[data-test=edit-host-submit]').click();
    await form.waitFor({ state: 'detached' });
    // The edit cleared what was known about the old port.
    expect(await web1.failure.count()).toBe(0);
    await web1.panel.locator('[data-test=connection-state][data-state=unknown]').waitFor();
    await web1.testButton.click();
    await web1.facts.waitFor();
    await web1.panel.locator('[data-test=connection-state][data-state=connected]').waitFor();
    expect(await web1.failure.count()).toBe(0);
  });
});

describe('a private host behind a jump host', () => {
  it('asks for the jump host key, then the private host key, and connects through the jump host', async () => {
    await hosts.addHost({ name: 'gw', address: lab.host('gw').address, auth: 'key', keyFile: lab.clientKey.path });
    await hosts.hostRow('gw').waitFor();
    await hosts.fillHost({ name: 'inner', address: lab.host('inner').address, auth: 'key', keyFile: lab.clientKey.path });
    await hosts.form.locator('[data-test=field-jumpHost]').selectOption('gw');
    await hosts.submit.click();
    await hosts.hostRow('inner').waitFor();
    const inner = new HostDetailPage(page, 'inner');
    await inner.open();
    await inner.testButton.click();

    await inner.keyDialog.waitFor();
    expect(await inner.keyDialog.locator('[data-test=host-key-jump-note]').textContent()).toBe('gw is the jump host Ferry goes through to reach inner.');
    expect(await inner.keyFingerprint.textContent()).toBe(lab.host('gw').hostKeyFingerprint);
    expect(await inner.failure.getAttribute('data-stage')).toBe('jump');
    await inner.acceptKey.click();

    await inner.keyDialog.locator('[data-test=host-key-fingerprint]', { hasText: lab.host('inner').hostKeyFingerprint }).waitFor();
    expect(await inner.keyDialog.locator('[data-test=host-key-jump-note]').count()).toBe(0);
    await inner.acceptKey.click();
    await inner.facts.waitFor();
    expect(await inner.connectionState.getAttribute('data-state')).toBe('connected');
    expect(await hosts.hostRow('gw').locator('[data-test=host-connection]').getAttribute('data-state')).toBe('connected');
  });
});

describe('passwords, changed keys and SSH config import', () => {
  it('asks for the password, says when it is wrong, and connects with the right one', async () => {
    await hosts.addHost({ name: 'web2', address: lab.host('web2').address, user: lab.passwordUser, auth: 'password' });
    await hosts.hostRow('web2').waitFor();
    const web2 = new HostDetailPage(page, 'web2');
    await web2.open();
    await web2.testButton.click();
    await web2.secretDialog.waitFor();
    expect(await web2.secretDialog.textContent()).toContain(`Password for ${lab.passwordUser}@web2`);
    expect(await focusedTestId()).toBe('secret-input');
    // The password is sent, then the host key is asked about (Ferry checks it before any login).
    await web2.giveSecret('wrong-password');
    await web2.keyDialog.waitFor();
    expect(await web2.keyFingerprint.textContent()).toBe(lab.host('web2').hostKeyFingerprint);
    await web2.acceptKey.click();
    await web2.secretDialog.waitFor();
    await web2.secretWrong.waitFor();
    await shot('hosts-ssh-password-wrong');
    expect(await web2.failure.getAttribute('data-code')).toBe('auth-failed');
    expect(await web2.failure.textContent()).toMatch(/refused the password for user ferrytest/);
    await web2.giveSecret(lab.password);
    await web2.facts.waitFor();
    expect(await web2.fact('root').getAttribute('data-value')).toBe('false');
    await web2.panel.locator('[data-test=forget-secret]').waitFor();
  });

  it('shows a changed host key as a refusal with its explanation', async () => {
    await lab.dropConnections('web2', { how: 'kill' });
    const web2 = new HostDetailPage(page, 'web2');
    await web2.panel.locator('[data-test=connection-state][data-state=disconnected]').waitFor();
    await lab.restartSshd('web2', { newHostKey: true });
    await web2.testButton.click();
    await web2.keyChanged.waitFor();
    expect(await web2.keyChanged.textContent()).toMatch(/Refused: the host key has changed/);
    expect(await web2.keyChanged.locator('[data-test=changed-fingerprint]').textContent()).toContain(lab.host('web2').hostKeyFingerprint);
    expect(await web2.keyDialog.count()).toBe(0);
    await shot('hosts-ssh-key-changed');
  });

  it('imports hosts from an SSH config, skipping names already in the inventory', async () => {
    await page.locator('[data-test=open-ssh-import]').click();
    const importer = page.locator('[data-test=ssh-import]');
    await importer.locator('[data-test=ssh-import-text]').fill('Host web1\n  HostName 198.18.250.1\nHost db-1\n  HostName 198.18.250.2\n  User admin\n  Port 2200\n  ForwardAgent yes\n');
    await importer.locator('[data-test=ssh-import-preview]').click();
    await importer.locator('[data-test=ssh-import-table]').waitFor();
    expect(await importer.locator('[data-test=ssh-import-row][data-name="web1"]').getAttribute('data-importable')).toBe('false');
    expect(await importer.locator('[data-test=ssh-import-notes]').textContent()).toContain('ForwardAgent');
    await importer.locator('[data-test=ssh-import-apply]').click();
    await importer.locator('[data-test=ssh-import-done]').waitFor();
    expect(await importer.locator('[data-test=ssh-import-done]').textContent()).toMatch(/Added 1 hosts; skipped 0/);
    await hosts.hostRow('db-1').waitFor();
    expect(await hosts.hostRow('db-1').textContent()).toContain('198.18.250.2:2200');
  });
});
