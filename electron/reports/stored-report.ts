/**
 * Reads a stored report in canonical form (what report-store.ts writes: header line ending in
 * `,"problems":[`, one record per line with a trailing ',' except the last, then `]}`). The file was
 * validated when it was imported, so this reader only splits and parses; it never validates again.
 */
import type { ProblemRecord, ReportHeader } from '../../agent/protocol/report.ts';
import { readLines } from './line-reader.ts';

const PROBLEMS_OPEN = ',"problems":[';

/** The header from a canonical first line. */
export function parseHeaderLine(line: string): ReportHeader {
  return JSON.parse(`${line.slice(0, line.lastIndexOf(PROBLEMS_OPEN))}}`) as ReportHeader;
}

/**
 * Calls `onRecord` for each record with the byte offset and length of its JSON in the file, in order.
 * `onHeader` gets the header first. Either may return a promise to be awaited (backpressure).
 */
export async function eachStoredRecord(
  file: string,
  onRecord: (record: ProblemRecord, offset: number, bytes: number) => void | Promise<unknown>,
  onHeader: (header: ReportHeader) => void | Promise<unknown> = () => undefined,
): Promise<void> {
  let inRecords = false;
  await readLines(file, (line) => {
    if (line.number === 1) {
      inRecords = true;
      return onHeader(parseHeaderLine(line.text));
    }
    if (!inRecords || line.text === '') return;
    if (line.text === ']}') {
      inRecords = false;
      return;
    }
    const comma = line.text.endsWith(',');
    const record = JSON.parse(comma ? line.text.slice(0, -1) : line.text) as ProblemRecord;
    return onRecord(record, line.offset, comma ? line.bytes - 1 : line.bytes);
  });
}

const DISPLAY_PREFIX = '{"path":{"display":"';

/**
 * The display path and category of a canonical record line without building the whole record: the
 * canonical layout is JSON.stringify of {path:{display, rawBase64?}, kind, category, ...} in that order,
 * so the three strings are read in turn, each with its escapes. Falls back to JSON.parse otherwise.
 */
export function indexFieldsOfLine(json: string): { display: string; category: string } {
  if (json.startsWith(DISPLAY_PREFIX)) {
    const displayEnd = endOfJsonString(json, DISPLAY_PREFIX.length - 1);
    let pos = displayEnd + 1;
    if (json.startsWith(',"rawBase64":"', pos)) pos = endOfJsonString(json, pos + 13) + 1;
    if (json.startsWith('},"kind":"', pos)) {
      pos = endOfJsonString(json, pos + 9) + 1;
      if (json.startsWith(',"category":"', pos)) {
        const catEnd = endOfJsonString(json, pos + 12);
        const display = JSON.parse(json.slice(DISPLAY_PREFIX.length - 1, displayEnd + 1)) as string;
        return { display, category: json.slice(pos + 13, catEnd) };
      }
    }
  }
  const r = JSON.parse(json) as ProblemRecord;
  return { display: r.path.display, category: r.category };
}

/** Index of the closing quote of the JSON string whose opening quote is at `open`. */
function endOfJsonString(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return text.length;
}

/** Like eachStoredRecord, with only what the problem index needs from each record. */
export async function eachStoredIndexEntry(file: string, onEntry: (display: string, category: string, offset: number, bytes: number) => void): Promise<void> {
  let inRecords = false;
  await readLines(file, (line) => {
    if (line.number === 1) {
      inRecords = true;
      return;
    }
    if (!inRecords || line.text === '') return;
    if (line.text === ']}') {
      inRecords = false;
      return;
    }
    const comma = line.text.endsWith(',');
    const { display, category } = indexFieldsOfLine(comma ? line.text.slice(0, -1) : line.text);
    onEntry(display, category, line.offset, comma ? line.bytes - 1 : line.bytes);
  });
}
