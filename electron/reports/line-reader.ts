/**
 * Reads a file once, front to back, as lines with their byte offsets, in 1 MiB chunks, so memory stays
 * flat however large the file is. Owns nothing else: it never interprets the lines.
 * Contract: `onLine` gets each line without its '\n' (a final line without '\n' comes with
 * `terminated: false`); a line longer than `maxLineBytes` stops the read with LineTooLongError.
 * `onLine` may return false to stop early, or a promise to be awaited before the next line (backpressure).
 */
import { promises as fs } from 'node:fs';

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export interface Line {
  text: string;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Length in bytes, without the '\n'. */
  bytes: number;
  /** 1-based line number. */
  number: number;
  terminated: boolean;
}

export class LineTooLongError extends Error {
  constructor(readonly lineNumber: number, readonly limit: number) {
    super(`line ${lineNumber} is longer than ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export async function readLines(file: string, onLine: (line: Line) => boolean | void | Promise<unknown>, maxLineBytes = 64 * 1024 * 1024): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    // The unfinished line so far, as copies of chunk tails (joined once, when its '\n' arrives).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let pendingOffset = 0;
    let chunkOffset = 0; // file offset of the chunk's first byte
    let number = 0;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const emit = (bytes: Buffer, offset: number, terminated: boolean) => {
      number++;
      if (bytes.length > maxLineBytes) throw new LineTooLongError(number, maxLineBytes);
      return onLine({ text: bytes.toString('utf8'), offset, bytes: bytes.length, number, terminated });
    };
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const data = chunk.subarray(0, bytesRead);
      let start = 0;
      let nl: number;
      while ((nl = data.indexOf(NEWLINE, start)) !== -1) {
        let result;
        if (pending.length > 0) {
          result = emit(Buffer.concat([...pending, data.subarray(start, nl)]), pendingOffset, true);
          pending = [];
          pendingBytes = 0;
        } else {
          result = emit(data.subarray(start, nl), chunkOffset + start, true);
        }
        if (result === false) return;
        if (result instanceof Promise) await result;
        start = nl + 1;
      }
      if (start < data.length) {
        if (pending.length === 0) pendingOffset = chunkOffset + start;
        pending.push(Buffer.from(data.subarray(start)));
        pendingBytes += data.length - start;
        if (pendingBytes > maxLineBytes) throw new LineTooLongError(number + 1, maxLineBytes);
      }
      chunkOffset += bytesRead;
    }
    if (pending.length > 0) await emit(Buffer.concat(pending), pendingOffset, false);
  } finally {
    await handle.close();
  }
}
