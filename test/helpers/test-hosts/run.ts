/**
 * Test lab: runs the Linux tools the lab is built with (ip, ssh-keygen, nsenter) and says which
 * command failed with its stderr. Never runs anything through a shell the caller did not ask for.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runCommand(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(new Error(`test lab: cannot run ${cmd}: ${err.message}`));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function mustRun(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const result = await runCommand(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`test lab: "${cmd} ${args.join(' ')}" failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

/** `ip` with the given arguments; throws on failure. */
export function ip(...args: string[]): Promise<string> {
  return mustRun('ip', args);
}

/** `ip` that may fail (cleanup of things that may not exist). */
export async function ipQuiet(...args: string[]): Promise<void> {
  await runCommand('ip', args);
}
