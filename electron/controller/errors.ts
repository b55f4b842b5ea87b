/**
 * ControllerError: the one error type that crosses the console boundary. Its code is from the
 * contract's ConsoleErrorCode, so the renderer can translate it; the message says what to do.
 */
import type { ConsoleError, ConsoleErrorCode } from '../contract/console.ts';
import type { z } from 'zod';

export class ControllerError extends Error {
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    readonly issues?: ConsoleError['issues'],
  ) {
    super(message);
    this.name = 'ControllerError';
  }

  toConsoleError(): ConsoleError {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message };
  }

  static fromZod(what: string, error: z.ZodError): ControllerError {
    const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const first = issues[0];
    const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'schema mismatch';
    return new ControllerError('invalid-request', `Invalid request for ${what}: ${summary}`, issues);
  }
}

/** Any error as a ConsoleError; unexpected ones become 'internal' without leaking stack traces. */
export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ControllerError) return err.toConsoleError();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Ferry hit an unexpected error: ${message}. Check the log and try again.` };
}
