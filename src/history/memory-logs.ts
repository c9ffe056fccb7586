import { ExecutionLogs, LogAppendResult, LogLine } from './history.port';
import { admitLogLines, DEFAULT_LOG_BOUNDS, LogBounds } from './log-bounds';

export interface MemoryExecutionLogsOptions extends Partial<LogBounds> {
  /** Bytes of lines kept over all executions; the oldest executions' logs go first. */
  maxTotalBytes?: number;
  /** Clock of the last append (for prune); tests inject one. */
  now?: () => number;
}

const DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024;

interface ExecutionLog {
  /** Ascending seq. */
  lines: LogLine[];
  seqs: Set<number>;
  lineCount: number;
  bytes: number;
  dropped: number;
  lastAppendMs: number;
}

/**
 * Execution logs in the node's memory, for the embedded single node (no history database,
 * and logs never go to the coordination store). Bounded per execution (bytes and lines,
 * past them lines are dropped and counted) and in total (the logs of the executions that
 * began logging first are evicted first). Lost on restart.
 */
export class MemoryExecutionLogs implements ExecutionLogs {
  readonly kind = 'memory';
  private readonly bounds: LogBounds;
  private readonly maxTotalBytes: number;
  private readonly now: () => number;
  /** Insertion order = order of each execution's first line: eviction takes the first. */
  private readonly logs = new Map<string, ExecutionLog>();
  private totalBytes = 0;

  constructor(options: MemoryExecutionLogsOptions = {}) {
    this.bounds = {
      maxBytesPerExecution: options.maxBytesPerExecution ?? DEFAULT_LOG_BOUNDS.maxBytesPerExecution,
      maxLinesPerExecution: options.maxLinesPerExecution ?? DEFAULT_LOG_BOUNDS.maxLinesPerExecution,
    };
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.now = options.now ?? Date.now;
  }

  append(executionId: string, lines: readonly LogLine[]): Promise<LogAppendResult> {
    let log = this.logs.get(executionId);
    if (!log) {
      log = { lines: [], seqs: new Set(), lineCount: 0, bytes: 0, dropped: 0, lastAppendMs: 0 };
      this.logs.set(executionId, log);
    }
    const stored = log;
    const admitted = admitLogLines(
      lines,
      (seq) => stored.seqs.has(seq),
      { lines: stored.lineCount, bytes: stored.bytes, dropped: stored.dropped },
      this.bounds,
    );
    for (const line of admitted.store) insertBySeq(stored.lines, { ...line });
    for (const line of admitted.store) stored.seqs.add(line.seq);
    stored.lineCount += admitted.store.length;
    stored.bytes += admitted.bytes;
    stored.dropped += admitted.dropped;
    stored.lastAppendMs = this.now();
    this.totalBytes += admitted.bytes;
    this.evictOldest(executionId);
    return Promise.resolve({ stored: admitted.store.length, dropped: admitted.dropped });
  }

  read(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    const lines = this.logs.get(executionId)?.lines ?? [];
    const from = firstAfter(lines, afterSeq);
    return Promise.resolve(
      lines.slice(from, from + Math.max(0, limit)).map((line) => ({ ...line })),
    );
  }

  prune(cutoffMs: number): Promise<number> {
    let removed = 0;
    for (const [executionId, log] of this.logs) {
      if (log.lastAppendMs >= cutoffMs) continue;
      removed += log.lineCount;
      this.remove(executionId, log);
    }
    return Promise.resolve(removed);
  }

  close(): Promise<void> {
    this.logs.clear();
    this.totalBytes = 0;
    return Promise.resolve();
  }

  /** Evicts whole logs, oldest first, until the total is within its bound. */
  private evictOldest(keep: string): void {
    for (const [executionId, log] of this.logs) {
      if (this.totalBytes <= this.maxTotalBytes) return;
      // The execution just written is kept: it is the one being watched right now.
      if (executionId !== keep) this.remove(executionId, log);
    }
  }

  private remove(executionId: string, log: ExecutionLog): void {
    this.logs.delete(executionId);
    this.totalBytes -= log.bytes;
  }
}

/** Lines usually arrive in order: appended at the end, otherwise inserted in place. */
function insertBySeq(lines: LogLine[], line: LogLine): void {
  const last = lines[lines.length - 1];
  if (last === undefined || last.seq < line.seq) {
    lines.push(line);
    return;
  }
  lines.splice(firstAfter(lines, line.seq), 0, line);
}

/** Position of the first line with seq > afterSeq. */
function firstAfter(lines: readonly LogLine[], afterSeq: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lines[mid].seq <= afterSeq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
