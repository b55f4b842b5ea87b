/**
 * The one ConsoleApi of this page, set once at startup (or by a unit test with a fake).
 * Stores reach Ferry only through it.
 */
import type { ConsoleApi } from './types.ts';

let current: ConsoleApi | null = null;

export function setConsoleApi(api: ConsoleApi | null): void {
  current = api;
}

export function consoleApi(): ConsoleApi {
  if (!current) throw new Error('The Ferry console is not connected yet.');
  return current;
}
