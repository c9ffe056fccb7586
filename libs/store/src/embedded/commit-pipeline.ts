/**
 * Group commit: the order in which changes become durable and callers hear about it.
 *
 * A change is applied to memory at once (so the next request sees it and the order of
 * requests is the order of the log), queued here with the next log sequence number, and
 * written by a single background loop. While one write + fsync is in flight every new change
 * waits in the queue; the loop then writes all of them with one write and one fsync. So
 * throughput is not bounded by one fsync per change, and a caller is answered only once its
 * change (and every change before it) is on disk.
 */

export interface Entry<T> {
  lsn: number;
  item: T;
}

interface Waiter {
  lsn: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface CommitSink<T> {
  /** Writes and fsyncs one batch (lsns ascending, contiguous). A rejection is fatal. */
  write(batch: Array<Entry<T>>): Promise<void>;
  /** The batch is durable: publish it (watch events). Called before any waiter resolves. */
  durable(batch: Array<Entry<T>>): void;
  /** The log failed; nothing can be trusted to be durable any more. */
  failed(error: Error): void;
}

export class CommitPipeline<T> {
  private queue: Array<Entry<T>> = [];
  private waiters: Waiter[] = [];
  private loop?: Promise<void>;
  private failure?: Error;
  private appliedLsn: number;
  private durableLsn: number;
  private flushCount = 0;

  constructor(
    lastLsn: number,
    private readonly sink: CommitSink<T>,
  ) {
    this.appliedLsn = lastLsn;
    this.durableLsn = lastLsn;
  }

  /** The lsn of the last change applied to memory (durable or not). */
  get lastLsn(): number {
    return this.appliedLsn;
  }

  /** How many write + fsync rounds ran (to observe the batching). */
  get flushes(): number {
    return this.flushCount;
  }

  /** Queues a change that was just applied; resolves once it is durable. */
  submit(item: T): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const lsn = ++this.appliedLsn;
    this.queue.push({ lsn, item });
    this.start();
    return this.waitFor(lsn);
  }

  /**
   * Resolves once everything applied so far is durable. A read waits on this, so nobody can
   * act on a value that a crash would take back.
   */
  barrier(): Promise<void> {
    return this.waitFor(this.appliedLsn);
  }

  /** Resolves when the queue is empty and no write is in flight. */
  async drain(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private waitFor(lsn: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (lsn <= this.durableLsn) return Promise.resolve();
    // Waiters arrive with the newest lsn, so the list stays sorted.
    return new Promise((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
  }

  private start(): void {
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.sink.write(batch);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      this.flushCount++;
      this.durableLsn = batch[batch.length - 1].lsn;
      this.sink.durable(batch);
      const done = this.waiters.findIndex((waiter) => waiter.lsn > this.durableLsn);
      const released = this.waiters.splice(0, done < 0 ? this.waiters.length : done);
      released.forEach((waiter) => waiter.resolve());
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    this.queue = [];
    this.waiters.splice(0).forEach((waiter) => waiter.reject(error));
    this.sink.failed(error);
  }
}
