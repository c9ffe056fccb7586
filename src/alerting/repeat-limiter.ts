/** Repeats of one key held back during a window, sent as one summary when it ends. */
export interface HeldRepeats<T> {
  key: string;
  /** How many were held back. */
  count: number;
  /** When the first of them was held (epoch ms). */
  since: number;
  /** The latest one held: a summary carries its details. */
  latest: T;
}

interface Window<T> {
  endsAt: number;
  held: number;
  since: number;
  latest?: T;
}

/**
 * Rate-limits repeated alerts per key (a job and an event). The first alert of a key is
 * sent at once and opens a window; repeats inside it are counted, not sent. When the window
 * ends with repeats, `due()` returns one summary for them and a new window opens, so a job
 * failing every second sends one alert and then one summary per window, not thousands.
 * A quiet window closes, and the next alert is again sent at once.
 */
export class RepeatLimiter<T> {
  private readonly windows = new Map<string, Window<T>>();

  constructor(private readonly windowMs: number) {}

  /** True: send it now. False: held back, counted for the next summary. */
  admit(key: string, item: T, now: number): boolean {
    if (this.windowMs <= 0) return true;
    const window = this.windows.get(key);
    if (!window || now >= window.endsAt) {
      if (window && window.held > 0) return this.hold(window, item, now); // summary not out yet
      this.windows.set(key, { endsAt: now + this.windowMs, held: 0, since: now });
      return true;
    }
    return this.hold(window, item, now);
  }

  /** Summaries of the windows that have ended with repeats; their next windows open. */
  due(now: number): HeldRepeats<T>[] {
    const summaries: HeldRepeats<T>[] = [];
    for (const [key, window] of this.windows) {
      if (now < window.endsAt) continue;
      if (window.held === 0) {
        this.windows.delete(key);
        continue;
      }
      summaries.push({ key, count: window.held, since: window.since, latest: window.latest! });
      this.windows.set(key, { endsAt: now + this.windowMs, held: 0, since: now });
    }
    return summaries;
  }

  /** Keys with an open window (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  private hold(window: Window<T>, item: T, now: number): false {
    if (window.held === 0) window.since = now;
    window.held++;
    window.latest = item;
    return false;
  }
}
