import { Clock, TimerHandle } from '../../src/planner/clock';

interface FakeTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock for planner tests. Like a real machine it has two clocks: timers run on a
 * monotonic one, `now()` is the wall clock. `advance` moves both together, running due
 * timers in order and letting promise chains settle after each; `jump` moves only the wall
 * clock (an NTP step or an operator changing the time); `stall` moves both without running
 * timers until the end (a blocked event loop).
 */
export class FakeClock implements Clock {
  private wall: number;
  private monotonic = 0;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(startMs: number) {
    this.wall = startMs;
  }

  now(): number {
    return this.wall;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.monotonic + Math.max(0, delayMs), seq, callback });
    return seq as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.monotonic + ms;
    await settle();
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.at > end) break;
      // A timer overdue after a stall runs now, late, as a real one would.
      this.moveTo(Math.max(next.at, this.monotonic));
      this.timers.delete(next.seq);
      next.callback();
      await settle();
    }
    this.moveTo(end);
    await settle();
  }

  /** Advances to the wall-clock instant `ms`. */
  advanceTo(ms: number): Promise<void> {
    return this.advance(Math.max(0, ms - this.wall));
  }

  /** The wall clock jumps by `ms` (negative: backwards); timers do not notice. */
  jump(ms: number): void {
    this.wall += ms;
  }

  /** The event loop is blocked for `ms`: time passes, timers run late, after it. */
  stall(ms: number): void {
    this.moveTo(this.monotonic + ms);
  }

  private moveTo(monotonic: number): void {
    this.wall += monotonic - this.monotonic;
    this.monotonic = monotonic;
  }

  private nextTimer(): FakeTimer | undefined {
    let next: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) {
        next = timer;
      }
    }
    return next;
  }
}

/** Lets pending promise callbacks (fake txns resolving) run to completion. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
