/**
 * Reads and validates a verification report file (agent/protocol/report.ts) in one pass, streaming:
 * the header first, then each problem record, normalized (paths in their canonical display form,
 * display.ts). Accepts the coordinator's streamed layout (header line, one record per line, `]}`) at
 * any size, and a report written as one JSON document (pretty-printed or not) up to WHOLE_JSON_MAX_BYTES.
 * Contract: throws ReportFileError whose message names the file and says what is wrong (not a report,
 * truncated, wrong version, which record is invalid); it never writes anything.
 */
import { promises as fs } from 'node:fs';
import type { z } from 'zod';
import { ProblemRecord, REPORT_FORMAT, REPORT_VERSION, Report, ReportHeader } from '../../agent/protocol/report.ts';
import { canonicalPath } from './display.ts';
import { LineTooLongError, readLines, type Line } from './line-reader.ts';

/** Larger reports must be in the streamed layout (the coordinator always writes that). */
export const WHOLE_JSON_MAX_BYTES = 256 * 1024 * 1024;
const PROBLEMS_OPEN = ',"problems":[';
/** A streamed header line is a few KiB; a longer first line means a report written as one JSON line. */
const FIRST_LINE_MAX_BYTES = 16 * 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class ReportFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} ${detail}`);
    this.name = 'ReportFileError';
  }
}

export interface ReportSink {
  header(header: ReportHeader): void | Promise<void>;
  record(record: ProblemRecord, index: number): void | Promise<void>;
}

/** Parses `file`, feeding `sink`; returns the header and the number of problem records. */
export async function readReportFile(file: string, sink: ReportSink): Promise<{ header: ReportHeader; records: number }> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ReportFileError(file, code === 'ENOENT' ? 'does not exist. Check the path.' : `cannot be read (${code ?? String(err)}).`);
  }
  if (!stat.isFile()) throw new ReportFileError(file, 'is not a regular file. Give the path of a report file.');
  if (stat.size === 0) throw new ReportFileError(file, 'is empty: it is not a Ferry verification report.');
  const first = await firstLine(file);
  if (first.replace(/\s+$/, '').endsWith(PROBLEMS_OPEN)) return readStreamed(file, sink);
  return readWhole(file, stat.size, sink);
}

async function firstLine(file: string): Promise<string> {
  let text = '';
  try {
    await readLines(
      file,
      (line) => {
        text = line.text;
        return false;
      },
      FIRST_LINE_MAX_BYTES,
    );
  } catch (err) {
    if (err instanceof LineTooLongError) return '';
    throw err;
  }
  return text.replace(/^\ufeff/, '');
}

/** The coordinator's layout: header line ending in `,"problems":[`, one record per line, `]}`. */
async function readStreamed(file: string, sink: ReportSink): Promise<{ header: ReportHeader; records: number }> {
  let header: ReportHeader | null = null;
  let records = 0;
  let closed = false;
  let pendingComma = false;
  const fail = (detail: string): never => {
    throw new ReportFileError(file, detail);
  };
  const onLine = (line: Line): void | Promise<void> => {
    const text = line.text.replace(/\r$/, '');
    if (line.number === 1) {
      const headText = `${text.replace(/^\ufeff/, '').replace(/\s+$/, '').slice(0, -PROBLEMS_OPEN.length)}}`;
      header = checkHeader(file, parseJson(file, headText, 'its header (line 1)'));
      return sink.header(header);
    }
    if (closed) {
      if (text.trim() !== '') fail(`has unexpected content after the end of the report, at line ${line.number}. It is damaged; import the original file.`);
      return;
    }
    if (text === ']}') {
      if (pendingComma) fail(`is damaged: the record before line ${line.number} ends with ',' but no record follows.`);
      closed = true;
      return;
    }
    if (text === '' && records === 0) return;
    if (!line.terminated) fail(truncatedDetail(records));
    if (records > 0 && !pendingComma) fail(`is damaged: line ${line.number} follows a record that does not end with ','.`);
    const body = text.endsWith(',') ? text.slice(0, -1) : text;
    pendingComma = text.endsWith(',');
    const record = checkRecord(file, parseJson(file, body, `problem record ${records + 1} (line ${line.number})`), records + 1, line.number);
    records++;
    return sink.record(record, records - 1);
  };
  try {
    await readLines(file, onLine);
  } catch (err) {
    if (err instanceof LineTooLongError) fail(`has a line over ${err.limit} bytes at line ${err.lineNumber}: it is not a Ferry verification report.`);
    throw err;
  }
  if (!header) return fail('is not a Ferry verification report.');
  if (!closed) fail(truncatedDetail(records));
  return { header, records };
}

function truncatedDetail(records: number): string {
  return `is truncated: it ends after ${records} problem record${records === 1 ? '' : 's'} without the closing "]}" (the task may still be writing it, or the copy was cut short). Import the complete file.`;
}

/** A report as one JSON document (hand-made, pretty-printed, or from another tool). */
async function readWhole(file: string, size: number, sink: ReportSink): Promise<{ header: ReportHeader; records: number }> {
  if (size > WHOLE_JSON_MAX_BYTES) {
    throw new ReportFileError(file, `is not in the layout Ferry writes reports in, and at ${size} bytes too large to read as one JSON document: it is not a Ferry verification report.`);
  }
  const json = parseJson(file, (await fs.readFile(file, 'utf8')).replace(/^\ufeff/, ''), 'it');
  const header = checkHeader(file, json);
  const parsed = Report.safeParse(json);
  if (!parsed.success) throw new ReportFileError(file, `has invalid problem records: ${issueText(parsed.error)}.`);
  await sink.header(header);
  let index = 0;
  for (const record of parsed.data.problems) {
    await sink.record(normalizeRecord(record), index);
    index++;
  }
  return { header, records: index };
}

function parseJson(file: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    if (/end of (JSON|data)|Unterminated/i.test(message) && what === 'it') {
      throw new ReportFileError(file, 'is truncated: its JSON ends before the report does. Import the complete file.');
    }
    throw new ReportFileError(file, what === 'it' || what.startsWith('its header') ? `is not a Ferry verification report: ${what} is not JSON (${message}).` : `is damaged: ${what} is not JSON (${message}).`);
  }
}

function checkHeader(file: string, json: unknown): ReportHeader {
  const obj = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  if (!obj || obj.format !== REPORT_FORMAT) throw new ReportFileError(file, `is not a Ferry verification report (it has no "format": "${REPORT_FORMAT}").`);
  if (obj.version !== REPORT_VERSION) {
    const v = JSON.stringify(obj.version);
    const newer = typeof obj.version === 'number' && obj.version > REPORT_VERSION;
    throw new ReportFileError(
      file,
      `has report version ${v}; this Ferry reads version ${REPORT_VERSION}. ${newer ? 'Upgrade Ferry to read it.' : 'Open it with the Ferry that wrote it.'}`,
    );
  }
  const parsed = ReportHeader.safeParse(obj);
  if (!parsed.success) throw new ReportFileError(file, `has an invalid header: ${issueText(parsed.error)}.`);
  return parsed.data;
}

function checkRecord(file: string, json: unknown, n: number, lineNumber: number): ProblemRecord {
  const parsed = ProblemRecord.safeParse(json);
  if (!parsed.success) throw new ReportFileError(file, `is damaged: problem record ${n} (line ${lineNumber}) is invalid: ${issueText(parsed.error)}.`);
  const raw = parsed.data.path.rawBase64;
  if (raw !== undefined && !BASE64.test(raw)) throw new ReportFileError(file, `is damaged: problem record ${n} (line ${lineNumber}) has path.rawBase64 that is not base64.`);
  return normalizeRecord(parsed.data);
}

function normalizeRecord(r: ProblemRecord): ProblemRecord {
  return { path: canonicalPath(r.path), kind: r.kind, category: r.category, code: r.code, reason: r.reason };
}

function issueText(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'schema mismatch';
  const where = first.path.map(String).join('.');
  return `${where ? `${where}: ` : ''}${first.message}`;
}
