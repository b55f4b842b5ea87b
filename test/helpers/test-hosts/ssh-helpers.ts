/**
 * Helpers for tests of Ferry's SSH layer against the lab: a fresh data dir per test file, an
 * expectation for SshError codes, and an ssh-agent started (and stopped by pid) for agent tests.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { SshError, type SshErrorCode } from '../../../electron/ssh/errors.ts';
import { mustRun } from './run.ts';

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function expectSshError(promise: Promise<unknown>, code: SshErrorCode): Promise<SshError> {
  let caught: unknown;
  try {
    const value = await promise;
    if (value && typeof (value as { close?: unknown }).close === 'function') await (value as { close: () => Promise<void> }).close();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected SshError ${code}`).toBeInstanceOf(SshError);
  const err = caught as SshError;
  expect(err.code, err.message).toBe(code);
  return err;
}

export interface TestAgent {
  socket: string;
  stop(): Promise<void>;
}

/** Starts ssh-agent on a socket in `dir` and adds the given keys. */
export async function startSshAgent(dir: string, keys: string[]): Promise<TestAgent> {
  const socket = path.join(dir, 'agent.sock');
  const out = await mustRun('ssh-agent', ['-s', '-a', socket]);
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
  if (!pid) throw new Error(`ssh-agent printed no pid: ${out}`);
  for (const key of keys) await mustRun('sh', ['-c', `SSH_AUTH_SOCK='${socket}' ssh-add -q '${key}'`]);
  return {
    socket,
    stop: async () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    },
  };
}
