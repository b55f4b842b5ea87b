/**
 * Names in reports are byte strings (agent/protocol/report.ts ReportPath). This module owns the one
 * safe display form the console, the HTML and CSV exports show, and the exact bytes behind it.
 *
 * Display form: valid UTF-8 shows as itself; undecodable bytes as \xNN; control characters as \n, \t,
 * \r or \xNN; a backslash as \\ (agent/fs/relpath.ts relToDisplay), and in addition the invisible
 * Unicode direction and zero-width formatting characters as \u{XXXX}, so a name cannot pretend to be
 * another one on screen. Because every backslash is escaped, the form is unambiguous.
 * Contract: `canonicalPath` keeps the exact bytes (rawBase64 whenever the display differs from them)
 * and never throws on any input a report schema accepts. Pure: no IO.
 */
import type { ReportPath } from '../../agent/protocol/report.ts';
import { relToDisplay } from '../../agent/fs/relpath.ts';

/** Bidi embeddings/overrides/isolates, marks, zero-width characters and the BOM. */
const INVISIBLE_FORMAT = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const PLAIN_ASCII = /^[\x20-\x5b\x5d-\x7e]+$/;

/** The display form of raw path bytes. */
export function displayOfBytes(bytes: Uint8Array): string {
  return relToDisplay(bytes).replace(INVISIBLE_FORMAT, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);
}

/** The exact bytes of a report path: rawBase64 when present, else the UTF-8 of its display text. */
export function pathBytes(p: ReportPath): Buffer {
  return p.rawBase64 !== undefined ? Buffer.from(p.rawBase64, 'base64') : Buffer.from(p.display, 'utf8');
}

/**
 * The normalized form of a report path: display recomputed from the exact bytes; rawBase64 present
 * only when the display is not those bytes as UTF-8. The agent's root path ('' shown as '.') stays '.'.
 */
export function canonicalPath(p: ReportPath): ReportPath {
  // Fast path for the common case: printable ASCII without a backslash is its own display form.
  if (p.rawBase64 === undefined && p.display !== '' && PLAIN_ASCII.test(p.display)) return { display: p.display };
  const bytes = pathBytes(p);
  if (bytes.length === 0) return { display: '.' };
  const display = displayOfBytes(bytes);
  return Buffer.from(display, 'utf8').equals(bytes) ? { display } : { display, rawBase64: bytes.toString('base64') };
}
