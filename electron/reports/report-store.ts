/**
 * The stored reports on disk: `<data-dir>/reports/index.json` (validated, replaced atomically, see
 * electron/controller/store/json-store.ts) lists them; `<data-dir>/reports/<id>/report.json` holds each
 * report in canonical form (the coordinator's streamed layout, records normalized by report-file.ts),
 * so later reads can trust it and index it by byte offset; `<id>/problems.idx` is its saved problem
 * index (index-file.ts).
 * Contract: an import validates the whole file while copying it into a temp folder and only then moves
 * it into place and lists it; an invalid file leaves nothing behind. A crash leaves at most a temp
 * folder or an unlisted folder, both removed on the next start. Never touches files outside reports/.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ProblemRecord, ReportHeader } from '../../agent/protocol/report.ts';
import { ReportMeta } from '../contract/console.ts';
import { JsonStore } from '../controller/store/json-store.ts';
import { AtomicFileWriter } from './atomic-writer.ts';
import { INDEX_FILE, saveIndexFile } from './index-file.ts';
import { ProblemIndexBuilder, type ProblemIndex } from './problem-index.ts';
import { readLines } from './line-reader.ts';
import { readReportFile } from './report-file.ts';
import { parseHeaderLine } from './stored-report.ts';

export const StoredReport = z.object({
  meta: ReportMeta,
  /** SHA-256 of the canonical report file: the same report imported twice is stored once. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  importedAt: z.string(),
  importedFrom: z.string(),
});
export type StoredReport = z.infer<typeof StoredReport>;

const IndexFile = z.object({ version: z.literal(1), reports: z.array(StoredReport) });
const REPORT_FILE = 'report.json';

export interface ImportResult {
  stored: StoredReport;
  /** False when an identical report was already stored (nothing changed). */
  added: boolean;
  /** The problem index built while copying (null when nothing was added). */
  index: ProblemIndex | null;
}

export class ReportStore {
  readonly dir: string;
  private readonly index: JsonStore<typeof IndexFile>;
  private ready: Promise<void> | null = null;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'reports');
    this.index = new JsonStore(path.join(this.dir, 'index.json'), IndexFile, () => ({ version: 1 as const, reports: [] }));
  }

  reportFile(id: string): string {
    return path.join(this.dir, id, REPORT_FILE);
  }

  /** The saved problem index of a report (index-file.ts); rebuilt from the report when unusable. */
  indexFile(id: string): string {
    return path.join(this.dir, id, INDEX_FILE);
  }

  async list(): Promise<StoredReport[]> {
    await this.open();
    return (await this.index.load()).reports;
  }

  async find(id: string): Promise<StoredReport | null> {
    return (await this.list()).find((r) => r.meta.id === id) ?? null;
  }

  /** Creates reports/ and removes what a crash left: temp folders and folders the index does not list. */
  private open(): Promise<void> {
    this.ready ??= (async () => {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      const listed = new Set((await this.index.load()).reports.map((r) => r.meta.id));
      for (const entry of await fs.readdir(this.dir, { withFileTypes: true })) {
        const leftover = entry.name.endsWith('.tmp') || (entry.isDirectory() && !listed.has(entry.name));
        if (leftover) await fs.rm(path.join(this.dir, entry.name), { recursive: true, force: true });
      }
    })();
    return this.ready;
  }

  /** Validates `source` and stores a canonical copy of it; throws ReportFileError when it is not a valid report. */
  async import(sourcePath: string, taskName: string): Promise<ImportResult> {
    await this.open();
    const source = path.resolve(sourcePath);
    const id = randomUUID();
    const temp = path.join(this.dir, `.import-${id}.tmp`);
    await fs.mkdir(temp, { mode: 0o700 });
    try {
      const copy = await copyCanonical(source, path.join(temp, REPORT_FILE));
      const existing = (await this.list()).find((r) => r.sha256 === copy.sha256);
      if (existing) {
        await fs.rm(temp, { recursive: true, force: true });
        return { stored: existing, added: false, index: null };
      }
      const index = copy.builder.build(this.reportFile(id));
      await saveIndexFile(path.join(temp, INDEX_FILE), index, copy.bytes);
      await fs.rename(temp, path.join(this.dir, id));
      const stored: StoredReport = {
        meta: metaOf(id, taskName, copy.header, copy.records, copy.bytes),
        sha256: copy.sha256,
        importedAt: new Date().toISOString(),
        importedFrom: source,
      };
      // Checked again under the store's write queue: of two identical imports at once, one is kept.
      let kept = stored;
      await this.index.update((f) => {
        kept = f.reports.find((r) => r.sha256 === stored.sha256) ?? stored;
        return kept === stored ? { ...f, reports: [...f.reports, stored] } : f;
      });
      if (kept !== stored) {
        await fs.rm(path.join(this.dir, id), { recursive: true, force: true });
        return { stored: kept, added: false, index: null };
      }
      return { stored, added: true, index };
    } catch (err) {
      await fs.rm(temp, { recursive: true, force: true });
      throw err;
    }
  }

  /** Unlists the report, then deletes its folder. Returns false when there was no such report. */
  async remove(id: string): Promise<boolean> {
    if (!(await this.find(id))) return false;
    await this.index.update((f) => ({ ...f, reports: f.reports.filter((r) => r.meta.id !== id) }));
    await fs.rm(path.join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  /** The header of a stored report (its first line). */
  async header(id: string): Promise<ReportHeader> {
    let header: ReportHeader | null = null;
    await readLines(this.reportFile(id), (line) => {
      header = parseHeaderLine(line.text);
      return false;
    });
    if (!header) throw new Error(`${this.reportFile(id)} is empty: remove the report and import it again.`);
    return header;
  }
}

function metaOf(id: string, taskName: string, header: ReportHeader, problems: number, bytes: number): ReportMeta {
  return {
    id,
    taskName,
    taskId: header.taskId,
    source: header.source,
    destination: header.destination,
    startedAt: header.startedAt,
    finishedAt: header.finishedAt,
    passed: header.passed,
    problems,
    bytes,
  };
}

interface CanonicalCopy {
  header: ReportHeader;
  records: number;
  bytes: number;
  sha256: string;
  builder: ProblemIndexBuilder;
}

/**
 * Writes the canonical form of `source` to `target` (header line, one record per line, `]}`: the
 * layout agent/engine/report-writer.ts writes) and indexes each record's position while doing so.
 */
async function copyCanonical(source: string, target: string): Promise<CanonicalCopy> {
  const writer = await AtomicFileWriter.open(target);
  const hash = createHash('sha256');
  const builder = new ProblemIndexBuilder();
  const write = (text: string) => {
    hash.update(text);
    return writer.write(text);
  };
  try {
    const { header, records } = await readReportFile(source, {
      header: (h) => {
        const head = JSON.stringify(h);
        return write(`${head.slice(0, -1)},"problems":[\n`);
      },
      record: (r: ProblemRecord, index: number) => {
        const separator = index > 0 ? ',\n' : '';
        const json = JSON.stringify(r);
        builder.add(r.path.display, r.category, writer.bytes + separator.length, Buffer.byteLength(json));
        return write(separator + json);
      },
    });
    await write('\n]}\n');
    const bytes = writer.bytes;
    await writer.commit();
    return { header, records, bytes, sha256: hash.digest('hex'), builder };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
