/**
 * The on-disk form of a problem index (problem-index.ts), `<data-dir>/reports/<id>/problems.idx`, so a
 * restarted controller pages a large report at once instead of streaming it again. Layout, little
 * endian: 'FRYIDX01', u32 record count, u32 path-text bytes, f64 size of the report file it indexes,
 * then offsets (f64 each), lengths (u32 each), categories (u8 each), then the lowercased paths (UTF-8,
 * '\n'-joined). Contract: `loadIndexFile` returns null (never a wrong index) when the file is missing,
 * damaged, or was made for a report file of another size; the caller then rebuilds it from the report.
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../controller/store/atomic-file.ts';
import { ProblemIndex } from './problem-index.ts';

const MAGIC = 'FRYIDX01';
const HEAD_BYTES = 24;

export const INDEX_FILE = 'problems.idx';

export function encodeIndex(index: ProblemIndex, reportBytes: number): Buffer {
  const n = index.count;
  const text = Buffer.from(index.haystack, 'utf8');
  const head = Buffer.alloc(HEAD_BYTES);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(text.length, 12);
  head.writeDoubleLE(reportBytes, 16);
  const bytes = (a: Float64Array | Uint32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([head, bytes(index.offsets), bytes(index.lengths), bytes(index.categories), text]);
}

export function saveIndexFile(file: string, index: ProblemIndex, reportBytes: number): Promise<void> {
  return writeFileAtomic(file, encodeIndex(index, reportBytes));
}

export async function loadIndexFile(file: string, reportFile: string): Promise<ProblemIndex | null> {
  let buf: Buffer;
  let reportBytes: number;
  try {
    [buf, reportBytes] = await Promise.all([fs.readFile(file), fs.stat(reportFile).then((s) => s.size)]);
  } catch {
    return null;
  }
  if (buf.length < HEAD_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const n = buf.readUInt32LE(8);
  const textBytes = buf.readUInt32LE(12);
  if (buf.readDoubleLE(16) !== reportBytes || buf.length !== HEAD_BYTES + n * 13 + textBytes) return null;
  const copy = (start: number, length: number) => buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + length);
  const offsets = new Float64Array(copy(HEAD_BYTES, n * 8));
  const lengths = new Uint32Array(copy(HEAD_BYTES + n * 8, n * 4));
  const categories = new Uint8Array(copy(HEAD_BYTES + n * 12, n));
  const haystack = buf.toString('utf8', HEAD_BYTES + n * 13);
  let newlines = 0;
  for (let pos = haystack.indexOf('\n'); pos !== -1; pos = haystack.indexOf('\n', pos + 1)) newlines++;
  if (newlines !== Math.max(0, n - 1)) return null;
  if (n > 0 && (offsets[n - 1] as number) + (lengths[n - 1] as number) > reportBytes) return null;
  return new ProblemIndex(reportFile, n, offsets, lengths, categories, haystack);
}
