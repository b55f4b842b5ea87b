/**
 * Owns the filesystem layer's error type: FsError with a stable code from api.ts (FsErrorCode), the OS
 * errno name when there was one, and the path (bytes) it concerns. `classify` turns whatever a Node fs
 * call (or the native addon) threw into an FsError, so the engine only ever sees one shape.
 */
import type { FsErrorCode } from './api.ts';

export class FsError extends Error {
  readonly code: FsErrorCode;
  /** OS error name ('ENOENT', 'EACCES', …) when the error came from a system call. */
  readonly errno?: string;
  readonly path?: Buffer;

  constructor(code: FsErrorCode, message: string, options: { errno?: string; path?: Buffer; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FsError';
    this.code = code;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.path !== undefined) this.path = options.path;
  }
}

/** The OS error name of an error thrown by Node's fs or the addon ('ENOENT'…), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** True when `err` is an OS error with that name, e.g. isErrno(e, 'ENOENT'). */
export function isErrno(err: unknown, name: string): boolean {
  return errnoOf(err) === name;
}

const CODE_FOR_ERRNO: Record<string, FsErrorCode> = {
  ENAMETOOLONG: 'path-too-long',
  ENOTDIR: 'not-a-directory',
  ELOOP: 'not-a-directory', // O_NOFOLLOW met a symlink where a real file or directory was expected
};

/**
 * Normalizes any thrown value to an FsError. An FsError passes through unchanged; an OS error keeps its
 * errno name and gets the matching FsErrorCode ('io' unless it is one of the few with their own code).
 */
export function classify(err: unknown, path?: Buffer): FsError {
  if (err instanceof FsError) return err;
  const errno = errnoOf(err);
  const code: FsErrorCode = (errno && CODE_FOR_ERRNO[errno]) || 'io';
  const message = err instanceof Error ? err.message : String(err);
  const options: { errno?: string; path?: Buffer; cause?: unknown } = { cause: err };
  if (errno !== undefined) options.errno = errno;
  if (path !== undefined) options.path = path;
  return new FsError(code, message, options);
}
