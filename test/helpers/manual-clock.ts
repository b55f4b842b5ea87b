/**
 * A clock a test moves by hand, for the run scheduler: `now()` is the real time at creation plus
 * what the test advanced (so run end times stamped with the real clock compare sensibly), and its
 * timers fire only inside advance(), in due order.
 */
import type { SchedulerClock } from '../../electron/controller/run-scheduler.ts';

interface Pending {
  id: number;
  dueMs: number;
  fn: () => void;
}

export class ManualClock implements SchedulerClock {
  private offsetMs = 0;
  private nextId = 1;
  private pending: Pending[] = [];

  constructor(private readonly base: () => number = () => Date.now()) {}

  now(): number {
    return this.base() + this.offsetMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ id, dueMs: this.now() + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Timers not fired yet. */
  get timers(): number {
    return this.pending.length;
  }

  /** When the earliest timer is due (epoch ms), or null. */
  get nextDueMs(): number | null {
    return this.pending.length === 0 ? null : Math.min(...this.pending.map((p) => p.dueMs));
  }

  /** Moves time on by `ms` and fires every timer that fell due, earliest first. */
  advance(ms: number): void {
    this.offsetMs += ms;
    for (;;) {
      const due = this.pending.filter((p) => p.dueMs <= this.now()).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (!due) return;
      this.pending = this.pending.filter((p) => p !== due);
      due.fn();
    }
  }
}
