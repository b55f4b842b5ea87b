import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { removeStaleTempFiles, writeFileAtomic } from '../../electron/controller/store/atomic-file.ts';
import { JsonStore, StoreCorruptError } from '../../electron/controller/store/json-store.ts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-store-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temp file behind', async () => {
    const file = path.join(dir, 'state.json');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, 'second');
    expect(await fs.readFile(file, 'utf8')).toBe('second');
    expect(await fs.readdir(dir)).toEqual(['state.json']);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the old content when the write fails', async () => {
    const file = path.join(dir, 'state.json');
    await writeFileAtomic(file, 'old');
    await fs.mkdir(path.join(dir, 'blocker'));
    // Renaming a file over a directory fails: the old file must survive untouched.
    await expect(writeFileAtomic(path.join(dir, 'blocker'), 'new')).rejects.toThrow();
    expect(await fs.readFile(file, 'utf8')).toBe('old');
    expect((await fs.readdir(dir)).sort()).toEqual(['blocker', 'state.json']);
  });

  it('many concurrent writers leave exactly one complete version', async () => {
    const file = path.join(dir, 'state.json');
    const versions = Array.from({ length: 40 }, (_, i) => `version-${i}-${'x'.repeat(10_000)}`);
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    expect(versions).toContain(await fs.readFile(file, 'utf8'));
    expect(await fs.readdir(dir)).toEqual(['state.json']);
  });

  it('removeStaleTempFiles clears what a crash left', async () => {
    await fs.writeFile(path.join(dir, '.hosts.json.abc.tmp'), 'partial');
    await fs.writeFile(path.join(dir, 'hosts.json'), '{}');
    await removeStaleTempFiles(dir);
    expect(await fs.readdir(dir)).toEqual(['hosts.json']);
  });
});

describe('JsonStore', () => {
  const Schema = z.object({ version: z.literal(1), items: z.array(z.string()) });
  const initial = () => ({ version: 1 as const, items: [] });

  it('starts from the default, persists updates in order and reloads them', async () => {
    const file = path.join(dir, 'items.json');
    const store = new JsonStore(file, Schema, initial);
    expect(await store.load()).toEqual({ version: 1, items: [] });
    await Promise.all(['a', 'b', 'c'].map((x) => store.update((s) => ({ ...s, items: [...s.items, x] }))));
    const reloaded = await new JsonStore(file, Schema, initial).load();
    expect(reloaded.items).toEqual(['a', 'b', 'c']);
  });

  it('refuses a corrupt file instead of silently resetting it', async () => {
    const file = path.join(dir, 'items.json');
    await fs.writeFile(file, '{"version":1,"items":[1]}');
    await expect(new JsonStore(file, Schema, initial).load()).rejects.toBeInstanceOf(StoreCorruptError);
    await fs.writeFile(file, '{not json');
    await expect(new JsonStore(file, Schema, initial).load()).rejects.toThrow(/not a valid Ferry state file/);
    expect(await fs.readFile(file, 'utf8')).toBe('{not json');
  });

  it('an update that fails validation changes nothing on disk', async () => {
    const file = path.join(dir, 'items.json');
    const store = new JsonStore(file, Schema, initial);
    await store.update((s) => ({ ...s, items: ['kept'] }));
    await expect(store.update((s) => ({ ...s, items: [42 as unknown as string] }))).rejects.toThrow();
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ version: 1, items: ['kept'] });
    expect((await store.load()).items).toEqual(['kept']);
  });
});
