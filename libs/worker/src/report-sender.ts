import type { ExecutionReport, ReportOutcome, ReportResult } from '@forest/protocol';
import { ForestNodeError, isWorkerSessionLost } from './forest-worker.errors';
import type { ForestWorkerLogger } from './forest-worker.types';
import { reasonText } from './output-buffer';
import { backoffDelay, sleep } from './timing';

/** Largest batch sent at once (the protocol allows 1000). */
const MAX_BATCH_REPORTS = 500;
/** Rough JSON size cap per batch, well below a node's default 1 MiB body limit. */
const MAX_BATCH_CHARS = 256 * 1024;

/** The node's per-report outcomes, or why the whole batch cannot be delivered at all. */
export type SendOutcome = { results: ReportResult[] } | { giveUp: string };

export interface ReportSenderDeps {
  /**
   * Sends one batch under the current worker id (registering again first if the lease
   * was lost). Throws on network failure (the batch is retried) or a node's 4xx.
   */
  send(reports: ExecutionReport[]): Promise<SendOutcome>;
  /** A report was refused for good (conflict, not_found) or given up. */
  dropped(report: ExecutionReport, outcome: ReportOutcome | 'undeliverable', message: string): void;
  logger: ForestWorkerLogger;
  retryInitialMs: number;
  retryMaxMs: number;
}

interface QueuedReport {
  report: ExecutionReport;
  /** Send it alone: it was in a batch a node rejected as a whole (400, 413). */
  solo: boolean;
  /** A `running` report whose final report was queued before it went out: not sent. */
  superseded?: boolean;
}

/**
 * Sends reports through the batch endpoint with group commit: one request at a time, and
 * every report queued while a request is in flight goes in the next one. Reports are kept
 * (in order) and retried on network errors and while the worker re-registers; the node's
 * `conflict` / `not_found` outcomes drop them.
 *
 * A `running` report still queued when its execution's final report arrives is not sent:
 * the final one records the start too, and a fast handler's two reports would otherwise
 * travel (and be decided) together anyway.
 */
export class ReportSender {
  private queue: QueuedReport[] = [];
  /** Queued `running` reports not yet sent, by execution id. */
  private readonly queuedRunning = new Map<string, QueuedReport>();
  /** Superseded reports still in `queue`. */
  private superseded = 0;
  private inFlight = 0;
  private pumping = false;
  private idleWaiters: Array<() => void> = [];
  private readonly closing = new AbortController();

  constructor(private readonly deps: ReportSenderDeps) {}

  /** Reports queued or in flight. */
  get pending(): number {
    return this.queue.length - this.superseded + this.inFlight;
  }

  enqueue(report: ExecutionReport): void {
    if (report.status !== 'running') {
      const running = this.queuedRunning.get(report.executionId);
      if (running) {
        running.superseded = true;
        this.superseded++;
        this.queuedRunning.delete(report.executionId);
      }
    }
    const item: QueuedReport = { report, solo: false };
    this.queue.push(item);
    if (report.status === 'running') this.queuedRunning.set(report.executionId, item);
    void this.pump();
  }

  /**
   * Drops the `running` report of an execution if it is still queued (not yet sent): the
   * execution is no longer this worker's, so the node would refuse it anyway.
   */
  discardRunning(executionId: string): void {
    const item = this.queuedRunning.get(executionId);
    if (!item) return;
    item.superseded = true;
    this.superseded++;
    this.queuedRunning.delete(executionId);
    if (this.pending === 0) this.notifyIdle();
  }

