import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ExecutionRecord, executionKeyOf } from '@forest/protocol';
import { Compare, CoordinationStore, TxnOp } from '@forest/store';
import { MetricsService } from '../metrics/metrics.service';
import { InjectStore } from '../store/store.tokens';
import { ExecutionHistory } from './history.port';
import { InjectHistory } from './history.tokens';

/** A final execution as it is stored live: its record and the revision that wrote it. */
export interface FinishedExecution {
  record: ExecutionRecord;
  /** The mod revision of its key: the delete compares it. */
  modRevision: number;
}

export interface MoveReport {
  moved: number;
  /** Their live key had changed or was gone (another mover was first): left as they are. */
  skipped: number;
}

/** Records per history append and per flush. */
const BATCH = 256;
/** How long a finish waits for others to join its batch. */
const LINGER_MS = 20;
/** Deletes per txn (a compare and a delete each), under etcd's 128-op limit. */
const DELETES_PER_TXN = 100;
/**
 * Batches moved at once. One batch is a history round trip then etcd ones; in sequence they
 * would cap moving at a few thousand executions/s, below what the node finishes at load.
 */
const MAX_FLUSHES_IN_FLIGHT = 4;

/**
 * Moves executions out of the coordination store once they reached a final status: the
 * record is appended to the history first (idempotent by id), then its live key is
 * deleted in a txn that compares the key's mod revision, so a crash between the two steps
 * leaves the record in both places and the next move (the writer's own, or the leader's
 * HistorySweeper) finds it already in the history and only deletes it: nothing is lost and
 * nothing is recorded twice. With StoreHistory both steps are one txn.
 *
 * Every writer that finishes executions hands them over right after its txn committed
 * (`moveSoon`), so the store holds a finished record for a few ms; the sweeper catches
 * what a crash or an unavailable history database left behind.
 */
@Injectable()
export class HistoryMover implements OnApplicationShutdown {
  private readonly logger = new Logger(HistoryMover.name);
  private queue: FinishedExecution[] = [];
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private lastWarnMs = 0;
  private closed = false;

  constructor(
    @InjectHistory() private readonly history: ExecutionHistory,
    @InjectStore() private readonly store: CoordinationStore,
    private readonly metrics: MetricsService,
  ) {}

  /** Executions a txn at `revision` just made final: moved within a few ms. */
  moveSoon(records: readonly ExecutionRecord[], revision: number): void {
    if (this.closed || records.length === 0) return;
    for (const record of records) this.queue.push({ record, modRevision: revision });
    if (this.queue.length >= BATCH) this.flushSoon(0);
    else this.flushSoon(LINGER_MS);
  }

