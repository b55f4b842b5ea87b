/**
 * The PDF export outside Electron: the print-ready page (static, no script, a CSP that allows only
 * its stylesheet, hostile names as text, the first PRINT_PAGE_MAX_ROWS rows and a note of the
 * rest), the file names, a print page per export (two at once), the web console's refusal that says where PDFs come from, a printer that
 * returns something other than a PDF (nothing saved), removal with the report (print pages left
 * behind included), and which export
 * buttons each shell shows. The printer here is a plain function; the Chromium e2e test prints for real.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportMeta } from '../../electron/contract/console.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { exportFileName } from '../../electron/reports/export-files.ts';
import { PRINT_CSS, PRINT_PAGE_MAX_ROWS } from '../../electron/reports/print-page.ts';
import { exportFormats } from '../../renderer/src/domain/reports.ts';
import { writeFixtureReport } from '../helpers/report-fixture.ts';

const HOSTILE = Buffer.from('evil</td><script>alert(1)</script><b>bold</b>');
const PROBLEMS = PRINT_PAGE_MAX_ROWS + 7;

let tmp: string;
let reportFile: string;
let pages: string[];
let answer: Uint8Array;
/** The desktop shell's printer: reads the page it is given and answers `answer`. */
const readPage = async (htmlFile: string): Promise<Uint8Array> => {
  pages.push(await fs.readFile(htmlFile, 'utf8'));
  return answer;
};
let printer = readPage;
let desktop: Controller;
let web: Controller;
/** The report as each controller stored it (ids differ). */
let meta: ReportMeta;
let webMeta: ReportMeta;

async function exportsOf(c: Controller): Promise<string[]> {
  return (await fs.readdir(path.join(c.dataDir, 'exports')).catch(() => [] as string[])).sort();
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-report-pdf-'));
  reportFile = path.join(tmp, 'report.json');
  await writeFixtureReport(reportFile, { problems: PROBLEMS, verified: 10, extraNames: [HOSTILE] });
  pages = [];
  answer = Buffer.from('%PDF-1.7\n% a stand-in document\n%%EOF\n');
  desktop = await Controller.open({
    dataDir: path.join(tmp, 'desktop'),
    appVersion: '0.0.0-test',
    shell: 'electron',
    printPdf: (htmlFile) => printer(htmlFile),
  });
  web = await Controller.open({ dataDir: path.join(tmp, 'web'), appVersion: '0.0.0-test', shell: 'web' });
  const importInto = async (c: Controller) => {
    const imported = await c.dispatch('reports.importFile', { path: reportFile, taskName: 'finance share' });
    if (!imported.ok) throw new Error(imported.error.message);
    return imported.result as ReportMeta;
  };
  meta = await importInto(desktop);
  webMeta = await importInto(web);
}, 120_000);

