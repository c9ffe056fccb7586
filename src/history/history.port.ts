import { ExecutionRecord, ExecutionStatus, ExecutionTrigger } from '@forest/protocol';
import { Compare, TxnOp } from '@forest/store';

/**
 * Execution history: where an execution's record lives once it reached a final status.
 * The coordination store (etcd or the embedded store) holds only live executions; when
 * one finishes, its record is appended here and then removed from the store in a fenced
 * txn (see HistoryMover), so a crash between the two steps leaves it in both places for a
 * moment and the next move finds it already here: `append` is idempotent by id.
 *
 * Two adapters pass one contract suite (test/history/history-contract.ts):
 * - `StoreHistory`: records under `history/` in the coordination store, for the embedded
 *   single node and small clusters; bounded by a size budget besides count and age;
 * - `PostgresHistory` (FOREST_HISTORY_URL): a table in PostgreSQL, retention in SQL.
 */
export interface ExecutionHistory {
  /** `store` or `postgres`: shown by /health and the boot log. */
  readonly kind: HistoryKind;

  /**
   * Stores final records. Idempotent by id: a record whose id is already stored is left
   * as it is (the first copy wins), so re-moving after a crash duplicates nothing.
   * Every record must be final (isFinal(status)); others are a programming error.
   */
  append(records: readonly ExecutionRecord[]): Promise<void>;

  /**
   * For an adapter that keeps history in the coordination store itself (StoreHistory):
   * the compares and ops that append `record` if absent, so the mover appends and deletes
   * the live key in one txn. Absent for adapters in another database.
   */
  appendOps?(record: ExecutionRecord): { compare: Compare[]; success: TxnOp[] };

  /** The stored record with this id, if any. */
  get(id: string): Promise<ExecutionRecord | undefined>;

  /** Several records by id, in one round trip where the adapter can (missing ids left out). */
  getMany(ids: readonly string[]): Promise<ExecutionRecord[]>;

  /**
   * One page of records, newest first by sort key (see historySortKey), strictly older
   * than `query.before` when it is set. `next` is the sort key of the page's last item
   * when more may follow (pass it back as `before`); a page never skips or repeats a
   * record while new ones are appended, because new records sort newer than any cursor
   * already handed out... except retries of an old fire, which sort beside their first
   * attempt: a reader already past it does not see them (they are listed by attemptsOf).
   */
  list(query: HistoryQuery): Promise<HistoryPage>;

  /** Deletes by age, per-job count and (where the adapter has one) size budget. */
  prune(policy: HistoryRetention): Promise<PruneReport>;

  /** Executions per bucket by status, and fire lag, from `fromMs` on (the Overview). */
  stats(query: HistoryStatsQuery): Promise<HistoryStatsBucket[]>;

  /** Releases connections; the adapter is not used after. */
  close(): Promise<void>;
}

export type HistoryKind = 'store' | 'postgres';

export interface HistoryFilters {
  jobId?: string;
  group?: string;
  /** Only these groups (a token limited to groups); empty array: nothing. */
  groups?: readonly string[];
  status?: ExecutionStatus;
  worker?: string;
  trigger?: ExecutionTrigger;
  /** Inclusive bounds on the key time (scheduled time; for manual triggers, creation). */
  fromMs?: number;
  toMs?: number;
  /** Every attempt of the fire whose first attempt has this id. */
  attemptsOf?: string;
  /** Case-insensitive substring of output or error (free-text search). */
  text?: string;
}

export interface HistoryQuery extends HistoryFilters {
  /** 1..500. */
  limit: number;
  /** `desc` (default): newest first; `asc`: oldest first. */
  order?: 'asc' | 'desc';
  /**
   * A sort key (a previous page's `next`): only records strictly beyond it in `order`
   * (older for desc, newer for asc).
   */
  before?: string;
}

export interface HistoryPage {
  /** In the query's order (newest first by default). */
  items: ExecutionRecord[];
  /** Sort key of the last item, when more may follow. */
  next?: string;
}

export interface HistoryRetention {
  /** Records kept per job, newest first. */
  keepPerJob: number;
  /** Records that finished before this (epoch ms) are deleted. */
  cutoffMs: number;
  /** Bytes of records kept at most, oldest deleted first (StoreHistory only; 0: none). */
  maxBytes?: number;
}

export interface PruneReport {
  deleted: { age: number; count: number; size: number };
  /** What is stored after the pass (records, and bytes where the adapter knows them). */
  records: number;
  bytes?: number;
}

export interface HistoryStatsQuery {
  fromMs: number;
  toMs: number;
  bucketMs: number;
  groups?: readonly string[];
}

export interface HistoryStatsBucket {
  /** Bucket start (epoch ms), by finish time. */
  startMs: number;
  /** Finished executions by final status. */
  counts: Partial<Record<ExecutionStatus, number>>;
  /** Fire lag (startedAt - scheduled time, ms) of the executions that ran: p50, p99, max. */
  lagMs?: { p50: number; p99: number; max: number };
}

/**
 * The sort key of an execution: its key time (the 15 zero-padded digits its execution key
 * starts with: the scheduled time, or the creation time of a manual trigger) then its id.
 * Newest first is descending sort key, in byte order (ids are ASCII); live executions and
 * history share it, so one cursor pages across both.
 */
export function historySortKey(id: string): string {
  const at = id.lastIndexOf('~');
  const digits = /^\d{15}/.exec(id.slice(at + 1));
  return `${digits ? digits[0] : '000000000000000'}-${id}`;
}

/** The epoch ms a sort key starts with. */
export function sortKeyTimeMs(sortKey: string): number {
  return Number(sortKey.slice(0, 15));
}

/**
 * Live log lines of an execution, written by the handler through the SDK while it runs
 * and kept outside the coordination store (never in etcd): PostgreSQL with
 * FOREST_HISTORY_URL, else the memory of the node (embedded single node only).
 */
export interface ExecutionLogs {
  readonly kind: 'postgres' | 'memory';
  /**
   * Appends lines of one execution. Lines carry the worker's sequence numbers; a line
   * whose seq is already stored is ignored (a resent batch), and lines past the
   * per-execution bound are counted as dropped, never stored.
   */
  append(executionId: string, lines: readonly LogLine[]): Promise<LogAppendResult>;
  /** Lines with seq > afterSeq, oldest first, at most `limit`. */
  read(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]>;
  /** Deletes the logs of executions whose record retention deleted (or older than cutoff). */
  prune(cutoffMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface LogLine {
  /** 1, 2, 3, ... per execution, assigned by the worker. */
  seq: number;
  /** When the handler wrote it (epoch ms, worker clock). */
  atMs: number;
  level: LogLevel;
  text: string;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogAppendResult {
  stored: number;
  /** Lines refused because the execution reached its bound (bytes or lines). */
  dropped: number;
}
