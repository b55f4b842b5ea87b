/**
 * The engine's error type, classified by what the caller should do:
 *   'file'      skip this entry, record it in the report, go on;
 *   'task'      stop the task (pause or fail) with the reason (e.g. mount lost);
 *   'transient' retry later or elsewhere, with backoff (e.g. a destination unreachable).
 * `code` is stable (report and UI key on it); `message` says what happened and what to do.
 */
import { FsError } from '../fs/errors.ts';
import { relToDisplay } from '../fs/relpath.ts';

export type ErrorScope = 'file' | 'task' | 'transient';

export class EngineError extends Error {
  readonly scope: ErrorScope;
  readonly code: string;
  constructor(scope: ErrorScope, code: string, message: string) {
    super(message);
    this.name = 'EngineError';
    this.scope = scope;
    this.code = code;
  }
}

/** The stable code and message for any error met while handling one entry. */
export function describeError(err: unknown): { code: string; message: string; scope: ErrorScope } {
  if (err instanceof EngineError) return { code: err.code, message: err.message, scope: err.scope };
  if (err instanceof FsError) {
    if (err.code === 'mount-lost') return { code: 'mount-lost', message: err.message, scope: 'task' };
    // A full file system fails every file after this one too: stop the task, the operator frees space and resumes.
    if (err.errno === 'ENOSPC' || err.errno === 'EDQUOT') return { code: 'destination-full', message: destinationFullMessage(err), scope: 'task' };
    const code = err.code === 'io' ? (err.errno ?? 'io') : err.code;
    return { code, message: err.message, scope: 'file' };
  }
  const errno = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof errno === 'string' && /^E[A-Z0-9]+$/.test(errno)) return { code: errno, message, scope: 'file' };
  return { code: 'internal', message, scope: 'file' };
}

function destinationFullMessage(err: FsError): string {
  const what = err.errno === 'EDQUOT' ? 'is over its quota' : 'has no space left';
  const where = err.path ? ` (writing "${relToDisplay(err.path)}")` : '';
  return `The destination ${what}${where}. Free space on it or raise the quota, then resume the task: files already verified are not copied again.`;
}
