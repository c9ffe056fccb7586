/**
 * Live execution logs in the worker protocol: the lines a handler writes through
 * `ctx.logger`, streamed by the worker while the handler runs.
 *
 *   POST /api/workers/{group}/{workerId}/logs   body LogBatchRequest -> LogBatchResponse
 *
 * Only when the registration answer says `logs.enabled` (the node keeps logs: a history
 * database, or the embedded store); otherwise the worker sends none, and a node that keeps
 * none answers 409 LOGS_NOT_KEPT. Lines are accepted only for executions in the worker's
 * inbox (like reports), so a worker flushes an execution's lines before its final report.
 */

export const WORKER_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type WorkerLogLevel = (typeof WORKER_LOG_LEVELS)[number];

/**
 * Longest line text in UTF-8 bytes. The worker cuts longer lines (ending them with `…`);
 * a node refuses a batch holding a longer one (400).
 */
export const MAX_LOG_LINE_BYTES = 8 * 1024;
/** Most lines in one batch, over all its executions. */
export const MAX_LOG_LINES_PER_BATCH = 1000;
/** Most executions in one batch. */
export const MAX_LOG_EXECUTIONS_PER_BATCH = 100;

/** What the registration answer says about logs (absent: an older node; none are sent). */
export interface WorkerLogPolicy {
  /** The node keeps logs: send them. */
  enabled: boolean;
  /** Bytes and lines the node keeps per execution; a worker need not send more. */
  maxBytesPerExecution: number;
  maxLinesPerExecution: number;
  /** Longest line text (UTF-8 bytes); see MAX_LOG_LINE_BYTES. */
  maxLineBytes: number;
  /** Most lines per batch; see MAX_LOG_LINES_PER_BATCH. */
  maxLinesPerBatch: number;
}

export interface WorkerLogLine {
  /** 1, 2, 3, ... per execution, assigned by the worker; a resent line keeps its seq. */
  seq: number;
  /** When the handler wrote it (epoch ms, worker clock). */
  atMs: number;
  level: WorkerLogLevel;
  text: string;
}

export interface ExecutionLogLines {
  executionId: string;
  lines: WorkerLogLine[];
}

export interface LogBatchRequest {
  executions: ExecutionLogLines[];
}

/**
 * accepted: the lines were taken (`stored` new ones; `dropped` past the execution's bound;
 * lines already stored, a resend, count in neither). conflict: the execution is not in this
 * worker's inbox (moved, finished, cancelled, or never its): nothing stored, stop sending.
 */
export type LogBatchOutcome = 'accepted' | 'conflict';

export interface LogBatchResult {
  executionId: string;
  outcome: LogBatchOutcome;
  stored: number;
  dropped: number;
}

export interface LogBatchResponse {
  results: LogBatchResult[];
}
