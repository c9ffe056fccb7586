import {
  MAX_LOG_EXECUTIONS_PER_BATCH,
  MAX_LOG_LINE_BYTES,
  MAX_LOG_LINES_PER_BATCH,
  type ExecutionLogLines,
  type LogBatchRequest,
  type LogBatchResponse,
  type WorkerLogLevel,
  type WorkerLogLine,
  type WorkerLogPolicy,
} from '@forest/protocol';
import { ForestNodeError, isWorkerSessionLost } from './forest-worker.errors';
import type { ForestWorkerLogger } from './forest-worker.types';
import { cutUtf8, reasonText } from './output-buffer';
import { backoffDelay, settlesWithin, sleep } from './timing';

/** Rough JSON size cap of one batch, well below a node's default 1 MiB body limit. */
const MAX_BATCH_CHARS = 256 * 1024;
/** Ends a line that was cut to the node's line limit. */
const CUT_MARK = '…';

export interface LogShipperOptions {
  /** Posts one batch under the current worker id; throws on network errors and 4xx/5xx. */
  send(batch: LogBatchRequest): Promise<LogBatchResponse>;
  logger: ForestWorkerLogger;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Lines wait at most this long before they are sent (ms). Default 200. */
  intervalMs?: number;
  /** This many waiting lines go out at once, without waiting for the interval. Default 200. */
  batchLines?: number;
  /** Most lines waiting in the worker (every execution); beyond, the oldest are dropped. Default 10000. */
  maxQueuedLines?: number;
  /** Most bytes of line text waiting in the worker; beyond, the oldest are dropped. Default 8 MiB. */
  maxQueuedBytes?: number;
}

export interface LogShipperCounters {
  /** Lines the node stored. */
  sent: number;
  /**
   * Lines that never reached a node's store: the worker's queue overflowed (oldest first),
   * the execution's bound was reached, or the node refused them.
   */
  dropped: number;
}

interface Queued {
  executionId: string;
  line: WorkerLogLine;
  bytes: number;
}

interface ExecutionLog {
  lastSeq: number;
  lines: number;
  bytes: number;
  /** Lines queued or in flight. */
  outstanding: number;
  /** Nothing more is sent for it: revoked, refused by the node, or past its bound. */
  closed: boolean;
  /** The run ended: forget it once nothing is outstanding. */
  ended: boolean;
  waiters: Array<() => void>;
}

/**
 * Streams handler log lines to the node while handlers run: each execution's lines get
 * seq 1, 2, 3, ...; lines wait at most `intervalMs` (or until `batchLines` wait) and go
 * out in one batch for all executions, one request at a time. A batch that fails on the
 * way (network, 5xx, the session being renewed) is sent again with the same seqs, so the
 * node stores each line once. The queue is bounded: a slow or absent node costs the
 * oldest lines (counted), never the worker's memory. Sends nothing until a registration
 * answer enables it (`configure`).
 */
export class LogShipper {
  private policy: WorkerLogPolicy | undefined;
  private readonly intervalMs: number;
  private readonly batchLines: number;
  private readonly maxQueuedLines: number;
  private readonly maxQueuedBytes: number;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private readonly executions = new Map<string, ExecutionLog>();
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  /** Someone waits for lines (an execution finishing, the worker stopping): send without waiting. */
  private urgent = false;
  private idleWaiters: Array<() => void> = [];
  private closing = new AbortController();
  private readonly counters: LogShipperCounters = { sent: 0, dropped: 0 };

  constructor(private readonly options: LogShipperOptions) {
    this.intervalMs = options.intervalMs ?? 200;
    this.batchLines = options.batchLines ?? 200;
    this.maxQueuedLines = options.maxQueuedLines ?? 10_000;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
  }

  get enabled(): boolean {
    return this.policy?.enabled === true && !this.closing.signal.aborted;
  }

  get stats(): Readonly<LogShipperCounters> {
    return { ...this.counters };
  }

  /** Lines waiting or in flight. */
  get pending(): number {
    let outstanding = 0;
    for (const log of this.executions.values()) outstanding += log.outstanding;
    return outstanding;
  }

  /** What the node said at registration; a node that keeps no logs turns shipping off. */
  configure(policy: WorkerLogPolicy | undefined): void {
    const enabled = policy?.enabled === true;
    this.policy = enabled ? policy : undefined;
    if (!enabled) this.dropAll(false);
  }

  /** A handler starts: its lines are shipped from now on (a no-op while disabled). */
  begin(executionId: string): void {
    if (!this.enabled || this.executions.has(executionId)) return;
    this.executions.set(executionId, {
      lastSeq: 0,
      lines: 0,
      bytes: 0,
      outstanding: 0,
      closed: false,
      ended: false,
      waiters: [],
    });
  }

