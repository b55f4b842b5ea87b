/**
 * Streams a large file into place atomically: a sibling temp file is written in 1 MiB chunks, fsynced,
 * renamed over the target, then the directory is fsynced (the same contract as
 * electron/controller/store/atomic-file.ts, for content too large to hold as one string).
 * Contract: until `commit()` resolves the target is untouched; `abort()` removes the temp file.
 * Temp names start with '.' and end with '.tmp', so crash leftovers are recognisable.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

const FLUSH_BYTES = 1024 * 1024;

export class AtomicFileWriter {
  private parts: string[] = [];
  private buffered = 0;
  private written = 0;

  private constructor(
    readonly target: string,
    readonly temp: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(target: string, mode = 0o600): Promise<AtomicFileWriter> {
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    return new AtomicFileWriter(target, temp, await fs.open(temp, 'wx', mode));
  }

  /** Bytes written so far (flushed or buffered). */
  get bytes(): number {
    return this.written + this.buffered;
  }

  /** Buffers `text`; returns a promise to await when the buffer was flushed to disk. */
  write(text: string): void | Promise<void> {
    this.parts.push(text);
    this.buffered += Buffer.byteLength(text);
    if (this.buffered >= FLUSH_BYTES) return this.flush();
  }

  /** Writes raw bytes after everything buffered so far. */
  async writeBytes(data: Uint8Array): Promise<void> {
    await this.flush();
    await this.handle.writeFile(data);
    this.written += data.length;
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.written += this.buffered;
    this.buffered = 0;
    await this.handle.writeFile(data);
  }

  async commit(): Promise<void> {
    try {
      await this.flush();
      await this.handle.sync();
    } catch (err) {
      await this.abort();
      throw err;
    }
    await this.handle.close();
    try {
      await fs.rename(this.temp, this.target);
    } catch (err) {
      await fs.rm(this.temp, { force: true });
      throw err;
    }
    const dir = await fs.open(path.dirname(this.target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.temp, { force: true });
  }
}