  /** Moves now; resolves when every record was moved or found moved. */
  async move(items: readonly FinishedExecution[]): Promise<MoveReport> {
    const report: MoveReport = { moved: 0, skipped: 0 };
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      const labels = { history: this.history.kind };
      let done: MoveReport;
      try {
        done = this.history.appendOps
          ? await this.moveWithinStore(batch)
          : await this.appendThenDelete(batch);
      } catch (error) {
        this.metrics.history.moveFailures.inc(labels, batch.length);
        throw error;
      }
      this.metrics.history.moved.inc(labels, done.moved);
      report.moved += done.moved;
      report.skipped += done.skipped;
    }
    return report;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // What is still queued stays in the store, final: the next leader's sweeper moves it.
    await Promise.all([...this.inFlight]);
  }

  private flushSoon(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delayMs);
  }

  /** Starts batches while fewer than MAX_FLUSHES_IN_FLIGHT run; each end starts the next. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < MAX_FLUSHES_IN_FLIGHT) {
      const batch = this.queue.splice(0, BATCH);
      const flush: Promise<void> = this.flush(batch).finally(() => {
        this.inFlight.delete(flush);
        this.pump();
      });
      this.inFlight.add(flush);
    }
  }

  private async flush(batch: FinishedExecution[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.move(batch);
    } catch (error) {
      // Left in the store, final; the leader's sweeper moves them once history answers.
      const now = Date.now();
      if (now - this.lastWarnMs > 10_000) {
        this.lastWarnMs = now;
        this.logger.warn(
          `${batch.length} finished execution(s) stay in the store for now: ${String(error)}`,
        );
      }
    }
  }

  /** PostgreSQL: append the batch (one statement), then delete the live keys. */
  private async appendThenDelete(batch: readonly FinishedExecution[]): Promise<MoveReport> {
    await this.history.append(batch.map((item) => item.record));
    const chunks: FinishedExecution[][] = [];
    for (let start = 0; start < batch.length; start += DELETES_PER_TXN) {
      chunks.push(batch.slice(start, start + DELETES_PER_TXN));
    }
    // The chunks touch different keys: their txns go out together.
    const reports = await Promise.all(chunks.map((chunk) => this.deleteLive(chunk)));
    return reports.reduce(
      (sum, r) => ({ moved: sum.moved + r.moved, skipped: sum.skipped + r.skipped }),
      {
        moved: 0,
        skipped: 0,
      },
    );
  }

  /** Deletes the live keys of `chunk` (one txn; one by one when a key changed or went). */
  private async deleteLive(chunk: readonly FinishedExecution[]): Promise<MoveReport> {
    const report: MoveReport = { moved: 0, skipped: 0 };
    const parts = chunk.map((item) => deletePart(item));
    const result = await this.store.txn({
      compare: parts.map((part) => part.compare),
      success: parts.map((part) => part.op),
    });
    if (result.succeeded) return { moved: chunk.length, skipped: 0 };
    // One key changed or went (another mover deleted it first): delete the rest one by one.
    for (const part of parts) {
      const single = await this.store.txn({ compare: [part.compare], success: [part.op] });
      if (single.succeeded) report.moved++;
      else report.skipped++;
    }
    return report;
  }

  /** StoreHistory: the history put (if absent) and the live delete in one txn each. */
  private async moveWithinStore(batch: readonly FinishedExecution[]): Promise<MoveReport> {
    const appendOps = this.history.appendOps!.bind(this.history);
    const report: MoveReport = { moved: 0, skipped: 0 };
    // A record costs two compares and two ops.
    const perTxn = Math.floor(DELETES_PER_TXN / 2);
    for (let start = 0; start < batch.length; start += perTxn) {
      const chunk = batch.slice(start, start + perTxn);
      const parts = chunk.map((item) => ({
        append: appendOps(item.record),
        remove: deletePart(item),
      }));
      const result = await this.store.txn({
        compare: parts.flatMap((part) => [...part.append.compare, part.remove.compare]),
        success: parts.flatMap((part) => [...part.append.success, part.remove.op]),
      });
      if (result.succeeded) {
        report.moved += chunk.length;
        continue;
      }
      for (const [i, part] of parts.entries()) {
        const both = await this.store.txn({
          compare: [...part.append.compare, part.remove.compare],
          success: [...part.append.success, part.remove.op],
        });
        if (both.succeeded) {
          report.moved++;
          continue;
        }
        // Refused: the live key changed or went (another mover was first), or the record is
        // already in the history (a move that crashed before its delete): then just delete.
        const live = await this.store.get(part.remove.compare.key);
        if (!live || live.modRevision !== chunk[i].modRevision) {
          report.skipped++;
          continue;
        }
        await this.history.append([chunk[i].record]);
        const removed = await this.store.txn({
          compare: [part.remove.compare],
          success: [part.remove.op],
        });
        if (removed.succeeded) report.moved++;
        else report.skipped++;
      }
    }
    return report;
  }
}

function deletePart(item: FinishedExecution): { compare: Compare; op: TxnOp } {
  const key = executionKeyOf(item.record.id);
  if (key === undefined) throw new Error(`malformed execution id ${item.record.id}`);
  return {
    compare: { key, target: 'modRevision', op: '==', value: item.modRevision },
    op: { type: 'delete', key },
  };
}
