/** Any thrown value as a small, serialisable problem the UI can translate by code. */
import type { ConsoleErrorCode } from '../../../electron/contract/console.ts';
import { ConsoleCallError, ConsoleUnreachableError } from './types.ts';

export interface Problem {
  code: ConsoleErrorCode | 'unreachable';
  message: string;
}

export function describeError(err: unknown): Problem {
  if (err instanceof ConsoleCallError) return { code: err.code, message: err.message };
  if (err instanceof ConsoleUnreachableError) return { code: 'unreachable', message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
