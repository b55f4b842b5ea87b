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
    let carry: Buffer | null = null;
    let fileOffset = 0; // offset of the first byte of `carry` (or of the chunk when there is none)
    let number = 0;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const data: Buffer = carry ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      let nl: number;
      while ((nl = data.indexOf(NEWLINE, start)) !== -1) {
        number++;
        if (nl - start > maxLineBytes) throw new LineTooLongError(number, maxLineBytes);
        const result = onLine({ text: data.toString('utf8', start, nl), offset: fileOffset + start, bytes: nl - start, number, terminated: true });
        if (result === false) return;
        if (result instanceof Promise) await result;
        start = nl + 1;
      }
      if (data.length - start > maxLineBytes) throw new LineTooLongError(number + 1, maxLineBytes);
      carry = start < data.length ? Buffer.from(data.subarray(start)) : null;
      fileOffset += start;
    }
    if (carry && carry.length > 0) {
      await onLine({ text: carry.toString('utf8'), offset: fileOffset, bytes: carry.length, number: number + 1, terminated: false });
    }
  } finally {
    await handle.close();
  }
}
