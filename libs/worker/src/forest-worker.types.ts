import type { Assignment } from '@forest/protocol';

/** Where the worker writes its own diagnostics. `console` fits; so does Nest's `Logger`. */
export interface ForestWorkerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

/**
 * The logger a handler gets: its lines (timestamped, with a level) become the output and,
 * when the node keeps logs, are streamed to it while the handler runs (live logs).
 */
export interface ForestJobLogger {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

/** The one argument a handler receives. */
export interface ForestJobContext<P = unknown> {
  executionId: string;
  jobId: string;
  jobName: string;
  target: string;
  /** The fire time this execution is for. */
  scheduledAt: Date;
  attempt: number;
  trigger: Assignment['trigger'];
  /** The job's params when it fired. */
  params: P;
  /** Per-execution time limit in ms (0: none); the signal aborts when it passes. */
  timeoutMs: number;
  /**
   * For a job dispatched with the `broadcast` strategy: which copy this worker runs
   * (index 0..total-1), e.g. to process its share of a keyspace. Undefined otherwise.
   */
  shard?: { index: number; total: number };
  /**
   * Aborts when the execution must end early: its time limit passed, the worker is
   * stopping and the stop deadline passed, or the node says it is no longer this worker's.
   */
  signal: AbortSignal;
  logger: ForestJobLogger;
}

/**
 * Runs one execution. A return value other than undefined is appended to the output
 * (strings as they are, anything else as JSON); a throw (or rejection) fails the execution.
 */
export type ForestJobHandler<P = unknown> = {
  // Method syntax on purpose: parameters of methods are checked bivariantly, so a handler
  // may declare the params it expects, `(ctx: ForestJobContext<{ month: string }>) => ...`.
  handle(ctx: ForestJobContext<P>): unknown;
}['handle'];

export interface ForestWorkerRetryOptions {
  /** First delay after a failure (ms); doubles per failure, with jitter. Default 250. */
  initialMs?: number;
  /** Largest delay (ms). Default 10000. */
  maxMs?: number;
}

export interface ForestWorkerOptions {
  /** Base URLs of scheduler nodes (e.g. `http://127.0.0.1:2856`); the worker fails over between them. */
  nodes: string[];
  /**
   * Which node the worker uses first. `spread` (default): a random one of `nodes`, so a
   * fleet given the same list spreads its polls and reports over every node (any node
   * serves the worker protocol; only the leader fires and dispatches). `listed`: the first
   * one, the others only on failure.
   */
  nodeOrder?: 'spread' | 'listed';
  /** The group this worker serves. */
  group: string;
  /** Handlers by target (`job.target`); more can be added with `register()` before `start()`. */
  handlers?: Record<string, ForestJobHandler>;
  /** Most executions run at once; declared to the node as the worker's capacity. */
  concurrency: number;
  /** Free-form labels for dispatch strategies and operators. */
  labels?: Record<string, string>;
  /** How long one long poll waits for work (ms, 0..60000). Default 30000. */
  pollWaitMs?: number;
  /** Diagnostics of the worker itself. Default `console`; `false` silences it. */
  logger?: ForestWorkerLogger | false;
  /** Bytes of output (and of error text) kept per execution. Default MAX_REPORT_TEXT_BYTES. */
  outputLimitBytes?: number;
  /** Time limit of one request to a node (ms); a long poll gets `pollWaitMs` on top. Default 10000. */
  requestTimeoutMs?: number;
  /** Backoff between retries of registration, polls and reports. */
  retry?: ForestWorkerRetryOptions;
  /** Host name declared at registration. Default `os.hostname()`. */
  host?: string;
  /**
   * The token that lets this worker register, sent as `Authorization: Bearer <token>` on
   * registration only: a worker token of the group (or an admin token), needed when the
   * nodes run with FOREST_AUTH=on. Default: the environment variable FOREST_WORKER_TOKEN
   * (none when unset or empty); `''`: none, whatever the environment says. Later calls carry
   * the session secret the registration returned instead (every registration gets a new one).
   */
  token?: string;
  /**
   * Safety margin of the lease (ms). A handler starts at once only while the lease is
   * confirmed: until the last successful heartbeat's send time + the lease TTL − this
   * margin (on the monotonic clock). Past that (the process was frozen, heartbeats fail)
   * the worker first claims the execution from the node (its `running` report must be
   * accepted) and starts it only then. Default max(1000, 20 % of the lease TTL).
   */
  leaseMarginMs?: number;
}

export interface ForestWorkerStopOptions {
  /** How long running handlers may take to finish before their signal aborts (ms). Default 30000. */
  timeoutMs?: number;
  /** After the abort, how long handlers get to settle before they are reported failed (ms). Default 1000. */
  abortGraceMs?: number;
  /** How long pending reports may take to reach a node before they are given up (ms). Default 10000. */
  flushTimeoutMs?: number;
}

export type ForestWorkerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A read-only snapshot, for tests and operators. */
export interface ForestWorkerStatus {
  state: ForestWorkerState;
  /** The current worker id (undefined before registration and while re-registering). */
  workerId: string | undefined;
  /** The node base URL requests go to now. */
  node: string;
  /** Successful registrations so far (more than 1 means the lease was lost and renewed). */
  registrations: number;
  /** Executions running now. */
  running: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Reports queued or in flight. */
  pendingReports: number;
  /** Reports the node refused (conflict, not_found) or that could not be delivered. */
  droppedReports: number;
  /**
   * Executions given up because they were no longer this worker's (timed out or cancelled
   * by the node, moved, lost with the lease, or a claim refused): aborted if running, never
   * started if waiting, and not reported.
   */
  revoked: number;
  /** Handler log lines the node stored (live logs; 0 when the node keeps none). */
  logLinesSent: number;
  /** Handler log lines not stored: the worker's queue overflowed, a bound was reached, or refused. */
  logLinesDropped: number;
}
