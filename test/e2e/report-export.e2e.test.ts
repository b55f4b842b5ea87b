// The HTML export of a report, opened from disk (file://) in Debian's Chromium with every request
// that is not file:// aborted and counted: nothing may be fetched. A real report (the coordinator's
// writer, 100,000+ problem records, hostile and non-UTF-8 names) is imported and exported through the
// controller; then the verdict and counts, the virtual rows, the category filter, the path search,
// hostile names shown as text, scrolling to the end with few rows in the DOM, and the print layout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportHeader, ReportMeta } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { REPO_ROOT, removeTree } from '../helpers/make-tree.ts';
import { writeFixtureReport } from '../helpers/report-fixture.ts';

const HOSTILE = Buffer.from('evil</script><img src=x onerror=alert(1)><b>bold</b>');
const NON_UTF8 = Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x2d, 0xff, 0xfe]); // "name-" + two undecodable bytes
const NEWLINE = Buffer.from('two\nlines');
const PROBLEMS = 100_002;
const SHOT = path.join(REPO_ROOT, 'test-output/screenshots/report-export.png');
const DOCS_SHOT = path.join(REPO_ROOT, 'docs/screenshots/report-export.png');

let tmp: string;
let htmlFile: string;
let header: ReportHeader;
let browser: Browser;
let page: Page;
const offsite: string[] = [];
const errors: string[] = [];
const dialogs: string[] = [];

const fmt = (n: number) => n.toLocaleString('en-US');
const rowCount = () => page.locator('[data-testid="problem-row"]').count();
const shownCount = () => page.getByTestId('shown-count').textContent();
const visiblePaths = () => page.locator('[data-testid="problem-row"] .path').allTextContents();

/** Waits until the virtual list has rendered after a change (two animation frames). */
async function settle(): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

async function search(text: string): Promise<void> {
  await page.getByTestId('filter-search').fill(text);
  await page.getByTestId('filter-search').press('Enter');
  await settle();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-report-e2e-'));
  const reportFile = path.join(tmp, 'report.json');
  await writeFixtureReport(reportFile, { problems: PROBLEMS, verified: 2_000, extraNames: [HOSTILE, NON_UTF8, NEWLINE] });
  const controller = await Controller.open({ dataDir: path.join(tmp, 'data'), appVersion: '0.0.0-test', shell: 'web' });
  const imported = await controller.dispatch('reports.importFile', { path: reportFile, taskName: 'finance share' });
  if (!imported.ok) throw new Error(imported.error.message);
  const meta = imported.result as ReportMeta;
  const got = await controller.dispatch('reports.get', { id: meta.id });
  if (!got.ok) throw new Error(got.error.message);
  header = (got.result as { header: ReportHeader }).header;
  const exported = await controller.dispatch('reports.export', { id: meta.id, format: 'html' });
  if (!exported.ok) throw new Error(exported.error.message);
  htmlFile = (exported.result as { path: string }).path;

  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, colorScheme: 'light', locale: 'en-US' });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('request', (req) => {
    if (!req.url().startsWith('file://')) offsite.push(req.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(pathToFileURL(htmlFile).href);
  await page.locator('html[data-ready="true"]').waitFor();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) removeTree(tmp);
});

