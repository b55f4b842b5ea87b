/**
 * Stored verification reports for the console: list, get, paged problems, import, export, remove.
 * Storage is report-store.ts (`<data-dir>/reports/`), paging is problem-index.ts (an index built while
 * importing, saved beside the report by index-file.ts, rebuilt by one streamed pass when missing; kept
 * in memory for the last INDEX_CACHE_SIZE reports), exports are exporters.ts (`<data-dir>/exports/`; PDF through the shell's printer: pdf-export.ts).
 * Contract: bad input (a file that is not a valid report, an unknown id) is a ControllerError with a
 * message that says what to do; nothing is stored then. Removing a report also removes the exports
 * made from it (they hold its data). Every change emits the full list once.
 */
import type { CallRequestParsed, CallResponse, ReportHeader, ReportMeta } from '../contract/console.ts';
import { ControllerError } from '../controller/errors.ts';
import { promises as fs } from 'node:fs';
import { removeExportsOf } from './export-files.ts';
import { exportReport } from './exporters.ts';
import { exportPdf, type PdfPrinter } from './pdf-export.ts';
import { loadIndexFile, saveIndexFile } from './index-file.ts';
import { indexReportFile, type ProblemIndex } from './problem-index.ts';
import { ReportFileError } from './report-file.ts';
import { ReportStore, type StoredReport } from './report-store.ts';

/** Problem indexes kept in memory (the console shows one report at a time; a few keep switching cheap). */
const INDEX_CACHE_SIZE = 4;

export class ReportsService {
  private readonly store: ReportStore;
  private readonly indexes = new Map<string, Promise<ProblemIndex>>();

  constructor(
    readonly dataDir: string,
    private readonly onChange: (reports: ReportMeta[]) => void,
    /** The shell's PDF printer (desktop app); null where there is none (web console, CLI). */
    private readonly printPdf: PdfPrinter | null = null,
  ) {
    this.store = new ReportStore(dataDir);
  }

  async list(): Promise<ReportMeta[]> {
    return (await this.store.list()).map((r) => r.meta);
  }

  async get(req: CallRequestParsed<'reports.get'>): Promise<CallResponse<'reports.get'>> {
    const stored = await this.find(req.id);
    return { meta: stored.meta, header: await this.store.header(stored.meta.id) };
  }

  async problems(req: CallRequestParsed<'reports.problems'>): Promise<CallResponse<'reports.problems'>> {
    const stored = await this.find(req.id);
    const index = await this.problemIndex(stored.meta.id);
    return index.page(req);
  }

  async importFile(req: CallRequestParsed<'reports.importFile'>): Promise<ReportMeta> {
    let result;
    try {
      result = await this.store.import(req.path, req.taskName);
    } catch (err) {
      if (err instanceof ReportFileError) throw new ControllerError('invalid-request', `Cannot import the report: ${err.message}`, [{ path: 'path', message: err.message }]);
      throw err;
    }
    if (result.index) this.cacheIndex(result.stored.meta.id, Promise.resolve(result.index));
    if (result.added) this.onChange(await this.list());
    return result.stored.meta;
  }

  async export(req: CallRequestParsed<'reports.export'>): Promise<CallResponse<'reports.export'>> {
    if (req.format === 'pdf') {
      const print = this.pdfPrinter();
      const { meta, header, reportFile } = await this.exportSource(req.id);
      return exportPdf(this.dataDir, reportFile, meta, header, print);
    }
    const { meta, header, reportFile } = await this.exportSource(req.id);
    return exportReport(this.dataDir, reportFile, meta, header, req.format);
  }

  /** The shell's printer, or the error that tells a web console operator where PDFs come from. */
  private pdfPrinter(): PdfPrinter {
    if (this.printPdf) return this.printPdf;
    const message = 'PDF files are made by the desktop app. In the web console, use "Print / PDF" and choose "Save as PDF" in the browser’s print dialog.';
    throw new ControllerError('invalid-request', message, [{ path: 'format', message }]);
  }

  private async exportSource(id: string): Promise<{ meta: ReportMeta; header: ReportHeader; reportFile: string }> {
    const stored = await this.find(id);
    return { meta: stored.meta, header: await this.store.header(stored.meta.id), reportFile: this.store.reportFile(stored.meta.id) };
  }

  async remove(req: CallRequestParsed<'reports.remove'>): Promise<CallResponse<'reports.remove'>> {
    const removed = await this.store.remove(req.id);
    this.indexes.delete(req.id);
    if (removed) await removeExportsOf(this.dataDir, req.id);
    if (removed) this.onChange(await this.list());
    return { removed };
  }

  private async find(id: string): Promise<StoredReport> {
    const stored = await this.store.find(id);
    if (!stored) throw new ControllerError('not-found', `No stored report with id ${id}. It may have been removed; reload the report list.`);
    return stored;
  }

  /** The cached index of a report, built by streaming its stored file once when missing. */
  private problemIndex(id: string): Promise<ProblemIndex> {
    const cached = this.indexes.get(id);
    if (cached) {
      this.indexes.delete(id);
      this.indexes.set(id, cached);
      return cached;
    }
    const building = this.loadOrBuildIndex(id);
    building.catch(() => this.indexes.delete(id));
    this.cacheIndex(id, building);
    return building;
  }

  /** The saved index when it matches the report, else one streamed pass over the report (then saved). */
  private async loadOrBuildIndex(id: string): Promise<ProblemIndex> {
    const reportFile = this.store.reportFile(id);
    const saved = await loadIndexFile(this.store.indexFile(id), reportFile);
    if (saved) return saved;
    const built = await indexReportFile(reportFile);
    const { size } = await fs.stat(reportFile);
    // Best effort: a read-only or full disk only costs the next start another pass.
    await saveIndexFile(this.store.indexFile(id), built, size).catch(() => undefined);
    return built;
  }

  private cacheIndex(id: string, index: Promise<ProblemIndex>): void {
    this.indexes.delete(id);
    this.indexes.set(id, index);
    while (this.indexes.size > INDEX_CACHE_SIZE) this.indexes.delete(this.indexes.keys().next().value as string);
  }
}
