// The Reports screen end to end: a real report from the real engine (`ferry migrate SRC DEST
// --report FILE` with agents running as nobody, on a tree with a FIFO, a socket, unreadable files
// and a name that is not UTF-8), imported through the UI; the summary against the report file
// itself; the problem table filtered and searched; HTML export downloaded and opened for printing;
// then a report of 100,005 problem records written by the engine's own report writer, to show the
// table stays virtual (few DOM rows) and reaches the last record. The real `ferry console`, the
// built renderer, Debian's Chromium; nothing may leave 127.0.0.1 or log an error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../agent/protocol/report.ts';
import { writeBigReport, type BigReport } from '../helpers/big-report.ts';
import { launchBrowser, watchPage, type PageWatch } from '../helpers/browser.ts';
import { startConsole, type ConsoleFixture } from '../helpers/console-fixture.ts';
import { buildEngine, runCliSync } from '../helpers/engine-build.ts';
import { makeTree, removeTree } from '../helpers/make-tree.ts';
import { ReportsPage } from './pages/reports-page.ts';
import { ShellPage } from './pages/shell-page.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, 'test-output/screenshots');
const DOCS = path.join(ROOT, 'docs/screenshots');
const NOBODY = 65534;
/** A name that is not UTF-8 (GBK for 你好), made unreadable so the copy fails on it. */
const GBK_SECRET = Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x2e, 0x74, 0x78, 0x74]);
const BIG_COUNT = 100_005;

let tmp: string;
let reportFile: string;
let report: Report;
let big: BigReport;
let fixture: ConsoleFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let shell: ShellPage;
let reports: ReportsPage;
let allowedErrors: RegExp[] = [];
let firstId = '';

/** Screenshots from the top, light and dark; `docs` also keeps the light one as the documented screenshot. */
async function shot(name: string, docs?: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.mouse.move(0, 0);
  await page.evaluate('window.scrollTo(0, 0)');
  const light = path.join(SHOTS, `${name}-light.png`);
  await page.screenshot({ path: light, fullPage: true });
  if (docs) {
    fs.mkdirSync(DOCS, { recursive: true });
    fs.copyFileSync(light, path.join(DOCS, docs));
  }
  await setTheme('dark');
  await page.screenshot({ path: path.join(SHOTS, `${name}-dark.png`), fullPage: true });
  await setTheme('light');
}

/** The header's theme switch; polled from outside the page (its CSP forbids evaluating strings inside). */
async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  await page.locator('label', { has: page.locator(`[data-test=theme-${theme}]`) }).click();
  await expect.poll(() => page.evaluate<string | null>(`document.documentElement.dataset.theme ?? null`)).toBe(theme);
}

/** A source tree with problem entries, copied by the real engine with its agents running as nobody. */
async function produceRealReport(): Promise<void> {
  const b = await buildEngine();
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  const state = path.join(tmp, 'state');
  await makeTree(src, { huge: false });
  fs.writeFileSync(path.join(src, 'secret.txt'), 'secret');
  fs.chmodSync(path.join(src, 'secret.txt'), 0o000);
  const gbk = Buffer.concat([Buffer.from(`${src}/`), GBK_SECRET]);
  fs.writeFileSync(gbk, 'gbk');
  fs.chmodSync(gbk, 0o000);
  for (const dir of [dst, state]) {
    fs.mkdirSync(dir);
    fs.chownSync(dir, NOBODY, NOBODY);
  }
  // The coordinator (as nobody) writes the report next to the trees.
  fs.chownSync(tmp, NOBODY, NOBODY);
  reportFile = path.join(tmp, 'report.json');
  const run = runCliSync(b, ['migrate', src, dst, '--json', '--state-dir', state, '--report', reportFile], { FERRY_TEST_AGENT_UID: String(NOBODY) });
  if (!fs.existsSync(reportFile)) throw new Error(`ferry migrate wrote no report (exit ${run.code}):\n${run.stderr.slice(-3000)}`);
  report = Report.parse(JSON.parse(fs.readFileSync(reportFile, 'utf8')));
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('This test runs the agents as nobody and needs root (as the engine integration tests do).');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-reports-e2e-'));
  fs.chmodSync(tmp, 0o755);
  await produceRealReport();
  big = await writeBigReport(tmp, BIG_COUNT);
  fixture = await startConsole();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
  watch = await watchPage(page);
  shell = new ShellPage(page);
  reports = new ReportsPage(page);
  await shell.open(fixture.url);
}, 300_000);