  /** Resolves true once every report is settled, false if `timeoutMs` passed first (the rest are given up). */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([idle, timeout]);
      clearTimeout(timer);
    }
    if (this.pending === 0) return true;
    this.close();
    return false;
  }

  /** Gives up what is queued and stops retrying. */
  close(): void {
    this.closing.abort();
    const left = this.queue.filter((item) => !item.superseded);
    this.queue = [];
    this.queuedRunning.clear();
    this.superseded = 0;
    for (const { report } of left) {
      this.deps.dropped(report, 'undeliverable', 'the worker stopped before it could be sent');
    }
    this.notifyIdle();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let failures = 0;
    try {
      while (this.queue.length > 0 && !this.closing.signal.aborted) {
        const batch = this.takeBatch();
        if (batch.length === 0) continue; // only superseded reports were left
        this.inFlight = batch.length;
        let retry: 'now' | 'later' | undefined;
        try {
          const outcome = await this.deps.send(batch.map((item) => item.report));
          failures = 0;
          if ('giveUp' in outcome) {
            for (const { report } of batch)
              this.deps.dropped(report, 'undeliverable', outcome.giveUp);
          } else {
            this.settle(batch, outcome.results);
          }
        } catch (error) {
          retry = this.onSendError(batch, error);
        } finally {
          this.inFlight = 0;
        }
        if (retry === 'later') {
          failures++;
          const delay = backoffDelay(failures, this.deps.retryInitialMs, this.deps.retryMaxMs);
          await sleep(delay, this.closing.signal);
        }
      }
    } finally {
      this.pumping = false;
      if (this.closing.signal.aborted) this.close();
      if (this.pending === 0) this.notifyIdle();
    }
  }

  private takeBatch(): QueuedReport[] {
    const batch: QueuedReport[] = [];
    let chars = 0;
    let taken = 0;
    for (; taken < this.queue.length && batch.length < MAX_BATCH_REPORTS; taken++) {
      const item = this.queue[taken];
      if (item.superseded) {
        this.superseded--;
        continue;
      }
      if (item.solo) {
        // Alone: as the first of a batch, else it waits for the next one.
        if (batch.length === 0) {
          batch.push(item);
          taken++;
        }
        break;
      }
      const size = approxSize(item.report);
      if (batch.length > 0 && chars + size > MAX_BATCH_CHARS) break;
      chars += size;
      batch.push(item);
    }
    this.queue.splice(0, taken);
    for (const item of batch) {
      if (this.queuedRunning.get(item.report.executionId) === item) {
        this.queuedRunning.delete(item.report.executionId);
      }
    }
    return batch;
  }

  private settle(batch: QueuedReport[], results: ReportResult[] | undefined): void {
    const list = Array.isArray(results) ? results : [];
    batch.forEach(({ report }, i) => {
      const result =
        list[i]?.executionId === report.executionId
          ? list[i]
          : list.find((r) => r.executionId === report.executionId);
      if (!result) {
        this.deps.dropped(report, 'undeliverable', 'the node returned no outcome for it');
      } else if (result.outcome !== 'accepted') {
        this.deps.dropped(report, result.outcome, result.message ?? '');
      }
    });
  }

  /**
   * Decides what happens to a batch whose request failed; requeues it at the front if it
   * is retried. A node's 4xx is final; network errors, 5xx (and a lease lost again and
   * again) are retried with backoff.
   */
  private onSendError(batch: QueuedReport[], error: unknown): 'now' | 'later' | undefined {
    const requeue = (solo: boolean) => {
      this.queue.unshift(
        ...batch.map((item) => ({ report: item.report, solo: item.solo || solo })),
      );
    };
    // A lost lease or refused session gets here only when re-registering keeps failing; see send().
    if (!isWorkerSessionLost(error) && error instanceof ForestNodeError) {
      if (batch.length > 1) {
        // One bad report must not sink the others: send each alone to find it.
        requeue(true);
        return 'now';
      }
      this.deps.dropped(batch[0].report, 'undeliverable', error.message);
      return undefined;
    }
    requeue(false);
    this.deps.logger.warn(
      `forest worker: sending ${batch.length} report(s) failed, will retry: ${reasonText(error)}`,
    );
    return 'later';
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function approxSize(report: ExecutionReport): number {
  return 64 + (report.output?.length ?? 0) * 1.2 + (report.error?.length ?? 0) * 1.2;
}
