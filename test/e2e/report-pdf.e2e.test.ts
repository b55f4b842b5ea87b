// The PDF export's print-ready page printed by real Chromium (Debian's, through playwright-core):
// the controller is given a printer that opens the page from disk with every request that is not
// the page itself aborted and counted, and prints it with page.pdf(), as the desktop app does with
// printToPDF. The PDF lands in <data-dir>/exports/<name>.pdf; poppler's pdftotext and pdfinfo read
// it back: the verdict, facts, counts, the problem rows (hostile names as text) and the note of the
// rows left out are in it, on several A4 pages, and the page fetched nothing and ran no script.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportHeader, ReportMeta } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { PRINT_PAGE_MAX_ROWS } from '../../electron/reports/print-page.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { REPO_ROOT, removeTree } from '../helpers/make-tree.ts';
import { writeFixtureReport } from '../helpers/report-fixture.ts';

const HOSTILE = Buffer.from('evil</td><script>alert(1)</script><b>bold</b>');
const PROBLEMS = 12_000;
const fmt = (n: number) => n.toLocaleString('en-US');

let tmp: string;
let browser: Browser;
let context: BrowserContext;
let controller: Controller;
let meta: ReportMeta;
let header: ReportHeader;
const printed: string[] = [];
const offsite: string[] = [];
const errors: string[] = [];

/** What the desktop app's printToPDF does, with Chromium's page.pdf(): the page alone, A4, backgrounds on. */
async function printWithChromium(htmlFile: string): Promise<Uint8Array> {
  const url = pathToFileURL(htmlFile).href;
  printed.push(url);
  const page = await context.newPage();
  page.on('request', (req) => {
    if (req.url() !== url) offsite.push(req.url());
  });
  page.on('console', (msg) => errors.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  try {
    await page.goto(url);
    return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  } finally {
    await page.close();
  }
}

/** The PDF's text by poppler's pdftotext: as laid out on the page, or in content order ('raw'). */
function pdfText(file: string, order: 'layout' | 'raw' = 'layout'): string {
  return execFileSync('pdftotext', [`-${order}`, '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function pdfInfo(file: string): Record<string, string> {
  const out = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Object.fromEntries(out.split('\n').flatMap((line) => (line.includes(':') ? [[line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()]] : [])));
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-report-pdf-e2e-'));
  const reportFile = path.join(tmp, 'report.json');
  await writeFixtureReport(reportFile, { problems: PROBLEMS, verified: 500, extraNames: [HOSTILE] });
  browser = await launchBrowser();
  context = await browser.newContext({ javaScriptEnabled: false, colorScheme: 'light', locale: 'en-US' });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (printed.includes(url)) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  controller = await Controller.open({ dataDir: path.join(tmp, 'data'), appVersion: '0.0.0-test', shell: 'electron', printPdf: printWithChromium });
  const imported = await controller.dispatch('reports.importFile', { path: reportFile, taskName: 'finance share' });
  if (!imported.ok) throw new Error(imported.error.message);
  meta = imported.result as ReportMeta;
  const got = await controller.dispatch('reports.get', { id: meta.id });
  if (!got.ok) throw new Error(got.error.message);
  header = (got.result as { header: ReportHeader }).header;
}, 240_000);

afterAll(async () => {
  await controller?.close();
  await browser?.close();
  if (tmp) removeTree(tmp);
});

describe('PDF export printed by Chromium', () => {
  it('writes a PDF of the print-ready page with the summary and the problems, fetching nothing', async () => {
    const started = performance.now();
    const result = await controller.dispatch('reports.export', { id: meta.id, format: 'pdf' });
    const ms = performance.now() - started;
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const file = result.result as { fileName: string; path: string; bytes: number };
    expect(path.dirname(file.path)).toBe(path.join(controller.dataDir, 'exports'));
    expect(file.fileName).toMatch(/^ferry-report-finance_share-.*\.pdf$/);
    const bytes = fs.readFileSync(file.path);
    expect(bytes.byteLength).toBe(file.bytes);
    expect(bytes.byteLength).toBeGreaterThan(10_000);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // Only the PDF is left in the exports folder (the printed page is removed).
    expect(fs.readdirSync(path.dirname(file.path))).toEqual([file.fileName]);
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);

    // Kept for a look by hand (test-output/ is not committed).
    fs.mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    fs.copyFileSync(file.path, path.join(REPO_ROOT, 'test-output/report-export-desktop.pdf'));
    const info = pdfInfo(file.path);
    const pages = Number(info.Pages);
    expect(pages).toBeGreaterThan(10);
    expect(info['Page size']).toMatch(/\(A4\)$/);

    const text = pdfText(file.path);
    expect(text).toContain('Ferry verification report');
    expect(text).toContain('FAILED');
    expect(text).toContain('/mnt/src/share');
    expect(text).toContain('/mnt/dst/share');
    expect(text).toContain(`finance share (${header.taskId})`);
    // Each count is its figure followed by its label, in reading order.
    const raw = pdfText(file.path, 'raw');
    for (const [label, n] of [
      ['Entries', header.summary.entries],
      ['Verified', header.summary.verified],
      ['Different', header.summary.different],
      ['Missing', header.summary.missing],
      ['Failed', header.summary.failed.total],
    ] as const) {
      expect(raw, label).toContain(`\n${fmt(n)}\n${label}\n`);
    }
    expect(text).toContain(`Problem entries (${fmt(PROBLEMS)})`);
    // Hostile names are text in the PDF, and the rows of the table are there.
    expect(text).toContain('evil</td><script>alert(1)</script><b>bold</b>');
    expect(text).toMatch(/data\/dir-\d+\/file-\d+\.dat/);
    expect(text).toContain('EACCES');
    expect(text.replace(/\s+/g, ' ')).toContain(`Listed the first ${fmt(PRINT_PAGE_MAX_ROWS)} of ${fmt(PROBLEMS)} problem entries; the CSV and JSON exports have every one.`);
    console.log(`PDF export: ${fmt(PROBLEMS)} problems, ${pages} A4 pages, ${fmt(bytes.byteLength)} bytes in ${Math.round(ms)} ms`);
  }, 240_000);
});
