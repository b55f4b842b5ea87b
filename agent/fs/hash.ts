/**
 * Owns SHA-256 of files for verification: synchronous, in 1 MiB chunks through one reusable buffer.
 * Symlinks are never followed (O_NOFOLLOW).
 */
import { createHash, hash as sha256Once } from 'node:crypto';
import fs from 'node:fs';
import { classify } from './errors.ts';

const CHUNK = 1024 * 1024;
// O_NONBLOCK: a name that became a FIFO since it was listed must not wait for a writer (no effect on files).
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
let chunk: Buffer | undefined;

/**
 * SHA-256 of the file's bytes, read from an open fd from its start to its end. With expectedSize, a
 * short read that ends exactly there is taken as the end (a regular file reads short only at its
 * end), which spares a small file the second read(2) that would return 0; such a file is hashed in one
 * call, without a Hash object (that object costs more than hashing 4 KiB).
 */
export function sha256Fd(fd: number, expectedSize = -1): Buffer {
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const first = fs.readSync(fd, chunk, 0, CHUNK, 0);
  if (first < CHUNK && (first === expectedSize || first === 0)) return sha256Once('sha256', chunk.subarray(0, first), 'buffer');
  const hash = createHash('sha256');
  hash.update(chunk.subarray(0, first));
  let pos = first;
  for (;;) {
    const n = fs.readSync(fd, chunk, 0, CHUNK, pos);
    if (n === 0) break;
    hash.update(chunk.subarray(0, n));
    pos += n;
    if (n < CHUNK && pos === expectedSize) break;
  }
  return hash.digest();
}

/** SHA-256 of bytes [offset, offset + length) of an open fd (fewer when the file ends sooner). */
export function sha256FdRange(fd: number, offset: number, length: number): Buffer {
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const hash = createHash('sha256');
  for (let pos = offset, end = offset + length; pos < end; ) {
    const n = fs.readSync(fd, chunk, 0, Math.min(CHUNK, end - pos), pos);
    if (n === 0) break;
    hash.update(chunk.subarray(0, n));
    pos += n;
  }
  return hash.digest();
}

/** SHA-256 of a whole file (32 bytes). */
export function sha256File(absPath: Buffer): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(absPath, OPEN_FLAGS);
  } catch (err) {
    throw classify(err, absPath);
  }
  try {
    return sha256Fd(fd);
  } catch (err) {
    throw classify(err, absPath);
  } finally {
    fs.closeSync(fd);
  }
}

export function sha256FileHex(absPath: Buffer): string {
  return sha256File(absPath).toString('hex');
}