afterAll(async () => {
  await desktop?.close();
  await web?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('PDF export', () => {
  it('prints the print-ready page and saves the PDF as <data-dir>/exports/<name>.pdf, leaving no page behind', async () => {
    const result = await desktop.dispatch('reports.export', { id: meta.id, format: 'pdf' });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const file = result.result as { fileName: string; path: string; bytes: number };
    expect(file.fileName).toBe(exportFileName('finance share', meta.finishedAt, meta.id, 'pdf'));
    expect(file.fileName).toMatch(/^ferry-report-finance_share-\d{8}T\d{6}Z-[A-Za-z0-9]{8}\.pdf$/);
    expect(file.path).toBe(path.join(desktop.dataDir, 'exports', file.fileName));
    expect(file.bytes).toBe(answer.byteLength);
    expect(await fs.readFile(file.path)).toEqual(Buffer.from(answer));
    expect(await exportsOf(desktop)).toEqual([file.fileName]);
    expect(pages).toHaveLength(1);
  });

  it('prints a static page: no script, a CSP allowing only its stylesheet, hostile names as text, the first rows and a note of the rest', () => {
    const page = pages[0] as string;
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain(`content="default-src 'none'; style-src 'sha256-`);
    expect(page).toContain(`<style>${PRINT_CSS}</style>`);
    expect(page).not.toContain('<b>bold</b>');
    expect(page).toContain('evil&#60;/td&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;b&#62;bold&#60;/b&#62;');
    expect(page.match(/<td class="path">/g)).toHaveLength(PRINT_PAGE_MAX_ROWS);
    expect(page).toContain('data-testid="verdict" data-passed="false"');
    expect(page).toContain(`Problem entries (${PROBLEMS.toLocaleString('en-US')})`);
    expect(page).toContain(`Listed the first ${PRINT_PAGE_MAX_ROWS.toLocaleString('en-US')} of ${PROBLEMS.toLocaleString('en-US')} problem entries; the CSV and JSON exports have every one.`);
    expect(page).toMatch(/<dd data-testid="fact-source">\/mnt\/src\/share<\/dd>/);
  });

  it('saves nothing when the printer answers something that is not a PDF', async () => {
    const before = await exportsOf(desktop);
    answer = Buffer.from('<html>not a pdf</html>');
    const result = await desktop.dispatch('reports.export', { id: meta.id, format: 'csv' });
    expect(result.ok).toBe(true);
    const failed = await desktop.dispatch('reports.export', { id: meta.id, format: 'pdf' });
    expect(failed.ok).toBe(false);
    if (!failed.ok) expect(failed.error.message).toMatch(/did not return a PDF document; nothing was saved/);
    const csv = exportFileName('finance share', meta.finishedAt, meta.id, 'csv');
    expect(await exportsOf(desktop)).toEqual([...before, csv].sort());
    answer = Buffer.from('%PDF-1.7\n%%EOF\n');
  });

  /** Resolves once `file` is gone (polled; gives up after 10 s and lets the assertions speak). */
  async function removed(file: string): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (!(await fs.stat(file).then(() => true, () => false))) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('gives two PDF exports of one report at once their own print page, so neither removes the other’s', async () => {
    const printed: string[] = [];
    let bothPrinting!: () => void;
    const both = new Promise<void>((resolve) => (bothPrinting = resolve));
    let first: Promise<unknown> = Promise.resolve();
    let second: Promise<unknown> = Promise.resolve();
    printer = async (htmlFile) => {
      printed.push(htmlFile);
      const later = printed.length === 2;
      if (later) {
        bothPrinting();
        // The later printer loads its page only once the earlier export cleaned up its own page.
        await removed(printed[0] as string);
      } else {
        // The earlier one waits until the other export prints too (or ended before it could).
        await Promise.race([both, first, second]);
      }
      return readPage(htmlFile);
    };
    try {
      first = desktop.dispatch('reports.export', { id: meta.id, format: 'pdf' });
      second = desktop.dispatch('reports.export', { id: meta.id, format: 'pdf' });
      const results = await Promise.all([first, second]);
      expect(results.map((r) => (r as { ok: boolean }).ok), JSON.stringify(results)).toEqual([true, true]);
    } finally {
      printer = readPage;
    }
    expect(printed).toHaveLength(2);
    expect(printed[0]).not.toBe(printed[1]);
    for (const page of printed) expect(path.basename(page)).toMatch(/^ferry-report-finance_share-\d{8}T\d{6}Z-[A-Za-z0-9]{8}\.[0-9a-f]{8}\.print\.html$/);
    expect((await exportsOf(desktop)).filter((n) => n.endsWith('.print.html'))).toEqual([]);
  });

  it('is refused in the web console with where PDFs come from, writing nothing', async () => {
    const result = await web.dispatch('reports.export', { id: webMeta.id, format: 'pdf' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid-request');
    expect(result.error.message).toMatch(/desktop app.*"Print \/ PDF".*"Save as PDF"/);
    expect(result.error.issues?.[0]?.path).toBe('format');
    expect(await exportsOf(web)).toEqual([]);
    // The other formats still work there.
    expect((await web.dispatch('reports.export', { id: webMeta.id, format: 'html' })).ok).toBe(true);
  });

  it('removes the PDF with its report, and a print page a crash mid-print left behind', async () => {
    expect((await desktop.dispatch('reports.export', { id: meta.id, format: 'pdf' })).ok).toBe(true);
    expect((await exportsOf(desktop)).some((n) => n.endsWith('.pdf'))).toBe(true);
    // What a crash between writing the page and removing it leaves (tagged, and the older untagged name).
    const leftovers = [exportFileName('finance share', meta.finishedAt, meta.id, '3f9a0c1b.print.html'), exportFileName('finance share', meta.finishedAt, meta.id, 'print.html')];
    for (const name of leftovers) await fs.writeFile(path.join(desktop.dataDir, 'exports', name), pages[0] as string);
    expect(await exportsOf(desktop)).toEqual(expect.arrayContaining(leftovers));
    expect((await desktop.dispatch('reports.remove', { id: meta.id })).ok).toBe(true);
    expect(await exportsOf(desktop)).toEqual([]);
  });

  it('shows the PDF button only in the desktop app', () => {
    expect(exportFormats('electron')).toEqual(['html', 'csv', 'json', 'pdf']);
    expect(exportFormats('web')).toEqual(['html', 'csv', 'json']);
  });
});
