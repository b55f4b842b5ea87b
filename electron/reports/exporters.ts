/**
 * Writes a stored report as HTML, CSV or JSON into `<data-dir>/exports/`, atomically (a half-written
 * export never appears under its name). One name per report and format: exporting again replaces it.
 * JSON is the stored canonical report itself (the coordinator's streamed layout, paths normalized),
 * which importFile reads back unchanged. Never reads or writes outside the report and exports folders.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { ReportHeader } from '../../agent/protocol/report.ts';
import type { ReportExportFormat, ReportMeta } from '../contract/console.ts';
import { AtomicFileWriter } from './atomic-writer.ts';
import { CSV_HEADER, csvRow, problemCsvRow } from './csv.ts';
import { exportFileName, exportsDir, resolveExportFile } from './export-files.ts';
import { writeHtmlExport } from './html-export.ts';
import { eachStoredRecord } from './stored-report.ts';

export interface ExportResult {
  fileName: string;
  path: string;
  bytes: number;
}

/** UTF-8 byte order mark: spreadsheet programs otherwise guess a legacy code page for CSV. */
const BOM = '\ufeff';

/** The exports Ferry writes itself ('pdf' needs the shell's printer: pdf-export.ts). */
export type DirectExportFormat = Exclude<ReportExportFormat, 'pdf'>;

export async function exportReport(dataDir: string, reportFile: string, meta: ReportMeta, header: ReportHeader, format: DirectExportFormat): Promise<ExportResult> {
  await fs.mkdir(exportsDir(dataDir), { recursive: true, mode: 0o700 });
  const fileName = exportFileName(meta.taskName, meta.finishedAt, meta.id, format);
  const target = resolveExportFile(dataDir, fileName);
  const out = await AtomicFileWriter.open(target);
  try {
    if (format === 'html') await writeHtmlExport(out, reportFile, meta, header);
    else if (format === 'csv') await writeCsv(out, reportFile);
    else await copyInto(out, reportFile);
    const bytes = out.bytes;
    await out.commit();
    return { fileName, path: target, bytes };
  } catch (err) {
    await out.abort();
    throw err;
  }
}

async function writeCsv(out: AtomicFileWriter, reportFile: string): Promise<void> {
  await out.write(BOM + csvRow(CSV_HEADER));
  await eachStoredRecord(reportFile, (r) => out.write(problemCsvRow(r)));
}

/** The stored canonical file as it is (it is already the normalized JSON report). */
async function copyInto(out: AtomicFileWriter, reportFile: string): Promise<void> {
  for await (const chunk of createReadStream(reportFile, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) await out.writeBytes(chunk);
}
