// The task's bandwidth limit (TokenBucket): a take() beyond the budget waits, and bytes given back
// (read, then not sent that way after all) are not counted twice.
import { expect, it } from 'vitest';
import { TokenBucket } from '../../agent/engine/bandwidth.ts';

const LIMIT = { bytesPerSec: 4, windows: [] };
const later = (ms: number) => new Promise<'waited'>((r) => setTimeout(() => r('waited'), ms));
const firstOf = (take: Promise<void>, ms: number) => Promise.race([take.then(() => 'taken' as const), later(ms)]);

it('without a limit every take passes at once', async () => {
  const bucket = new TokenBucket(null);
  await bucket.take(1e12);
  expect(await firstOf(bucket.take(1e12), 1000)).toBe('taken');
});

it('a take into debt makes the next one wait; giving the bytes back does not', async () => {
  const owing = new TokenBucket(LIMIT);
  await owing.take(100); // 4 B/s: about 25 s of debt
  expect(await firstOf(owing.take(1), 1500)).toBe('waited');

  const returned = new TokenBucket(LIMIT);
  await returned.take(100);
  returned.giveBack(100);
  expect(await firstOf(returned.take(1), 1500)).toBe('taken');
});
