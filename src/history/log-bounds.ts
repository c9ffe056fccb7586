import { LogLine } from './history.port';

/** Per-execution bounds of kept log lines. */
export interface LogBounds {
  maxBytesPerExecution: number;
  maxLinesPerExecution: number;
}

export const DEFAULT_LOG_BOUNDS: LogBounds = {
  maxBytesPerExecution: 1024 * 1024,
  maxLinesPerExecution: 10_000,
};

/** What one execution's log holds so far. */
export interface LogTotals {
  lines: number;
  bytes: number;
  /** Lines refused so far: once any was, the log is closed (it stays a complete prefix). */
  dropped: number;
}

export interface AdmittedLines {
  /** Lines to store, by ascending seq. */
  store: LogLine[];
  /** Lines refused by the bounds. */
  dropped: number;
  /** Bytes of the lines to store. */
  bytes: number;
}

/** Bytes a line counts against its execution's bound. */
export function logLineBytes(line: LogLine): number {
  return Buffer.byteLength(line.text);
}

/**
 * Which of a batch of lines an execution's log takes: lines already stored (a resent
 * batch) and repeats within the batch are ignored; the rest are taken in seq order until
 * one would cross a bound, and that line and every later one are dropped. Once a log
 * dropped a line it takes no more, so what is kept is always the log's beginning, whole.
 */
export function admitLogLines(
  lines: readonly LogLine[],
  isStored: (seq: number) => boolean,
  totals: LogTotals,
  bounds: LogBounds,
): AdmittedLines {
  const fresh = new Map<number, LogLine>();
  for (const line of lines) {
    if (!fresh.has(line.seq) && !isStored(line.seq)) fresh.set(line.seq, line);
  }
  const ordered = [...fresh.values()].sort((a, b) => a.seq - b.seq);
  const store: LogLine[] = [];
  let bytes = 0;
  let closed = totals.dropped > 0;
  for (const line of ordered) {
    const lineBytes = logLineBytes(line);
    closed ||=
      totals.lines + store.length + 1 > bounds.maxLinesPerExecution ||
      totals.bytes + bytes + lineBytes > bounds.maxBytesPerExecution;
    if (closed) break;
    store.push(line);
    bytes += lineBytes;
  }
  return { store, dropped: ordered.length - store.length, bytes };
}
