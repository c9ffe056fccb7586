import { AuditEntry } from './audit.types';

/** Writes one batch of entries (one store txn). */
export type AuditSink = (entries: AuditEntry[]) => Promise<void>;

export interface AuditWriterOptions {
  /** The longest an entry waits before its batch is written. */
  flushIntervalMs: number;
  /** A batch this full is written at once (and is the most one write carries). */
  maxBatch: number;
  /** The most entries waiting (during a store outage); beyond it the oldest are dropped. */
  maxQueued: number;
  /** First delay after a failed write; doubles up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Called once per failed write (the writer itself never throws). */
  onWriteFailed?: (error: unknown, batchSize: number, stats: AuditWriterStats) => void;
}

export interface AuditWriterStats {
  /** Entries handed to `record`. */
  recorded: number;
  /** Entries stored. */
  written: number;
  /** Store writes that failed (their entries wait for the next try). */
  failedWrites: number;
  /** Entries given up: the queue overflowed during an outage, or they were left at close. */
  dropped: number;
  /** Entries waiting to be written. */
  queued: number;
  /** Store writes made (each one txn of up to `maxBatch` entries). */
  writes: number;
}

export const DEFAULT_AUDIT_WRITER_OPTIONS: AuditWriterOptions = {
  flushIntervalMs: 100,
  maxBatch: 64,
  maxQueued: 10_000,
  retryDelayMs: 500,
  maxRetryDelayMs: 10_000,
};

/**
 * Group commit for the audit log: `record` only queues (it never blocks or throws), and
 * one write at a time stores up to `maxBatch` entries — when a batch is full, or
 * `flushIntervalMs` after the first entry of a batch arrived. Entries that arrive while a
 * write is in flight wait for the next. A burst of API calls is thus a handful of store
 * txns, not one per call.
 *
 * A failed write keeps its entries (in order, ahead of newer ones) and tries again after a
 * backoff; a queue beyond `maxQueued` drops its oldest entries, counted in `dropped`.
 */
export class AuditWriter {
  private queue: AuditEntry[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private backingOff = false;
  private retryDelayMs: number;
  private closed = false;
  private readonly counters = { recorded: 0, written: 0, failedWrites: 0, dropped: 0, writes: 0 };

  constructor(
    private readonly sink: AuditSink,
    private readonly options: AuditWriterOptions = DEFAULT_AUDIT_WRITER_OPTIONS,
  ) {
    this.retryDelayMs = options.retryDelayMs;
  }

  get stats(): AuditWriterStats {
    return { ...this.counters, queued: this.queue.length };
  }

  /** Queues an entry; it is written within `flushIntervalMs` (or at once in a full batch). */
  record(entry: AuditEntry): void {
    this.counters.recorded++;
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    this.queue.push(entry);
    this.trim();
    if (this.queue.length >= this.options.maxBatch) this.writeNext();
    else this.schedule(this.options.flushIntervalMs);
  }

  /** Writes everything queued now (tests, shutdown); failures stay queued. */
  async flush(): Promise<void> {
    for (let rounds = 0; rounds < 1000; rounds++) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.queue.length === 0 || this.backingOff) return;
      const failuresBefore = this.counters.failedWrites;
      this.writeNext();
      await this.currentWrite();
      if (this.counters.failedWrites > failuresBefore) return;
    }
  }

  /**
   * Stops taking entries and writes what is queued (one try per batch); what cannot be
   * written is counted as dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.backingOff = false;
    await this.inFlight;
    while (this.queue.length > 0) {
      const failuresBefore = this.counters.failedWrites;
      this.writeNext();
      await this.currentWrite();
      if (this.counters.failedWrites > failuresBefore) break;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.counters.dropped += this.queue.length;
    this.queue = [];
  }

  /** The write in flight (settled when none). */
  private currentWrite(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.backingOff = false;
      this.writeNext();
    }, delayMs);
    this.timer.unref?.();
  }

  private writeNext(): void {
    if (this.inFlight || this.backingOff || this.queue.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.counters.writes++;
    this.inFlight = this.sink(batch).then(
      () => {
        this.counters.written += batch.length;
        this.retryDelayMs = this.options.retryDelayMs;
        this.inFlight = undefined;
        this.afterWrite();
      },
      (error: unknown) => {
        this.counters.failedWrites++;
        this.queue.unshift(...batch);
        this.trim();
        this.inFlight = undefined;
        this.notifyFailure(error, batch.length);
        if (this.closed) return;
        this.backingOff = true;
        const delay = this.retryDelayMs;
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.options.maxRetryDelayMs);
        this.schedule(delay);
      },
    );
  }

  /** Entries that arrived during the write: a full batch goes at once, else after the interval. */
  private afterWrite(): void {
    if (this.closed || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch) this.writeNext();
    else this.schedule(this.options.flushIntervalMs);
  }

  private trim(): void {
    const excess = this.queue.length - this.options.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.counters.dropped += excess;
    }
  }

  private notifyFailure(error: unknown, batchSize: number): void {
    try {
      this.options.onWriteFailed?.(error, batchSize, this.stats);
    } catch {
      // A logger that throws must not stop the writer.
    }
  }
}