  /** Queues one line of a begun execution (ignored otherwise). */
  line(executionId: string, level: WorkerLogLevel, text: string, atMs = Date.now()): void {
    const log = this.executions.get(executionId);
    const policy = this.policy;
    if (!log || log.closed || log.ended || !policy || !this.enabled) return;
    const cut = cutLine(text, Math.min(policy.maxLineBytes, MAX_LOG_LINE_BYTES));
    const bytes = Buffer.byteLength(cut, 'utf8');
    if (
      log.lines + 1 > policy.maxLinesPerExecution ||
      log.bytes + bytes > policy.maxBytesPerExecution
    ) {
      // The node keeps a whole prefix and drops the rest: no use sending it.
      log.closed = true;
      this.counters.dropped++;
      return;
    }
    log.lines++;
    log.bytes += bytes;
    log.outstanding++;
    this.queue.push({ executionId, bytes, line: { seq: ++log.lastSeq, atMs, level, text: cut } });
    this.queuedBytes += bytes;
    this.enforceBound();
    if (this.queue.length >= this.batchLines) void this.pump();
    else this.arm();
  }

  /**
   * The handler returned: sends its lines now and resolves once they are settled (stored,
   * refused or dropped) or after `waitMs`, so the final report can follow its lines (the
   * node takes lines only while the execution is in the worker's inbox).
   */
  async finish(executionId: string, waitMs: number): Promise<void> {
    const log = this.executions.get(executionId);
    if (!log || log.outstanding === 0) return;
    const settled = new Promise<void>((resolve) => log.waiters.push(resolve));
    this.urgent = true;
    void this.pump();
    await settlesWithin(settled, waitMs);
  }

  /** The execution is no longer this worker's: its waiting lines are dropped, later ones ignored. */
  discard(executionId: string): void {
    const log = this.executions.get(executionId);
    if (!log) return;
    log.closed = true;
    this.removeQueued((item) => item.executionId === executionId, false);
  }

  /** The run is over: its state goes once nothing of it is outstanding. */
  forget(executionId: string): void {
    const log = this.executions.get(executionId);
    if (!log) return;
    log.ended = true;
    this.release(executionId, log);
  }

  /** Sends everything waiting; true once nothing is left, false after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && !this.pumping) return true;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.urgent = true;
    void this.pump();
    return settlesWithin(idle, timeoutMs).then(() => this.queue.length === 0 && !this.pumping);
  }

  /** Gives up what waits (counted as dropped) and stops sending. */
  close(): void {
    this.closing.abort();
    this.dropAll(true);
  }

  // ---- sending -----------------------------------------------------------------------

