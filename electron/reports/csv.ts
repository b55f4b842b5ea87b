/**
 * CSV (RFC 4180) for report exports: CRLF line ends, a field is quoted when it holds '"', ',', CR or LF,
 * and quotes inside are doubled. Text that a spreadsheet would run as a formula (starting with '=',
 * '+', '-', '@', TAB or CR) is prefixed with "'" in the display columns; the exact path bytes are in
 * their own base64 column, so nothing is lost. Pure: no IO.
 */
import type { ProblemRecord } from '../../agent/protocol/report.ts';
import { pathBytes } from './display.ts';

export const CSV_HEADER = ['path', 'category', 'kind', 'code', 'reason', 'path_bytes_base64'] as const;

/** One field, quoted only when RFC 4180 requires it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record line, CRLF-terminated. */
export function csvRow(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** Keeps spreadsheets from evaluating text as a formula (CSV injection). */
export function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function problemCsvRow(r: ProblemRecord): string {
  return csvRow([neutralizeFormula(r.path.display), r.category, r.kind, r.code, neutralizeFormula(r.reason), pathBytes(r.path).toString('base64')]);
}
