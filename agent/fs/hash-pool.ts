/**
 * Owns hashing byte ranges of open files off the main thread. A destination agent is one JS thread
 * that decrypts, writes and hashes everything its sources send; reading a large file's range back
 * (128 MiB by default) and hashing it again took a third of that thread while the second core
 * waited. `hashFdRange` does the same reads and the same SHA-256 as `sha256FdRange` (hash.ts) on one
 * worker thread, so the main thread goes on receiving.
 *
 * Contract: the caller keeps fd open and unchanged until the promise settles (file descriptors are
 * shared by the process's threads; a closed and reused number would be another file). Errors come
 * back as Node's own errno errors (code, errno, syscall), ready for classify(). The worker is made
 * on first use, does not keep the process alive, and is shared by every caller of this thread.
 */
import { Worker } from 'node:worker_threads';
import { sha256FdRange } from './hash.ts';

/** The worker's whole program: plain JS, as the agent ships as one bundled file the worker cannot import from (hence its own copy of sha256FdRange's loop). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = 1024 * 1024;
const chunk = Buffer.allocUnsafe(CHUNK);
parentPort.on('message', ({ id, fd, offset, length }) => {
  try {
    const hash = createHash('sha256');
    for (let pos = offset, end = offset + length; pos < end; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(CHUNK, end - pos), pos);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      pos += n;
    }
    parentPort.postMessage({ id, digest: hash.digest() });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall } });
  }
});
`;

interface Reply {
  id: number;
  digest?: Uint8Array;
  error?: { message: string; code?: string; errno?: number; syscall?: string };
}

interface Waiting {
  resolve: (digest: Buffer) => void;
  reject: (err: Error) => void;
}

/** The current worker and the requests it owes answers to (a dead one's fail with it, never a successor's). */
let current: { worker: Worker; waiting: Map<number, Waiting> } | null = null;
let nextId = 1;

function startWorker(): { worker: Worker; waiting: Map<number, Waiting> } {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  const self = { worker, waiting: new Map<number, Waiting>() };
  worker.unref();
  worker.on('message', (m: Reply) => {
    const entry = self.waiting.get(m.id);
    self.waiting.delete(m.id);
    if (self.waiting.size === 0) worker.unref();
    if (!entry) return;
    if (m.digest) entry.resolve(Buffer.from(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength));
    else entry.reject(Object.assign(new Error(m.error?.message ?? 'read-back failed'), m.error ?? {}));
  });
  const die = (err: Error) => {
    if (current === self) current = null;
    for (const w of self.waiting.values()) w.reject(err);
    self.waiting.clear();
    worker.unref();
  };
  worker.on('error', die);
  worker.on('exit', (code) => die(new Error(`The read-back hashing thread exited (${code}).`)));
  return self;
}

/**
 * SHA-256 of bytes [offset, offset + length) of fd (fewer when the file ends sooner), read on the
 * worker; on this thread instead when no worker can be started.
 */
export function hashFdRange(fd: number, offset: number, length: number): Promise<Buffer> {
  try {
    current ??= startWorker();
  } catch {
    return new Promise<Buffer>((resolve) => resolve(sha256FdRange(fd, offset, length)));
  }
  const { worker, waiting } = current;
  const id = nextId++;
  return new Promise<Buffer>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.ref(); // an answer is owed: stay alive for it
    worker.postMessage({ id, fd, offset, length });
  });
}
