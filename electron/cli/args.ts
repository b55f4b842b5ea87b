/**
 * Option parsing shared by the CLI commands: a thin, strict wrapper over node:util parseArgs
 * that turns its errors into a CliUsageError telling the operator what to type instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals: boolean,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n${usage}`);
  }
}

export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliUsageError(`--port must be a number from 0 to 65535 (0 picks a free port), not "${value}".`);
  }
  return port;
}
