/**
 * Owns relative paths ("relPath", see api.ts): byte strings with '/' separators, relative to a task's
 * root, that arrive over the wire and must never escape the root. Validation, joining to an absolute
 * path, splitting off the last component, Linux's length limits, and a safe display form for logs and
 * the UI. Everything works on Buffers; nothing decodes a name except relToDisplay.
 */
import { FsError } from './errors.ts';

/** Longest absolute path the kernel accepts, in bytes, without the terminating NUL (PATH_MAX - 1). */
export const PATH_MAX_BYTES = 4095;
/** Longest single name, in bytes (NAME_MAX). */
export const NAME_MAX_BYTES = 255;

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Throws FsError 'unsafe-path' unless `rel` is a safe relative path: not absolute, no '.', '..' or empty
 * component, no NUL byte, no trailing '/'. Throws 'path-too-long' for a component over 255 bytes or a
 * path over 4095 bytes. The empty Buffer is the root itself and is valid.
 */
/** Whether the byte string name begins with prefix. */
export function startsWithBytes(name: Buffer, prefix: Buffer): boolean {
  return name.length >= prefix.length && name.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

export function validateRelPath(rel: Uint8Array): void {
  const n = rel.length;
  if (n === 0) return;
  if (rel[0] === SLASH) throw unsafe(rel, 'is absolute');
  if (rel[n - 1] === SLASH) throw unsafe(rel, "ends with '/'");
  if (n > PATH_MAX_BYTES) throw tooLong(rel, `is ${n} bytes; the limit is ${PATH_MAX_BYTES}`);
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? rel[i] : SLASH;
    if (c === 0) throw unsafe(rel, 'contains a NUL byte');
    if (c !== SLASH) continue;
    const len = i - start;
    if (len === 0) throw unsafe(rel, 'has an empty component');
    if (rel[start] === DOT && (len === 1 || (len === 2 && rel[start + 1] === DOT))) {
      throw unsafe(rel, len === 1 ? "has a '.' component" : "has a '..' component");
    }
    if (len > NAME_MAX_BYTES) throw tooLong(rel, `has a ${len}-byte name; the limit is ${NAME_MAX_BYTES}`);
    start = i + 1;
  }
}

/** Throws unless `name` is one valid path component (what validateRelPath demands of each component). */
export function validateName(name: Uint8Array): void {
  const n = name.length;
  if (n === 0) throw unsafe(name, 'is an empty name');
  if (name[0] === DOT && (n === 1 || (n === 2 && name[1] === DOT))) throw unsafe(name, "is '.' or '..'");
  if (n > NAME_MAX_BYTES) throw tooLong(name, `is a ${n}-byte name; the limit is ${NAME_MAX_BYTES}`);
  for (let i = 0; i < n; i++) {
    const c = name[i];
    if (c === 0 || c === SLASH) throw unsafe(name, c === 0 ? 'contains a NUL byte' : "contains '/'");
  }
}

/**
 * root + '/' + rel, as a new Buffer (rel is not validated here: use resolveRel for paths from the wire).
 * The empty rel gives (a copy of) root. Throws 'path-too-long' past 4095 bytes.
 */
export function joinRel(root: Uint8Array, rel: Uint8Array): Buffer {
  if (rel.length === 0) return Buffer.from(root);
  const sep = root.length > 0 && root[root.length - 1] !== SLASH ? 1 : 0;
  const len = root.length + sep + rel.length;
  if (len > PATH_MAX_BYTES) throw tooLong(rel, `would be ${len} bytes under its root; the limit is ${PATH_MAX_BYTES}`);
  const out = Buffer.allocUnsafe(len);
  out.set(root, 0);
  if (sep) out[root.length] = SLASH;
  out.set(rel, root.length + sep);
  return out;
}

/** validateRelPath then joinRel: the one call for a relPath that came over the wire. */
export function resolveRel(root: Uint8Array, rel: Uint8Array): Buffer {
  validateRelPath(rel);
  return joinRel(root, rel);
}

/**
 * Splits a relPath into [parent, name]; the parent of a top-level name is the empty Buffer (the root).
 * Both are views into `rel` (no copy): copy them if `rel` will be reused.
 */
export function splitParent(rel: Buffer): [parent: Buffer, name: Buffer] {
  const i = rel.lastIndexOf(SLASH);
  if (i < 0) return [rel.subarray(0, 0), rel];
  return [rel.subarray(0, i), rel.subarray(i + 1)];
}

/** Throws 'path-too-long' if an absolute path exceeds PATH_MAX or its last name exceeds NAME_MAX. */
export function checkPathLength(abs: Uint8Array): void {
  if (abs.length > PATH_MAX_BYTES) throw tooLong(abs, `is ${abs.length} bytes; the limit is ${PATH_MAX_BYTES}`);
  const i = abs.lastIndexOf(SLASH);
  const nameLen = abs.length - i - 1;
  if (nameLen > NAME_MAX_BYTES) throw tooLong(abs, `has a ${nameLen}-byte name; the limit is ${NAME_MAX_BYTES}`);
}

/**
 * A printable, unambiguous form of a byte path for messages: valid UTF-8 shows as itself; bytes that are
 * not valid UTF-8 show as \xNN, control characters as \n, \t, \r or \xNN, and a backslash as \\.
 * Example: Latin-1 "café" (63 61 66 e9) → "caf\xe9".
 */
export function relToDisplay(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      out += asciiDisplay(b);
      i++;
      continue;
    }
    const len = utf8SequenceLength(bytes, i);
    if (len === 0) {
      out += hex(b);
      i++;
      continue;
    }
    let cp: number;
    if (len === 2) cp = ((b & 0x1f) << 6) | ((bytes[i + 1] as number) & 0x3f);
    else if (len === 3) cp = ((b & 0x0f) << 12) | (((bytes[i + 1] as number) & 0x3f) << 6) | ((bytes[i + 2] as number) & 0x3f);
    else
      cp =
        ((b & 0x07) << 18) |
        (((bytes[i + 1] as number) & 0x3f) << 12) |
        (((bytes[i + 2] as number) & 0x3f) << 6) |
        ((bytes[i + 3] as number) & 0x3f);
    // C1 controls and the line/paragraph separators would garble a log line: escape their bytes.
    if ((cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029) {
      for (let k = 0; k < len; k++) out += hex(bytes[i + k] as number);
    } else {
      out += String.fromCodePoint(cp);
    }
    i += len;
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence starting at i (2..4), or 0 if the bytes there are not one. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  const n = bytes.length;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const c = bytes[i + k];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return i + 1 < n && cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

function asciiDisplay(b: number): string {
  if (b === 0x5c) return '\\\\';
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  if (b === 0x0a) return '\\n';
  if (b === 0x09) return '\\t';
  if (b === 0x0d) return '\\r';
  return hex(b);
}

function hex(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

function unsafe(rel: Uint8Array, why: string): FsError {
  return new FsError('unsafe-path', `Refused the path "${relToDisplay(rel)}": it ${why}.`, { path: Buffer.from(rel) });
}

function tooLong(path: Uint8Array, why: string): FsError {
  return new FsError('path-too-long', `The path "${relToDisplay(path)}" ${why}.`, { path: Buffer.from(path), errno: 'ENAMETOOLONG' });
}
