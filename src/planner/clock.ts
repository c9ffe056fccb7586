/**
 * Wall-clock time and timers, behind an interface so the planner can be tested with a
 * fake clock (DST, clock jumps, stalls) instead of waiting in real time.
 */
export interface Clock {
  /** Epoch ms (wall clock: it can jump when the system time is changed). */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    // The planner's timer alone must not keep a process alive that is shutting down.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
