/** A plugin call that threw, returned nonsense, or did not answer in time. */
export class PluginCallError extends Error {}

/** A plugin call that did not answer within its deadline. */
export class PluginCallTimeoutError extends PluginCallError {}

/** How a plugin call failed, for the metrics: it ran out of time, or it threw. */
export function failureOf(error: unknown): 'timeout' | 'error' {
  return error instanceof PluginCallTimeoutError ? 'timeout' : 'error';
}

/**
 * Runs one call into a plugin with a deadline. The call gets an AbortSignal that fires at
 * the deadline, so a well-behaved plugin can stop its own work; one that ignores it is
 * simply no longer awaited. Rejects with PluginCallError (thrown errors are wrapped), so
 * callers log one kind of failure. A synchronous infinite loop cannot be cut off from
 * inside the process: plugins must not block the event loop.
 */
export function callWithin<T>(
  label: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => T | PromiseLike<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new PluginCallTimeoutError(`${label} did not answer within ${timeoutMs}ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    timer.unref?.();
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    let result: T | PromiseLike<T>;
    try {
      result = run(controller.signal);
    } catch (error) {
      return settle(() => reject(wrap(label, error)));
    }
    Promise.resolve(result).then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(wrap(label, error))),
    );
  });
}

export function wrap(label: string, error: unknown): PluginCallError {
  if (error instanceof PluginCallError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PluginCallError(`${label} failed: ${message}`, { cause: error });
}

export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Logs a plugin's failures without flooding: the first failure of a key is logged at
 * once, later ones within `intervalMs` are counted and reported with the next line.
 */
export class ThrottledWarnings {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly warn: (message: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warnOnce(key: string, message: string): void {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.held++;
      return;
    }
    const held = entry?.held ?? 0;
    this.last.set(key, { at: now, held: 0 });
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    this.warn(
      held > 0
        ? `${message} (and ${held} similar in the last ${Math.round(this.intervalMs / 1000)}s)`
        : message,
    );
  }
}
