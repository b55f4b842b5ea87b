/**
 * A token bucket for the task's bandwidth limit, optionally active only inside time-of-day windows
 * (local time of the source host). Senders await take(bytes) before each chunk; with no limit (or
 * outside every window) take() resolves at once. One bucket per source worker and task.
 */
import type { BandwidthLimit } from '../protocol/task.ts';

export class TokenBucket {
  private readonly limit: BandwidthLimit | null;
  private tokens: number;
  private last = performance.now();

  constructor(limit: BandwidthLimit | null) {
    this.limit = limit;
    // Burst: a quarter second of traffic, at least one chunk so a 1 MiB frame can ever pass.
    this.tokens = limit ? Math.max(limit.bytesPerSec / 4, 1) : 0;
  }

  /** Whether the limit applies at this moment. */
  active(now = new Date()): boolean {
    if (!this.limit) return false;
    if (this.limit.windows.length === 0) return true;
    const minute = now.getHours() * 60 + now.getMinutes();
    return this.limit.windows.some((w) => (w.from <= w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to));
  }

  /** Returns what a take() counted for bytes that were not sent after all (they are taken again later). */
  giveBack(bytes: number): void {
    if (this.limit) this.tokens += bytes;
  }

  async take(bytes: number): Promise<void> {
    if (!this.limit || !this.active()) return;
    const rate = this.limit.bytesPerSec;
    const burst = Math.max(rate / 4, 1);
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
      if (this.tokens > 0) {
        // Go into debt for a large chunk rather than never sending it; the debt is paid by waiting.
        this.tokens -= bytes;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.ceil((-this.tokens / rate) * 1000) + 1)));
    }
  }
}
