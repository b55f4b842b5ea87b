/**
 * File uploads over an SshSession. Two ways, both atomic on the host (write a temp name next to the
 * target, set the mode, rename over the target): SFTP, and gzip through `gzip -dc` on the host
 * (far fewer bytes for binaries such as the agent runtime). Never leaves a partial file under the
 * target name; removes its temp file when it fails.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { SshError } from './errors.ts';
import type { SshSession } from './session.ts';
import { sftpPath, shPath, shQuote } from './shell.ts';

export interface UploadOptions {
  /** File mode on the host (default 0o644). */
  mode?: number;
  /** Called with bytes of the local file read so far. */
  onProgress?: (bytes: number) => void;
}

export interface UploadResult {
  /** Size of the local file. */
  bytes: number;
  /** Bytes sent as payload (compressed size for uploadCompressed). */
  payloadBytes: number;
  ms: number;
}

function tempName(remotePath: string): string {
  const dir = path.posix.dirname(remotePath);
  return path.posix.join(dir, `.${path.posix.basename(remotePath)}.ferry-upload-${randomBytes(6).toString('hex')}`);
}

async function localSize(localPath: string): Promise<number> {
  try {
    return (await fs.stat(localPath)).size;
  } catch (err) {
    throw new SshError('upload-failed', `Ferry cannot read ${localPath} to upload it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

export async function uploadSftp(session: SshSession, localPath: string, remotePath: string, options: UploadOptions = {}): Promise<UploadResult> {
  const started = Date.now();
  const size = await localSize(localPath);
  const sftp = await session.sftp();
  const target = sftpPath(remotePath);
  const temp = tempName(target);
  const mode = options.mode ?? 0o644;
  const call = (what: string, fn: (cb: (err?: Error | null) => void) => void): Promise<void> =>
    new Promise((resolve, reject) =>
      fn((err) => {
        if (err) reject(new SshError('upload-failed', `Uploading ${path.basename(localPath)} to ${session.label}:${remotePath} failed while ${what} (${err.message}). Check free space and permissions on the host.`));
        else resolve();
      }),
    );
  try {
    await call('writing', (cb) =>
      sftp.fastPut(localPath, temp, { mode, concurrency: 64, chunkSize: 32 * 1024, step: (done) => options.onProgress?.(done) }, cb),
    );
    await call('setting its mode', (cb) => sftp.chmod(temp, mode, cb));
    await call('renaming it into place', (cb) => sftp.ext_openssh_rename(temp, target, cb));
  } catch (err) {
    await new Promise<void>((resolve) => sftp.unlink(temp, () => resolve()));
    throw err;
  }
  return { bytes: size, payloadBytes: size, ms: Date.now() - started };
}

export async function uploadCompressed(
  session: SshSession,
  localPath: string,
  remotePath: string,
  options: UploadOptions & { level?: number } = {},
): Promise<UploadResult> {
  const started = Date.now();
  const size = await localSize(localPath);
  const temp = tempName(remotePath);
  const mode = (options.mode ?? 0o644).toString(8);
  const command = `sh -c ${shQuote(`umask 077 && gzip -dc > ${shPath(temp)} && chmod ${mode} ${shPath(temp)} && mv -f ${shPath(temp)} ${shPath(remotePath)} || { rc=$?; rm -f ${shPath(temp)}; exit $rc; }`)}`;
  const stream = await session.execStream(command);
  let read = 0;
  let compressed = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      options.onProgress?.(read);
      cb(null, chunk);
    },
  });
  const counter = new PassThrough();
  counter.on('data', (chunk: Buffer) => (compressed += chunk.length));
  const stderr: Buffer[] = [];
  stream.stderr.on('data', (c: Buffer) => stderr.push(c));
  stream.stdout.resume();
  try {
    await pipeline(createReadStream(localPath, { highWaterMark: 1024 * 1024 }), progress, createGzip({ level: options.level ?? 1 }), counter, stream.stdin);
  } catch (err) {
    stream.kill();
    await stream.done.catch(() => undefined);
    if (err instanceof SshError) throw err;
    throw new SshError('upload-failed', `Uploading ${path.basename(localPath)} to ${session.label}:${remotePath} failed (${(err as Error).message}). Check the connection and try again.`);
  }
  const { code } = await stream.done;
  if (code !== 0) {
    const why = Buffer.concat(stderr).toString('utf8').trim() || `exit ${code}`;
    throw new SshError('upload-failed', `Writing ${remotePath} on ${session.label} failed (${why}). Check free space and permissions on the host.`);
  }
  return { bytes: size, payloadBytes: compressed, ms: Date.now() - started };
}
