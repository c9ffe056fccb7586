import { ShardInfo } from './execution.types';
import type { WorkerLogPolicy } from './worker-logs.types';

/**
 * The worker protocol: what a worker (a service using libs/worker) and a scheduler node
 * say to each other over HTTP. Workers never talk to etcd; any node serves any worker.
 *
 *   POST   /api/workers                                         register -> worker id, session
 *            secret and lease TTL (with FOREST_AUTH=on: a worker token of the group, or admin)
 *   POST   /api/workers/{group}/{workerId}/heartbeat            keep the worker's lease alive;
 *            body {held: [executionId]} -> {leaseTtlS, abort: [{executionId, status, reason}]}
 *   GET    /api/workers/{group}/{workerId}/assignments          long-poll for work
 *            ?after={revision}&waitMs={0..60000}&max={1..1000}
 *   POST   /api/workers/{group}/{workerId}/reports              batch of status reports
 *   POST   /api/workers/{group}/{workerId}/executions/{executionId}/report   one report
 *   POST   /api/workers/{group}/{workerId}/logs                 live log lines (worker-logs.types.ts)
 *   DELETE /api/workers/{group}/{workerId}                      leave (graceful stop)
 *
 * Every call after registration carries the session secret the registration returned,
 * `Authorization: Bearer <sessionSecret>` (with or without FOREST_AUTH): without it the node
 * answers 401 WORKER_UNAUTHENTICATED, with another worker's (or a wrong) one 403
 * WORKER_FORBIDDEN, and the call changes nothing. So only the worker that registered can
 * heartbeat, poll, report or leave under its id.
 *
 * A worker that gets 404 WORKER_NOT_FOUND from heartbeat, poll or report has lost its
 * lease (it was too slow to heartbeat): it registers again and gets a new id and secret.
 */

/** Largest output or error text kept per execution (UTF-8 bytes); longer text is cut. */
export const MAX_REPORT_TEXT_BYTES = 64 * 1024;

export interface RegisterWorkerRequest {
  /** The group the worker serves; it must exist. */
  group: string;
  /** Handler names the worker can run (`job.target`); only matching jobs come to it. */
  targets: string[];
  /** Most executions it runs at once; the leader never assigns more. */
  capacity: number;
  host: string;
  pid: number;
  /** Free-form labels for dispatch strategies (label-match) and operators. */
  labels?: Record<string, string>;
}

export interface RegisterWorkerResponse {
  /** `{host slug}-{random}-{lease id}`: not guessable, and any node finds the lease in it. */
  workerId: string;
  /**
   * 256 random bits (base64url), returned once: sent as `Authorization: Bearer …` on every
   * later call of this worker id. The node keeps only its SHA-256.
   */
  sessionSecret: string;
  group: string;
  /** The worker's lease: miss heartbeats for this long and its work moves elsewhere. */
  leaseTtlS: number;
  /** How often to heartbeat (a third of the TTL). */
  heartbeatIntervalMs: number;
  /** The node that registered it. */
  node: string;
  /**
   * Whether and within which bounds to stream handler log lines (see worker-logs.types.ts).
   * Absent (an older node) or `enabled: false`: send none.
   */
  logs?: WorkerLogPolicy;
}

/** `workers/{group}/{workerId}`, on the worker's lease. */
export interface WorkerRecord {
  id: string;
  group: string;
  targets: string[];
  capacity: number;
  host: string;
  pid: number;
  labels: Record<string, string>;
  registeredAt: string;
  /** The node it registered through. */
  node: string;
  lease: string;
  /**
   * SHA-256 (hex) of the session secret the registration returned; the secret itself is
   * never stored. Never shown by the API. Absent only on records written before session
   * secrets existed: such a worker is refused (403) and registers again.
   */
  sessionSecretSha256?: string;
  /** Set when it asked to leave: its disappearance is then a goodbye, not a loss. */
  leavingAt?: string;
}

export const ASSIGNMENT_STATES = ['assigned', 'running'] as const;
export type AssignmentState = (typeof ASSIGNMENT_STATES)[number];

/**
 * `assignments/{group}/{workerId}/{executionId}`: one execution in a worker's inbox, and
 * what the worker receives. It exists from assignment until the final report, so a report
 * is accepted only while its worker still holds it.
 */
export interface Assignment {
  executionId: string;
  jobId: string;
  jobName: string;
  group: string;
  target: string;
  /**
   * The job's params, as the worker receives them. Stored only while the entry is
   * `assigned`: the `running` rewrite leaves them out (the worker has them, and a running
   * entry is never delivered again).
   */
  params: unknown;
  trigger: 'schedule' | 'manual' | 'retry';
  attempt: number;
  scheduledMs: number;
  scheduledAt: string;
  /** Per-execution time limit in ms (0: none). */
  timeoutMs: number;
  workerId: string;
  assignedAt: string;
  state: AssignmentState;
  /** When the worker's `running` report was recorded (epoch ms): the leader's deadline starts here. */
  startedAtMs?: number;
  /** The node that recorded the `running` report (the execution record is not rewritten then). */
  startedBy?: string;
  /** For a broadcast: which copy this worker runs (index 0..total-1). */
  shard?: ShardInfo;
}

/**
 * A heartbeat's body: the executions the worker holds (running, or waiting for their
 * scheduled time). The node answers which of them are no longer the worker's.
 */
export interface HeartbeatRequest {
  held?: string[];
}

/** Most execution ids one heartbeat may list. */
export const MAX_HELD_PER_HEARTBEAT = 10_000;

/**
 * An execution the worker must stop: its handler's AbortSignal fires (and one not yet
 * started never starts). `status` is the execution's status now (`timed_out`, `cancelled`,
 * `lost`, ...; `moved` when it was taken back and placed elsewhere).
 */
export interface AbortNotice {
  executionId: string;
  status: string;
  reason: string;
}

export interface HeartbeatResponse {
  leaseTtlS: number;
  /** Held executions that are no longer this worker's: abort them. */
  abort: AbortNotice[];
}

export interface PollResponse {
  /**
   * Assignments not yet reported running. The same one is delivered again (after a full
   * wait) until the worker reports it running: workers must run each execution id once.
   */
  assignments: Assignment[];
  /** Pass as `after` in the next poll: only newer assignments return at once. */
  revision: number;
}

/** `timed_out`: the handler passed the execution's `timeoutMs` and was aborted. */
export const REPORT_STATUSES = ['running', 'succeeded', 'failed', 'timed_out'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ExecutionReport {
  executionId: string;
  status: ReportStatus;
  /** Handler output (its logger lines, its result); cut to MAX_REPORT_TEXT_BYTES. */
  output?: string;
  /** For `failed`: the error message and stack; cut to MAX_REPORT_TEXT_BYTES. */
  error?: string;
  /**
   * When the worker started (or, for a claim, is about to start) the handler: epoch ms on
   * the worker's clock. Sent with the `running` report and again with the final one; the
   * node records handler start minus due time in its metrics (once per start). Optional:
   * workers that do not send it are simply not measured.
   */
  startedAtMs?: number;
}

export interface ReportBatchRequest {
  reports: ExecutionReport[];
}

/**
 * accepted: recorded. conflict: the execution is no longer this worker's (it was moved,
 * cancelled, or already finished) — drop it. not_found: no such execution.
 */
export type ReportOutcome = 'accepted' | 'conflict' | 'not_found';

export interface ReportResult {
  executionId: string;
  outcome: ReportOutcome;
  message?: string;
}

export interface ReportBatchResponse {
  results: ReportResult[];
}
