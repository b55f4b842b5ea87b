/**
 * SHA-256 of the local files Ferry deploys (the agent runtime is ~120 MB), cached in memory by
 * path, size, inode and mtime so deploying to many hosts hashes each file once. Reads only.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { AgentError } from './errors.ts';

const cache = new Map<string, { key: string; sha256: string }>();

export interface LocalFileInfo {
  path: string;
  size: number;
  sha256: string;
}

export async function hashLocalFile(file: string): Promise<LocalFileInfo> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    throw new AgentError('local-file-missing', `Ferry cannot read ${file} to deploy it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Build the agent first (node build/build.mjs).`);
  }
  const key = `${stat.size}:${stat.ino}:${stat.mtimeMs}`;
  const hit = cache.get(file);
  if (hit?.key === key) return { path: file, size: stat.size, sha256: hit.sha256 };
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
  const sha256 = hash.digest('hex');
  cache.set(file, { key, sha256 });
  return { path: file, size: stat.size, sha256 };
}
