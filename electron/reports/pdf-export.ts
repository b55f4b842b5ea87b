/**
 * The PDF export of a report: the print-ready page (print-page.ts) written beside the exports as
 * `<name>.<random tag>.print.html` (one per export), printed by the shell's PdfPrinter (the desktop app's hidden window and
 * printToPDF), and saved atomically as `<data-dir>/exports/<name>.pdf`; the page is removed after.
 * Contract: what the printer returns must be a PDF ('%PDF-'), else nothing is saved and the error
 * says so; a shell without a printer never reaches this module (reports-service refuses 'pdf').
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { ReportHeader } from '../../agent/protocol/report.ts';
import type { ReportMeta } from '../contract/console.ts';
import { AtomicFileWriter } from './atomic-writer.ts';
import { exportFileName, exportsDir, resolveExportFile } from './export-files.ts';
import type { ExportResult } from './exporters.ts';
import { writePrintPage } from './print-page.ts';

/** Prints a local HTML page (no network, no script) to PDF bytes. */
export type PdfPrinter = (htmlFile: string) => Promise<Uint8Array>;

/**
 * The print-ready page of a report, as a file in the exports folder, for printing. A random tag in
 * its name gives each export its own page, so one export's cleanup never removes the page another
 * export of the same report is still printing.
 */
async function writePrintPageFile(dataDir: string, reportFile: string, meta: ReportMeta, header: ReportHeader): Promise<string> {
  await fs.mkdir(exportsDir(dataDir), { recursive: true, mode: 0o700 });
  const tag = randomBytes(4).toString('hex');
  const target = resolveExportFile(dataDir, exportFileName(meta.taskName, meta.finishedAt, meta.id, `${tag}.print.html`));
  const out = await AtomicFileWriter.open(target);
  try {
    await writePrintPage(out, reportFile, meta, header);
    await out.commit();
    return target;
  } catch (err) {
    await out.abort();
    throw err;
  }
}

export async function exportPdf(dataDir: string, reportFile: string, meta: ReportMeta, header: ReportHeader, print: PdfPrinter): Promise<ExportResult> {
  const page = await writePrintPageFile(dataDir, reportFile, meta, header);
  try {
    const pdf = await print(page);
    if (Buffer.from(pdf.subarray(0, 5)).toString('latin1') !== '%PDF-') throw new Error('The printer did not return a PDF document; nothing was saved. Try the export again.');
    const fileName = exportFileName(meta.taskName, meta.finishedAt, meta.id, 'pdf');
    const target = resolveExportFile(dataDir, fileName);
    const out = await AtomicFileWriter.open(target);
    try {
      await out.writeBytes(pdf);
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return { fileName, path: target, bytes: pdf.byteLength };
  } finally {
    await fs.rm(page, { force: true });
  }
}