  private arm(): void {
    if (this.timer || this.pumping || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    let failures = 0;
    try {
      while (this.queue.length > 0 && this.enabled) {
        const batch = this.takeBatch();
        if (await this.deliver(batch)) {
          failures = 0;
          if (this.queue.length < this.batchLines && !this.urgent) break;
        } else {
          failures++;
          const delay = backoffDelay(
            failures,
            this.options.retryInitialMs,
            this.options.retryMaxMs,
          );
          await sleep(delay, this.closing.signal);
        }
      }
    } finally {
      this.pumping = false;
      if (this.queue.length === 0) {
        this.urgent = false;
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      } else {
        this.arm();
      }
    }
  }

  /** The oldest waiting lines, at most one batch's worth, grouped by execution. */
  private takeBatch(): Queued[] {
    const maxLines = Math.min(
      this.policy?.maxLinesPerBatch ?? MAX_LOG_LINES_PER_BATCH,
      MAX_LOG_LINES_PER_BATCH,
    );
    const executions = new Set<string>();
    let chars = 0;
    let taken = 0;
    for (; taken < this.queue.length && taken < maxLines; taken++) {
      const item = this.queue[taken];
      const size = 64 + item.line.text.length * 1.2;
      const newExecution = !executions.has(item.executionId);
      if (taken > 0 && chars + size > MAX_BATCH_CHARS) break;
      if (newExecution && executions.size >= MAX_LOG_EXECUTIONS_PER_BATCH) break;
      executions.add(item.executionId);
      chars += size;
    }
    const batch = this.queue.splice(0, taken);
    for (const item of batch) this.queuedBytes -= item.bytes;
    return batch;
  }

  /** True when the batch is settled; false when it went back to the queue to be resent. */
  private async deliver(batch: Queued[]): Promise<boolean> {
    const byExecution = new Map<string, ExecutionLogLines>();
    for (const { executionId, line } of batch) {
      let entry = byExecution.get(executionId);
      if (!entry) byExecution.set(executionId, (entry = { executionId, lines: [] }));
      entry.lines.push(line);
    }
    let answer: LogBatchResponse;
    try {
      answer = await this.options.send({ executions: [...byExecution.values()] });
    } catch (error) {
      return this.onSendError(batch, error);
    }
    const results = new Map((answer?.results ?? []).map((r) => [r.executionId, r]));
    for (const [executionId, entry] of byExecution) {
      const result = results.get(executionId);
      const log = this.executions.get(executionId);
      if (result?.outcome === 'accepted') {
        this.counters.sent += Number(result.stored) || 0;
        this.counters.dropped += Number(result.dropped) || 0;
      } else {
        // Not this worker's any more (or no answer for it): its lines are of no use.
        this.counters.dropped += entry.lines.length;
        if (log) {
          log.closed = true;
          this.removeQueued((item) => item.executionId === executionId, true);
        }
      }
      if (log) this.settle(executionId, log, entry.lines.length);
    }
    return true;
  }

  private onSendError(batch: Queued[], error: unknown): boolean {
    if (error instanceof ForestNodeError && error.code === 'LOGS_NOT_KEPT') {
      this.options.logger.warn(
        `forest worker: the node keeps no execution logs (${error.message}); not sending any`,
      );
      this.settleBatch(batch, true);
      this.configure(undefined);
      return true;
    }
    // A session being renewed (the heartbeat does that) passes: the lines go again after.
    if (refusedForGood(error)) {
      // The node refuses this batch as it is (400, 413): sending it again cannot help.
      this.options.logger.warn(
        `forest worker: ${batch.length} log line(s) refused, dropped: ${error.message}`,
      );
      this.settleBatch(batch, true);
      return true;
    }
    // Network, 5xx, or the session being renewed: the same lines (same seqs) go again.
    this.queue.unshift(...batch);
    for (const item of batch) this.queuedBytes += item.bytes;
    this.enforceBound();
    this.options.logger.warn(
      `forest worker: sending ${batch.length} log line(s) failed, will retry: ${reasonText(error)}`,
    );
    return false;
  }

  // ---- bookkeeping -------------------------------------------------------------------

  /** Drops the oldest waiting lines while the queue is over its bound. */
  private enforceBound(): void {
    let over = 0;
    let bytes = this.queuedBytes;
    while (
      over < this.queue.length &&
      (this.queue.length - over > this.maxQueuedLines || bytes > this.maxQueuedBytes)
    ) {
      bytes -= this.queue[over].bytes;
      over++;
    }
    if (over === 0) return;
    const dropped = this.queue.splice(0, over);
    this.queuedBytes = bytes;
    this.settleBatch(dropped, true);
  }

  private removeQueued(which: (item: Queued) => boolean, count: boolean): void {
    const removed: Queued[] = [];
    this.queue = this.queue.filter((item) => {
      if (!which(item)) return true;
      removed.push(item);
      return false;
    });
    for (const item of removed) this.queuedBytes -= item.bytes;
    this.settleBatch(removed, count);
  }

  private settleBatch(items: readonly Queued[], countDropped: boolean): void {
    if (countDropped) this.counters.dropped += items.length;
    const perExecution = new Map<string, number>();
    for (const { executionId } of items) {
      perExecution.set(executionId, (perExecution.get(executionId) ?? 0) + 1);
    }
    for (const [executionId, n] of perExecution) {
      const log = this.executions.get(executionId);
      if (log) this.settle(executionId, log, n);
    }
  }

  private settle(executionId: string, log: ExecutionLog, lines: number): void {
    log.outstanding = Math.max(0, log.outstanding - lines);
    if (log.outstanding > 0) return;
    const waiters = log.waiters;
    log.waiters = [];
    for (const wake of waiters) wake();
    this.release(executionId, log);
  }

  private release(executionId: string, log: ExecutionLog): void {
    if (log.ended && log.outstanding === 0) this.executions.delete(executionId);
  }

  private dropAll(countDropped: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.settleBatch(all, countDropped);
    for (const log of this.executions.values()) log.closed = true;
  }
}

/** A node's 4xx other than a lost session: the same batch would be refused again. */
function refusedForGood(error: unknown): error is ForestNodeError {
  return error instanceof ForestNodeError && error.status < 500 && !isWorkerSessionLost(error);
}

/** A line cut to `maxBytes` UTF-8 bytes, marked when cut. */
export function cutLine(text: string, maxBytes: number): string {
  // A character is at least one byte: longer text is over the limit anyway, and cutting it
  // by characters first keeps a huge line from being encoded whole.
  const head = text.length > maxBytes ? text.slice(0, maxBytes) : text;
  if (head === text && Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return cutUtf8(head, maxBytes - Buffer.byteLength(CUT_MARK, 'utf8')) + CUT_MARK;
}