describe('HTML report export, opened offline', () => {
  it('loads with zero network requests, no errors and no CSP violations', async () => {
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.title()).toMatch(/^Ferry report: FAILED: finance share/);
  });

  it('shows the verdict first and the counts', async () => {
    const verdict = page.getByTestId('verdict');
    await expect.poll(() => verdict.isVisible()).toBe(true);
    expect(await verdict.getAttribute('data-passed')).toBe('false');
    expect(await verdict.locator('.verdict-word').textContent()).toBe('FAILED');
    const s = header.summary;
    const counts: [string, number][] = [
      ['entries', s.entries],
      ['copied', s.copied],
      ['verified', s.verified],
      ['different', s.different],
      ['missing', s.missing],
      ['extra', s.extra],
      ['changed', s.changedDuringMigration],
      ['skipped', s.skipped.total],
      ['failed', s.failed.total],
      ['skipped-unchanged', s.skippedUnchanged],
    ];
    for (const [id, n] of counts) {
      expect(await page.getByTestId(`count-${id}`).locator('.n').textContent(), id).toBe(fmt(n));
      expect(await page.getByTestId(`count-${id}`).isVisible()).toBe(true);
    }
    expect(await page.getByTestId('count-failed').textContent()).toContain(`EACCES: ${fmt(s.failed.byReason.EACCES ?? 0)}`);
    expect(await page.getByTestId('failed-reasons').textContent()).toContain('EIO');
    expect(await page.getByTestId('fact-source').textContent()).toBe('/mnt/src/share');
    expect(await page.getByTestId('fact-destination').textContent()).toBe('/mnt/dst/share');
    // The verdict comes before everything else in the document.
    const order = await page.evaluate<boolean>(`(() => {
      const v = document.querySelector('[data-testid="verdict"]');
      const c = document.querySelector('[data-testid="count-entries"]');
      const rows = document.querySelector('[data-testid="rows-viewport"]');
      const after = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
      return Boolean(v && c && rows && after(v, c) && after(c, rows));
    })()`);
    expect(order).toBe(true);
  });

  it('renders the first rows, hostile names as plain text', async () => {
    expect(await shownCount()).toBe(`${fmt(PROBLEMS)} problem entries`);
    const paths = await visiblePaths();
    expect(paths.length).toBeGreaterThan(10);
    expect(paths[0]).toBe(HOSTILE.toString());
    expect(paths).toContain('name-\\xff\\xfe');
    expect(paths).toContain('two\\nlines');
    expect(await page.locator('img, b, iframe, object, embed').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(await page.locator('[data-testid="problem-row"] .path', { hasText: 'name-' }).getAttribute('title')).toContain(`exact bytes (base64): ${NON_UTF8.toString('base64')}`);
    await fs.promises.mkdir(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });
    await fs.promises.mkdir(path.dirname(DOCS_SHOT), { recursive: true });
    await fs.promises.copyFile(SHOT, DOCS_SHOT);
  });

  it('filters by category', async () => {
    const options = await page.getByTestId('filter-category').locator('option').allTextContents();
    const failedTotal = header.summary.failed.total;
    expect(options).toContain(`Failed (${fmt(failedTotal)})`);
    await page.getByTestId('filter-category').selectOption({ label: `Failed (${fmt(failedTotal)})` });
    await settle();
    expect(await shownCount()).toBe(`${fmt(failedTotal)} of ${fmt(PROBLEMS)} problem entries`);
    const cats = await page.locator('[data-testid="problem-row"] .cat').allTextContents();
    expect(cats.length).toBeGreaterThan(10);
    expect(new Set(cats)).toEqual(new Set(['Failed']));
    await page.getByTestId('filter-category').selectOption({ label: `Missing (${fmt(header.summary.missing)})` });
    await settle();
    expect(new Set(await page.locator('[data-testid="problem-row"] .cat').allTextContents())).toEqual(new Set(['Missing']));
    await page.getByTestId('filter-category').selectOption({ index: 0 });
    await settle();
    expect(await shownCount()).toBe(`${fmt(PROBLEMS)} problem entries`);
  });

  it('searches in paths, case-insensitively, also together with the category', async () => {
    await search('FILE-4242.DAT');
    expect(await visiblePaths()).toEqual([`data/dir-${4242 % 997}/file-4242.dat`]);
    expect(await shownCount()).toBe(`1 of ${fmt(PROBLEMS)} problem entries`);
    await search('</script>');
    expect(await visiblePaths()).toEqual([HOSTILE.toString()]);
    await search('\\xff');
    expect(await visiblePaths()).toEqual(['name-\\xff\\xfe']);
    await search('no such file anywhere');
    expect(await rowCount()).toBe(0);
    expect(await page.locator('#empty').isVisible()).toBe(true);
    await search('dir-7/');
    const skippedLabel = (await page.getByTestId('filter-category').locator('option').allTextContents()).find((o) => o.startsWith('Skipped'));
    await page.getByTestId('filter-category').selectOption({ label: skippedLabel as string });
    await settle();
    const paths = await visiblePaths();
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.includes('dir-7/'))).toBe(true);
    expect(new Set(await page.locator('[data-testid="problem-row"] .cat').allTextContents())).toEqual(new Set(['Skipped']));
    await page.getByTestId('filter-category').selectOption({ index: 0 });
    await search('');
    expect(await shownCount()).toBe(`${fmt(PROBLEMS)} problem entries`);
  });

  it('scrolls through 100,000 rows with only a few in the DOM', async () => {
    const viewport = page.getByTestId('rows-viewport');
    const started = Date.now();
    for (const fraction of [0.25, 0.5, 0.75, 1]) {
      await viewport.evaluate((el, f) => (el.scrollTop = (el.scrollHeight - el.clientHeight) * f), fraction);
      await settle();
      const inDom = await rowCount();
      expect(inDom).toBeGreaterThan(10);
      expect(inDom).toBeLessThan(120);
    }
    const scrollMs = Date.now() - started;
    const lastIndex = await page.locator('[data-testid="problem-row"]').last().getAttribute('aria-rowindex');
    expect(Number(lastIndex)).toBe(PROBLEMS + 1);
    expect(await page.locator('[data-testid="problem-row"]').last().isVisible()).toBe(true);
    console.log(`report export: scrolled 100,002 rows in four jumps in ${scrollMs} ms`);
    await viewport.evaluate((el) => (el.scrollTop = 0));
    await settle();
    expect(await page.locator('[data-testid="problem-row"]').first().getAttribute('aria-rowindex')).toBe('2');
  });

  it('prints a clean document: summary and a plain table, no controls', async () => {
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(`window.dispatchEvent(new Event('beforeprint'))`);
    expect(await page.getByTestId('rows-viewport').isVisible()).toBe(false);
    expect(await page.getByTestId('filter-search').isVisible()).toBe(false);
    expect(await page.getByTestId('verdict').isVisible()).toBe(true);
    expect(await page.locator('#print-rows tr').count()).toBe(5000);
    expect(await page.locator('#print-note').textContent()).toMatch(/Printed the first 5,000 of 100,002 entries\. The complete list is in the CSV or JSON export\./);
    const pdf = await page.pdf({ path: path.join(REPO_ROOT, 'test-output/report-export.pdf'), format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.emulateMedia({ media: 'screen' });
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
  });
});
