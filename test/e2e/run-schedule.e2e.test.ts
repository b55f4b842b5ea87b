// The repeat schedule and the Run step's mark in the real web console (`ferry console`) and
// Chromium: the data directory holds verified runs of a task that repeats every 6 hours (as the
// runs.json Ferry writes: the operator's first, then a scheduled one); the Run step shows the next
// incremental run at the last end + 6 h and marks the scheduled run, the Task step's row shows the
// next run too, and the Run step is marked done. A second repeating task that never
// ran waits for its first run and turns the mark back to "to do"; in Chinese the line is Chinese.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plan, type Run } from '../../electron/contract/console.ts';
import { launchBrowser, watchPage, type PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { REPO_ROOT } from '../helpers/make-tree.ts';
import { ShellPage } from './pages/shell-page.ts';

// The run ended an hour ago (whole minutes), so its next slot is five hours ahead: nothing starts during the test.
const ENDED_MS = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const NEXT_AT = new Date(ENDED_MS + 6 * 3_600_000).toISOString();
const FIRST_ID = '3f1c1a52-6a1e-4c8e-9d51-0c6f3b9e2a10';
const SCHEDULED_ID = '9b2d4c61-1f0a-4e7b-8c3d-5a6e7f801b22';

let dataDir: string;
let server: ConsoleFixture;
let browser: Browser;
let page: Page;
let shell: ShellPage;
let watch: PageWatch;

async function call(name: string, req: unknown): Promise<unknown> {
  const { body } = await server.call(name, req);
  if (!body.ok) throw new Error(`${name}: ${body.error?.message}`);
  return body.result;
}

const task = (name: string) => ({ name, source: 'old', destination: 'new', repeatEveryHours: 6 });

/** A finished, verified run of `nightly` as runs.json stores it (the plan it started from included). */
function verifiedRun(id: string, trigger: Run['trigger'], endedMs: number): Run & { plan: Plan; created: boolean } {
  const plan = Plan.parse({
    version: 1,
    hosts: [{ name: 'src1', address: '198.18.250.10' }, { name: 'dst1', address: '198.18.250.11' }],
    tunnels: [{ name: 'old-nas', role: 'source', hosts: ['src1'] }, { name: 'new-nas', role: 'destination', hosts: ['dst1'] }],
    addresses: [{ name: 'old', tunnel: 'old-nas', directory: '/mnt/src' }, { name: 'new', tunnel: 'new-nas', directory: '/mnt/dst' }],
    tasks: [task('nightly')],
  });
  return {
    id, taskName: 'nightly', trigger, taskId: 'nightly-0123456789abcdef', state: 'done', phase: 'done', message: null, errorCode: null, failure: null,
    coordinator: 'dst1', sources: ['src1'], destinations: ['dst1'], createdAt: new Date(endedMs - 600_000).toISOString(), endedAt: new Date(endedMs).toISOString(), progress: null, passed: true, reportId: null, plan, created: true,
  };
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-schedule-e2e-'));
  // The operator's first run, then a scheduled one six hours later.
  const runs = [verifiedRun(FIRST_ID, 'manual', ENDED_MS - 6 * 3_600_000), verifiedRun(SCHEDULED_ID, 'schedule', ENDED_MS)];
  await fs.writeFile(path.join(dataDir, 'runs.json'), JSON.stringify({ version: 1, runs }));
  server = await startConsole({ dataDir });
  await call('hosts.add', { name: 'src1', address: '198.18.250.10' });
  await call('hosts.add', { name: 'dst1', address: '198.18.250.11' });
  await call('tunnels.save', { tunnel: { name: 'old-nas', role: 'source', hosts: ['src1'] } });
  await call('tunnels.save', { tunnel: { name: 'new-nas', role: 'destination', hosts: ['dst1'] } });
  await call('addresses.save', { address: { name: 'old', tunnel: 'old-nas', directory: '/mnt/src' } });
  await call('addresses.save', { address: { name: 'new', tunnel: 'new-nas', directory: '/mnt/dst' } });
  await call('taskDefs.save', { task: task('nightly') });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  watch = await watchPage(page);
  shell = new ShellPage(page);
  await shell.open(server.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('repeat schedule in the console', () => {
  it('shows the next incremental run on the Run and Task steps, and marks the Run step done', async () => {
    await shell.goTo('runs');
    const note = page.locator('[data-test=runs-task][data-name=nightly] [data-test=run-schedule]');
    await note.waitFor();
    expect(await note.getAttribute('data-state')).toBe('scheduled');
    expect(await note.getAttribute('data-next')).toBe(NEXT_AT);
    expect(await note.textContent()).toMatch(new RegExp(`Next incremental run .*:${NEXT_AT.slice(14, 16)}.*\\(every 6 h\\)`));
    await expect.poll(() => shell.navLink('runs').getAttribute('data-status')).toBe('done');
    // The scheduled run is marked in the list and on its page; the operator's is not.
    expect(await page.locator(`[data-test=run-row][data-id="${SCHEDULED_ID}"] [data-test=run-row-scheduled]`).textContent()).toBe('Scheduled');
    expect(await page.locator(`[data-test=run-row][data-id="${FIRST_ID}"] [data-test=run-row-scheduled]`).count()).toBe(0);
    await page.locator(`[data-test=run-row][data-id="${SCHEDULED_ID}"] [data-test=run-row-open]`).click();
    await page.locator('[data-test=run-scheduled]').waitFor();
    expect(await page.locator('[data-test=run-scheduled]').getAttribute('title')).toMatch(/incremental/);

    await shell.goTo('tasks');
    const row = page.locator('[data-test=task-row][data-name=nightly] [data-test=run-schedule]');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Next incremental run/);
    expect(watch.offsite).toEqual([]);
  });

  it('waits for the first run of a new repeating task, which turns the mark to do; in Chinese too', async () => {
    await call('taskDefs.save', { task: task('weekly') });
    await shell.goTo('runs');
    const note = page.locator('[data-test=runs-task][data-name=weekly] [data-test=run-schedule]');
    await note.waitFor();
    expect(await note.getAttribute('data-state')).toBe('waiting-first-run');
    expect(await note.textContent()).toContain('Repeats every 6 h as incremental runs once the first run has ended.');
    await expect.poll(() => shell.navLink('runs').getAttribute('data-status')).toBe('todo');
    // The README's tour shows this page.
    await fs.mkdir(path.join(REPO_ROOT, 'docs/screenshots'), { recursive: true });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(REPO_ROOT, 'docs/screenshots/run-schedule.png'), fullPage: true });
    await shell.localeSelect.selectOption('zh-CN');
    await expect.poll(() => note.textContent()).toContain('首次运行结束后，每 6 小时以增量方式重复运行。');
    expect(await page.locator('[data-test=runs-task][data-name=nightly] [data-test=run-schedule]').textContent()).toContain('下次增量运行');
    await shell.localeSelect.selectOption('en');
    expect(watch.unexpectedErrors()).toEqual([]);
    expect(watch.offsite).toEqual([]);
  });
});
