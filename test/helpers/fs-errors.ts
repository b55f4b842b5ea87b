// The FsError a call throws (the test fails when it throws something else, or nothing).
import { expect } from 'vitest';
import { FsError } from '../../agent/fs/errors.ts';

export function fsErrorOf(fn: () => unknown): FsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FsError);
    return err as FsError;
  }
  throw new Error('expected an FsError, nothing was thrown');
}
