/**
 * A typed JSON document on disk, validated by a zod schema on every load and save.
 *
 * Contract: `load()` returns the default when the file does not exist, and throws a
 * StoreCorruptError (never silently resets) when it exists but does not parse or validate, so
 * an operator's inventory is never lost to a bad edit. `update()` serialises writers: each
 * update sees the result of the previous one, and the file is replaced atomically.
 */
import { promises as fs } from 'node:fs';
import type { z } from 'zod';
import { writeFileAtomic } from './atomic-file.ts';

export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} is not a valid Ferry state file (${detail}). Fix or move it away, then start Ferry again.`);
    this.name = 'StoreCorruptError';
  }
}

export class JsonStore<S extends z.ZodType> {
  private value: z.output<S> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly schema: S,
    private readonly initial: () => z.output<S>,
  ) {}

  async load(): Promise<z.output<S>> {
    if (this.value !== undefined) return this.value;
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.value = this.initial();
      return this.value;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new StoreCorruptError(this.file, (err as Error).message);
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) throw new StoreCorruptError(this.file, parsed.error.issues[0]?.message ?? 'schema mismatch');
    this.value = parsed.data;
    return parsed.data;
  }

  /** Applies `change` to the current value and persists the result; returns it. */
  update(change: (current: z.output<S>) => z.output<S>): Promise<z.output<S>> {
    const run = this.queue.then(async () => {
      const next = this.schema.parse(change(structuredClone(await this.load())));
      await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
      this.value = next;
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
