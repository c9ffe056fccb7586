import { ConcurrencyPolicy, JobDispatch, JobRetry } from './job.types';

/**
 * Execution and job-state records as stored under `executions/{jobId}/{execKey}` and
 * `jobstate/{jobId}`. The planner creates executions; dispatch and the worker protocol
 * move them through their statuses.
 */

export const EXECUTION_STATUSES = [
  'pending',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
  'skipped',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** What created an execution: a schedule fire, a manual trigger, or a retry. */
export const EXECUTION_TRIGGERS = ['schedule', 'manual', 'retry'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

export interface ExecutionTransition {
  status: ExecutionStatus;
  /** ISO time of the change. */
  at: string;
  /** The node that made the change. */
  node: string;
  worker?: string;
}

export interface ExecutionRecord {
  /** `{jobId}~{execKey}`, see executionId(). */
  id: string;
  jobId: string;
  jobName: string;
  group: string;
  target: string;
  /** The job's params when it fired (later job edits do not change a fired execution). */
  params: unknown;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  attempt: number;
  /** The fire time this execution is for (epoch ms and ISO). */
  scheduledMs: number;
  scheduledAt: string;
  /** When the leader committed the fire. */
  firedAt: string;
  /** True for a misfire catch-up (fire_once / fire_all after the leader fell behind). */
  catchUp: boolean;
  /** The node that created it and its fencing token (0: not a leader write, e.g. manual). */
  firedBy: { node: string; token: number };
  /** Per-execution time limit in ms copied from the job (0: none). */
  timeoutMs: number;
  /**
   * The job's dispatch strategy and options when it fired, used to place it (and to place
   * it again if its worker dies). Absent in records written before strategies: round-robin.
   */
  dispatch?: JobDispatch;
  /**
   * Set on each execution of a broadcast: one record per worker, shard 0 at the fire's
   * own key and shard i at `{key}.s{i}` (see shardExecutionId).
   */
  shard?: ShardInfo;
  /**
   * The job's retry policy when it fired: a failed, timed-out or lost attempt with
   * attempts left creates the next one in the txn that finishes it. Absent: no retries
   * (records written before retries, and manual triggers that opted out).
   */
  retry?: JobRetry;
  /**
   * The job's concurrency policy when it fired. `forbid` / `replace` executions hold the
   * job's marker (`active/{jobId}`) while they are not final, unless `forced`.
   */
  concurrency?: ConcurrencyPolicy;
  /** A manual trigger that ignored the concurrency policy (runs beside the active one). */
  forced?: boolean;
  /** For attempt >= 2: the attempt it retries. */
  retryOf?: string;
  /** For attempt >= 2: not dispatched before this time (epoch ms): the retry backoff. */
  retryAtMs?: number;
  /** For `cancelled`: what cancelled it (the API, or a newer execution under `replace`). */
  cancelledBy?: CancelSource;
  /** For `skipped`: why the fire did not run. */
  skipReason?: string;
  /** The worker it is (or was last) assigned to. */
  worker?: string;
  startedAt?: string;
  finishedAt?: string;
  /** finishedAt - startedAt, for executions that ran. */
  durationMs?: number;
  /** Handler output, at most MAX_REPORT_TEXT_BYTES. */
  output?: string;
  /** Why it failed (handler error, worker lost, cancelled by whom). */
  error?: string;
  /** Every status change, oldest first. */
  timeline: ExecutionTransition[];
}

/** Statuses after which an execution never changes again. */
export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
  'skipped',
];

/**
 * `jobstate/{jobId}`: where a new leader resumes the job's schedule, and the job's fire
 * fence (see encodeJobState). Values written before the fence existed lack `fence`.
 */
export interface JobStateRecord {
  /** `scheduledExecKey(lastScheduledMs)`, first in the JSON so it can be value-compared. */
  fence?: string;
  jobId: string;
  /** The latest scheduled time fired (epoch ms). Only ever moves forward. */
  lastScheduledMs: number;
  /** When that fire was committed (ISO). */
  lastFiredAt: string;
  node: string;
}

/** `pending/{group}/{executionId}`: an execution waiting for a worker of its group. */
export interface PendingEntry {
  executionId: string;
  jobId: string;
  target: string;
  /** When it started waiting (ISO). */
  since: string;
  /** A retry waiting for its backoff: not dispatched before this time (epoch ms). */
  notBeforeMs?: number;
}

/** Who cancelled an execution. */
export interface CancelSource {
  /** `api`: POST /api/executions/{id}/cancel; `replace`: a newer execution of the job. */
  kind: 'api' | 'replace';
  /** The node that wrote the cancel. */
  node: string;
  /** For `replace`: the execution that replaced it. For `api`: the caller, when known. */
  by?: string;
  reason?: string;
}

/** Which copy of a broadcast execution this is: index 0..total-1. */
export interface ShardInfo {
  index: number;
  total: number;
}