afterEach(() => {
  expect(watch.offsite, 'requests that left 127.0.0.1').toEqual([]);
  expect(watch.unexpectedErrors(allowedErrors), 'console errors').toEqual([]);
  watch.errors.length = 0;
  allowedErrors = [];
});

afterAll(async () => {
  await browser?.close();
  await fixture?.stop();
  if (tmp) removeTree(tmp);
});

describe('Reports screen', () => {
  it('is a real step now, and explains that reports appear when a task finishes', async () => {
    expect(await shell.navLink('reports').locator('.step-soon').count()).toBe(0);
    await shell.goTo('reports');
    await reports.empty.waitFor();
    expect(await reports.empty.textContent()).toContain('A report appears here when a task finishes');
    expect(await shell.navLink('reports').getAttribute('aria-current')).toBe('page');
  });

  it('shows Ferry’s reason at the field when a path is not a report', async () => {
    allowedErrors = [/status of 400/];
    await reports.importSubmit.click();
    expect(await reports.importError.textContent()).toBe('Enter the path of a report file.');
    await reports.importFile(path.join(tmp, 'no-such-report.json'));
    await expect.poll(() => reports.importError.getAttribute('data-code')).toBe('invalid-request');
    expect(await reports.importError.textContent()).toMatch(/no-such-report\.json/);
    expect(await reports.importPath.getAttribute('aria-invalid')).toBe('true');
    const notReport = path.join(tmp, 'not-a-report.json');
    fs.writeFileSync(notReport, '{"hello": "world"}\n');
    await reports.importFile(notReport);
    await expect.poll(() => reports.importError.textContent()).not.toMatch(/no-such-report/);
    expect((await fixture.call('reports.list')).body.result).toEqual([]);
  });

  it('imports the engine’s report and shows its verdict and summary first', async () => {
    await reports.importFile(reportFile);
    await page.locator('[data-test=report-summary], [data-test=report-import-error], [data-test=report-missing]').first().waitFor();
    expect(await reports.missing.count(), (await reports.missing.allTextContents()).join()).toBe(0);
    expect(await reports.importError.count(), (await reports.importError.allTextContents()).join()).toBe(0);
    expect(page.url()).toMatch(/#\/reports\/.+/);
    firstId = decodeURIComponent(page.url().split('#/reports/')[1] ?? '');
    const h = report;
    expect(h.passed).toBe(false); // unreadable files failed
    expect(await reports.verdict.getAttribute('data-verdict')).toBe('failed');
    expect(await reports.verdict.textContent()).toContain('Failed');
    expect(await page.locator('[data-test=report-source]').textContent()).toBe(h.source);
    expect(await page.locator('[data-test=report-destination]').textContent()).toBe(h.destination);
    expect(await page.locator('[data-test=report-duration]').textContent()).toMatch(/\d/);
    for (const [key, value] of [
      ['entries', h.summary.entries],
      ['files', h.summary.files],
      ['dirs', h.summary.dirs],
      ['copied', h.summary.copied],
      ['bytesCopied', h.summary.bytesCopied],
      ['failed', h.summary.failed.total],
      ['skipped', h.summary.skipped.total],
    ] as const) {
      expect(await reports.count(key).getAttribute('data-value'), key).toBe(String(value));
    }
    expect(h.summary.failed.byReason.EACCES).toBeGreaterThanOrEqual(3);
    expect(await reports.count('failed').textContent()).toContain('EACCES');
    expect(h.summary.skipped.byReason).toMatchObject({ fifo: 1 });
  });

  it('lists the problem entries with counts per category, and filters by category', async () => {
    const byCategory = (c: string) => report.problems.filter((p) => p.category === c);
    await expect.poll(() => reports.shownTotal()).toBe(report.problems.length);
    await expect.poll(() => reports.filter('all').getAttribute('data-count')).toBe(String(report.problems.length));
    expect(await reports.filter('failed').getAttribute('data-count')).toBe(String(byCategory('failed').length));
    expect(await reports.filter('skipped').getAttribute('data-count')).toBe(String(byCategory('skipped').length));

    await reports.filter('failed').click();
    await expect.poll(() => reports.shownTotal()).toBe(byCategory('failed').length);
    expect(await reports.filter('failed').getAttribute('aria-pressed')).toBe('true');
    await reports.waitForPath('secret.txt');
    const failed = await reports.visibleRecords();
    expect(failed.map((r) => r.category)).toEqual(byCategory('failed').map(() => 'failed'));
    expect(failed.map((r) => r.path).sort()).toEqual(expect.arrayContaining(['secret.txt', 'modes/unreadable', '\\xc4\\xe3\\xba\\xc3.txt']));
    expect(failed.find((r) => r.path === 'secret.txt')?.reason).toMatch(/permission denied|EACCES/i);
    // The name that is not UTF-8 is shown escaped, as text, and flagged.
    const gbkRow = page.locator('[data-test=vt-row]', { has: page.locator('[data-test=problem-path]', { hasText: '\\xc4\\xe3\\xba\\xc3.txt' }) });
    expect(await gbkRow.locator('.raw-badge').textContent()).toBe('not UTF-8');
    await gbkRow.click();
    expect(await page.locator('[data-test=detail-raw]').textContent()).toContain('c4 e3 ba c3 2e 74 78 74');

    await reports.filter('skipped').click();
    await expect.poll(() => reports.shownTotal()).toBe(byCategory('skipped').length);
    await reports.waitForPath('special/fifo');
    expect((await reports.visibleRecords()).every((r) => r.category === 'skipped')).toBe(true);
  });

  it('searches by path (debounced), with the counts following the search', async () => {
    await reports.filter('all').click();
    await reports.search.fill('SPECIAL/');
    const expected = report.problems.filter((p) => p.path.display.toLowerCase().includes('special/'));
    expect(expected.length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => reports.shownTotal()).toBe(expected.length);
    await reports.waitForPath('special/fifo');
    expect((await reports.visibleRecords()).map((r) => r.path).sort()).toEqual(expected.map((p) => p.path.display).sort());
    await expect.poll(() => reports.filter('all').getAttribute('data-count')).toBe(String(expected.length));
    await reports.search.fill('nothing-is-called-like-this');
    await page.locator('[data-test=problems-no-match]').waitFor();
    await reports.search.fill('');
    await expect.poll(() => reports.shownTotal()).toBe(report.problems.length);
  });

  it('moves through the table with the keyboard, with visible focus', async () => {
    await reports.search.focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | null>(`document.activeElement?.getAttribute('role') ?? null`)).toBe('grid');
    const outline = await page.evaluate<string>(`getComputedStyle(document.activeElement).outlineStyle`);
    expect(outline).not.toBe('none');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    const last = report.problems[report.problems.length - 1];
    expect(await page.locator('[data-test=detail-path]').textContent()).toBe(last?.path.display);
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    expect(await page.locator('[data-test=detail-path]').textContent()).toBe(report.problems[1]?.path.display);
    const active = await reports.table.getAttribute('aria-activedescendant');
    expect(await page.locator(`[id="${active}"]`).getAttribute('aria-rowindex')).toBe('3');
  });

  it('exports HTML, CSV and JSON as downloads, and prints the report from a tab of its own', async () => {
    const [html] = await Promise.all([page.waitForEvent('download'), reports.exportButton('html').click()]);
    expect(html.suggestedFilename()).toMatch(/\.html$/);
    const htmlText = fs.readFileSync(await html.path(), 'utf8');
    expect(htmlText).toContain(report.source);
    expect(htmlText).toContain('secret.txt');
    expect(htmlText).not.toMatch(/<script[^>]*\ssrc=/); // self-contained
    await reports.exportDone.waitFor();
    expect(await reports.exportDone.textContent()).toContain(html.suggestedFilename());

    const [csv] = await Promise.all([page.waitForEvent('download'), reports.exportButton('csv').click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const csvLines = fs.readFileSync(await csv.path(), 'utf8').trim().split(/\r?\n/);
    expect(csvLines.length).toBeGreaterThanOrEqual(report.problems.length + 1);
    const [json] = await Promise.all([page.waitForEvent('download'), reports.exportButton('json').click()]);
    const exported = Report.parse(JSON.parse(fs.readFileSync(await json.path(), 'utf8')));
    expect(exported.problems).toHaveLength(report.problems.length);

    // Print / PDF: the console draws the report into a tab of its own and opens the print dialog.
    const [printTab] = await Promise.all([context.waitForEvent('page'), reports.exportButton('print').click()]);
    await printTab.locator('[data-test=print-verdict]').waitFor();
    expect(await printTab.locator('[data-test=print-verdict]').getAttribute('data-verdict')).toBe('failed');
    expect(await printTab.locator('[data-test=print-facts]').textContent()).toContain(report.source);
    expect(await printTab.locator('[data-test=print-row]').count()).toBe(report.problems.length);
    expect(await printTab.locator('[data-test=print-problems]').textContent()).toContain('\\xc4\\xe3\\xba\\xc3.txt');
    expect(await printTab.locator('[data-test=print-scope]').textContent()).toBe(`All: ${report.problems.length} entries.`);
    expect(await printTab.evaluate<number>('document.scripts.length')).toBe(0);
    await printTab.close();
    expect(await reports.exportDone.textContent()).toContain('print');
  });

  it('reads in Simplified Chinese too', async () => {
    await shell.localeSelect.selectOption('zh-CN');
    await expect.poll(() => shell.htmlLang()).toBe('zh-CN');
    expect(await reports.verdict.textContent()).toContain('未通过');
    expect(await reports.filter('failed').textContent()).toContain('失败');
    expect(await page.locator('[data-test=report-started]').textContent()).toMatch(/2\d{3}年\d{1,2}月\d{1,2}日/);
    await page.screenshot({ path: path.join(SHOTS, 'report-zh-CN.png'), fullPage: true });
    await shell.localeSelect.selectOption('en');
    await expect.poll(() => shell.htmlLang()).toBe('en');
  });

  it('lists the report, newest first, and keeps screenshots of both pages', async () => {
    await shot('report', 'report.png');
    await reports.back.click();
    await reports.row(firstId).waitFor();
    const row = reports.row(firstId);
    expect(await row.getAttribute('data-verdict')).toBe('failed');
    expect(await row.locator('[data-test=report-row-problems]').textContent()).toBe(String(report.problems.length));
    expect(await row.locator('[data-test=report-row-source]').textContent()).toBe(report.source);
    await shot('reports', 'reports.png');
  });

  it('opens a link to a report that does not exist with an explanation', async () => {
    allowedErrors = [/status of 404/];
    await page.evaluate(`window.location.hash = '#/reports/no-such-report'`);
    await reports.missing.waitFor();
    expect(await reports.missing.textContent()).toContain('This report no longer exists');
    await reports.missing.locator('a.btn').click();
    await reports.row(firstId).waitFor();
  });
});

describe('a report with 100,005 problem records', () => {
  let bigId = '';

  it('imports it, and the table renders only the rows in view', async () => {
    await reports.importFile(big.file);
    await reports.summary.waitFor({ timeout: 60_000 });
    bigId = decodeURIComponent(page.url().split('#/reports/')[1] ?? '');
    await expect.poll(() => reports.shownTotal(), { timeout: 60_000 }).toBe(BIG_COUNT);
    expect(await reports.count('failed').getAttribute('data-value')).toBe(String(BIG_COUNT));
    await reports.waitForPath('bulk/d00/file-0');
    const rows = await reports.tableRows.count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(60);
    expect(Number(await reports.table.getAttribute('aria-rowcount'))).toBe(BIG_COUNT + 1);
  });

  it('scrolls to the end and shows the last record, still with few DOM rows', async () => {
    const started = Date.now();
    await reports.table.focus();
    await page.keyboard.press('End');
    await reports.waitForPath(big.lastPath);
    const endMs = Date.now() - started;
    const visible = await reports.visibleRecords();
    expect(visible.at(-1)).toMatchObject({ index: BIG_COUNT - 1, path: big.lastPath });
    expect(await reports.tableRows.count()).toBeLessThan(60);
    // Dragging the scrollbar half way: the rows there, fetched on demand.
    await page.evaluate(`(() => { const el = document.querySelector('[data-test=virtual-table]'); el.scrollTop = el.scrollHeight / 2; })()`);
    const nearMiddle = async () => {
      const rows = await reports.visibleRecords();
      return rows.length > 5 && Math.abs((rows[0]?.index ?? 0) - BIG_COUNT / 2) < 100;
    };
    await expect.poll(nearMiddle).toBe(true);
    const middle = await reports.visibleRecords();
    expect(Math.abs((middle[0]?.index ?? 0) - BIG_COUNT / 2)).toBeLessThan(100);
    expect(middle[0]?.path).toBe(`bulk/d${String((middle[0]?.index ?? 0) % 100).padStart(2, '0')}/file-${middle[0]?.index}`);
    expect(await reports.tableRows.count()).toBeLessThan(60);

    // Smoothness: scroll 720 px per frame for 120 frames and time the frames; the DOM stays small throughout.
    const frames = await page.evaluate<{ gaps: number[]; maxRows: number }>(`new Promise((resolve) => {
      const el = document.querySelector('[data-test=virtual-table]');
      const gaps = [];
      let maxRows = 0;
      let last = performance.now();
      let n = 0;
      const step = () => {
        const now = performance.now();
        gaps.push(now - last);
        last = now;
        maxRows = Math.max(maxRows, el.querySelectorAll('[data-test=vt-row]').length);
        el.scrollTop += 720;
        if (++n < 120) requestAnimationFrame(step);
        else resolve({ gaps: gaps.slice(1), maxRows });
      };
      requestAnimationFrame(step);
    })`);
    const sorted = [...frames.gaps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    expect(frames.maxRows).toBeLessThan(60);
    console.log(
      `reports e2e: scrolled 120 frames, median frame ${median.toFixed(1)} ms, worst ${(sorted.at(-1) ?? 0).toFixed(1)} ms, at most ${frames.maxRows} DOM rows`,
    );
    console.log(`reports e2e: ${BIG_COUNT} records written in ${big.writeMs} ms; End showed the last record after ${endMs} ms`);
  });

  it('removes it after confirmation', async () => {
    await reports.removeButton.click();
    await reports.confirmRemove.waitFor();
    expect(await page.evaluate<string | null>(`document.activeElement?.getAttribute('data-test') ?? null`)).toBe('confirm-remove');
    await reports.confirmRemove.click();
    await reports.row(firstId).waitFor();
    expect(await page.locator('[data-test=report-removed]').textContent()).toBe('Removed the report of imported.');
    expect(await reports.row(bigId).count()).toBe(0);
    const listed = (await fixture.call('reports.list')).body.result as Array<{ id: string }>;
    expect(listed.map((r) => r.id)).toEqual([firstId]);
  });
});
