/**
 * A list of callbacks for one kind of change. `emit` calls each in subscription order and
 * contains their failures: a listener that throws is reported through `onError` and the
 * others still run, so one bad listener never breaks a watch callback.
 */
export class Listeners<Args extends unknown[]> {
  private readonly list: ((...args: Args) => void)[] = [];

  constructor(
    private readonly name: string,
    private readonly onError: (message: string) => void,
  ) {}

  /** Subscribes `listener`; the returned function unsubscribes it. */
  add(listener: (...args: Args) => void): () => void {
    this.list.push(listener);
    return () => {
      const at = this.list.indexOf(listener);
      if (at >= 0) this.list.splice(at, 1);
    };
  }

  emit(...args: Args): void {
    for (const listener of [...this.list]) {
      try {
        listener(...args);
      } catch (error) {
        this.onError(`a ${this.name} listener failed (${String(error)})`);
      }
    }
  }
}
