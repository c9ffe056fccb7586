import { hostname } from 'node:os';
import { format } from 'node:util';
import {
  MAX_HELD_PER_HEARTBEAT,
  MAX_REPORT_TEXT_BYTES,
  type AbortNotice,
  type Assignment,
  type ExecutionReport,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type PollResponse,
  type RegisterWorkerRequest,
  type RegisterWorkerResponse,
  type ReportBatchRequest,
  type ReportBatchResponse,
  type ReportOutcome,
  type ReportResult,
  type LogBatchRequest,
  type LogBatchResponse,
  type WorkerLogLevel,
} from '@forest/protocol';
import {
  ExecutionRevokedError,
  ExecutionTimeoutError,
  ForestNodeError,
  ForestWorkerConfigError,
  WorkerStoppingError,
  isWorkerNotFound,
  isWorkerSessionLost,
} from './forest-worker.errors';
import type {
  ForestJobContext,
  ForestJobHandler,
  ForestJobLogger,
  ForestWorkerLogger,
  ForestWorkerOptions,
  ForestWorkerState,
  ForestWorkerStatus,
  ForestWorkerStopOptions,
} from './forest-worker.types';
import { LogShipper } from './log-shipper';
import { NodeClient } from './node-client';
import { OutputBuffer, boundText, reasonText, thrownText, valueText } from './output-buffer';
import { ReportSender, type SendOutcome } from './report-sender';
import { backoffDelay, settlesWithin, sleep } from './timing';

/** Execution ids remembered as started, so a redelivered assignment is not run twice. */
const STARTED_IDS_KEPT = 10_000;
/** Rough JSON size cap of a heartbeat's held list, well below a node's 1 MiB body limit. */
const MAX_HELD_CHARS = 512 * 1024;
/** Most `running` claims per request (the batch endpoint takes 500 reports). */
const MAX_CLAIMS_PER_REQUEST = 500;
/** Smallest output limit: room for some text and the truncation marker. */
const MIN_OUTPUT_LIMIT_BYTES = 128;
const MAX_POLL_WAIT_MS = 60_000;
const MAX_POLL_BATCH = 1000;
/** What a node accepts at registration. */
const MAX_CAPACITY = 10_000;
const MAX_LABELS = 32;
/** setTimeout fires at once for longer delays; a limit beyond ~24.8 days is treated as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest a final report waits for its execution's last log lines to reach the node. */
const FINAL_LOG_FLUSH_MS = 2_000;

const SILENT_LOGGER: ForestWorkerLogger = { log() {}, warn() {}, error() {} };

interface ResolvedOptions {
  nodes: string[];
  nodeOrder: 'spread' | 'listed';
  group: string;
  concurrency: number;
  labels: Record<string, string>;
  pollWaitMs: number;
  outputLimitBytes: number;
  requestTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  host: string;
  /** Sent on registration only; undefined: none (FOREST_AUTH=off). */
  token: string | undefined;
  /** Undefined: max(1000, 20 % of the lease TTL). */
  leaseMarginMs: number | undefined;
}

interface Run {
  assignment: Assignment;
  controller: AbortController;
  output: OutputBuffer;
  /** Settles when the handler has settled and its final report is queued. */
  done: Promise<void>;
  /** stop() gave up on it and reported it failed; its late result is not reported. */
  abandoned: boolean;
  /** The worker id it was received under: it is ours only while that id is. */
  workerId: string;
  /** The handler was called. */
  started: boolean;
  /** When the handler was called (epoch ms): sent with its reports for the node's metrics. */
  startedAtMs?: number;
  /** No longer this worker's: aborted (or never started), and never reported. */
  revoked: boolean;
  /** Ends its hold (waiting for its scheduled time), if it is held. */
  release?: (due: boolean) => void;
}

type ClaimAnswer = { result: ReportResult | undefined } | { error: unknown };

interface PendingClaim {
  run: Run;
  settle: (answer: ClaimAnswer) => void;
}

/**
 * A Forest worker: registers with a scheduler node of its group, heartbeats, long-polls for
 * assignments, runs each with its handler (at most `concurrency` at once) and reports
 * `running` then `succeeded` / `failed`. Works in plain Node; ForestWorkerModule wraps it for Nest.
 */
export class ForestWorker {
  private readonly options: ResolvedOptions;
  private readonly logger: ForestWorkerLogger;
  private readonly handlers = new Map<string, ForestJobHandler>();
  private readonly client: NodeClient;
  private readonly reports: ReportSender;
  /** Streams handler log lines while they run, when the node keeps logs. */
  private readonly logs: LogShipper;

  private state: ForestWorkerState = 'idle';
  private workerId: string | undefined;
  /**
   * The session secret the registration of `workerId` returned: every call under that id
   * carries it. A new registration replaces it (a node that sent none gets no header).
   */
  private session: { workerId: string; secret: string | undefined } | undefined;
  private heartbeatIntervalMs = 10_000;
  private revision = 0;
  private registrations = 0;
  private registering: Promise<boolean> | undefined;
  /** Aborted when stop() begins: ends registration attempts, poll backoff and the poll itself. */
  private readonly lifecycle = new AbortController();
  private pollAbort: AbortController | undefined;
  private pollLoop: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatsOn = false;
  private readonly runs = new Map<string, Run>();
  private readonly startedIds = new Set<string>();
  private slotWaiters: Array<() => void> = [];
  /** Early assignments waiting for their scheduled time: call with false to give them up. */
  private readonly holds = new Set<(due: boolean) => void>();
  private stopping: Promise<void> | undefined;
  private readonly counters = {
    started: 0,
    succeeded: 0,
    failed: 0,
    droppedReports: 0,
    revoked: 0,
  };
  /**
   * Until when (performance.now()) the lease is known to be alive: the send time of the
   * last successful heartbeat (or registration) + its TTL − the safety margin. The
   * monotonic clock runs on while the process is frozen, so a frozen worker knows it no
   * longer holds anything for sure when it wakes up.
   */
  private leaseConfirmedUntil = -Infinity;
  /** The heartbeat in flight: claims wait for it instead of sending their own. */
  private heartbeating: Promise<void> | undefined;
  /** The node the current long poll waits on. */
  private pollNode: string | undefined;
  /** Where the next heartbeat's held list starts when not every id fits in one. */
  private heldCursor = 0;
  /** Never-started executions revoked under a worker id: a late redelivery under it is ignored. */
  private readonly revokedUnder = new Map<string, string>();
  /** `running` claims gathered in this turn of the event loop, sent together. */
  private claimQueue: PendingClaim[] | undefined;

  constructor(options: ForestWorkerOptions) {
    this.options = resolveOptions(options);
    this.logger = options.logger === false ? SILENT_LOGGER : (options.logger ?? console);
    for (const [target, handler] of Object.entries(options.handlers ?? {})) {
      this.register(target, handler);
    }
    this.client = new NodeClient(
      this.options.nodes,
      this.options.requestTimeoutMs,
      this.logger,
      this.options.nodeOrder === 'spread'
        ? Math.floor(Math.random() * this.options.nodes.length)
        : 0,
    );
    this.reports = new ReportSender({
      send: (reports) => this.sendReports(reports),
      dropped: (report, outcome, message) => this.onReportDropped(report, outcome, message),
      logger: this.logger,
      retryInitialMs: this.options.retryInitialMs,
      retryMaxMs: this.options.retryMaxMs,
    });
    this.logs = new LogShipper({
      send: (batch) => this.sendLogs(batch),
      logger: this.logger,
      retryInitialMs: this.options.retryInitialMs,
      retryMaxMs: this.options.retryMaxMs,
    });
  }

  /** Adds a handler for `target`. Only before start(): targets are declared at registration. */
  register(target: string, handler: ForestJobHandler): this {
    if (this.state !== 'idle') {
      throw new ForestWorkerConfigError(
        `cannot register target "${target}": handlers must be registered before start()`,
      );
    }
    if (!isKeySegment(target)) {
      throw new ForestWorkerConfigError(
        `target ${JSON.stringify(target)} is not allowed: use 1-64 characters of A-Z a-z 0-9 . _ -`,
      );
    }
    if (typeof handler !== 'function') {
      throw new ForestWorkerConfigError(`the handler for target "${target}" is not a function`);
    }
    if (this.handlers.has(target)) {
      throw new ForestWorkerConfigError(`target "${target}" already has a handler`);
    }
    this.handlers.set(target, handler);
    return this;
  }

  /** The targets this worker serves. */
  get targets(): string[] {
    return [...this.handlers.keys()];
  }

  get status(): ForestWorkerStatus {
    return Object.freeze({
      state: this.state,
      workerId: this.workerId,
      node: this.client.node,
      registrations: this.registrations,
      running: this.runs.size,
      started: this.counters.started,
      succeeded: this.counters.succeeded,
      failed: this.counters.failed,
      pendingReports: this.reports.pending,
      droppedReports: this.counters.droppedReports,
      revoked: this.counters.revoked,
      logLinesSent: this.logs.stats.sent,
      logLinesDropped: this.logs.stats.dropped,
    });
  }

  /**
   * Registers (retrying with backoff, across nodes, until a node accepts), then heartbeats
   * and polls in the background. Resolves once registered, or when stop() ends it earlier.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') {
      throw new ForestWorkerConfigError(`start() was already called (the worker is ${this.state})`);
    }
    if (this.handlers.size === 0) {
      throw new ForestWorkerConfigError(
        `group "${this.options.group}": no handlers; register at least one target before start()`,
      );
    }
    this.state = 'starting';
    const registered = await this.ensureRegistered();
    if (!registered || this.state !== 'starting') return;
    this.state = 'running';
    this.heartbeatsOn = true;
    this.scheduleHeartbeat();
    this.pollLoop = this.runPollLoop();
  }

  /**
   * Graceful stop: stops polling, lets running handlers finish within `timeoutMs`, then
   * aborts their signals, delivers pending reports, and leaves. Calling it again returns
   * the same promise.
   */
  stop(options: ForestWorkerStopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options);
    return this.stopping;
  }

  // ---- registration and heartbeats -------------------------------------------------

  private workerPath(workerId: string): string {
    return `/api/workers/${encodeURIComponent(this.options.group)}/${encodeURIComponent(workerId)}`;
  }

  /** The session secret of `workerId` (sent as its bearer), if it is the current session's. */
  private secretOf(workerId: string): string | undefined {
    return this.session?.workerId === workerId ? this.session.secret : undefined;
  }

  /** One registration at a time; everyone who needs a worker id waits for the same one. */
  private ensureRegistered(): Promise<boolean> {
    this.registering ??= this.registerWithRetry().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  private async registerWithRetry(): Promise<boolean> {
    this.workerId = undefined;
    this.session = undefined;
    this.revision = 0;
    this.leaseConfirmedUntil = -Infinity;
    const body: RegisterWorkerRequest = {
      group: this.options.group,
      targets: this.targets,
      capacity: this.options.concurrency,
      host: this.options.host,
      pid: process.pid,
      labels: this.options.labels,
    };
    for (let attempt = 1; ; attempt++) {
      if (this.lifecycle.signal.aborted) return false;
      const sentAt = performance.now();
      try {
        const answer = await this.client.request<RegisterWorkerResponse>('POST', '/api/workers', {
          body,
          signal: this.lifecycle.signal,
          bearer: this.options.token,
        });
        if (typeof answer?.workerId !== 'string' || answer.workerId.length === 0) {
          throw new Error('the node answered without a worker id');
        }
        const secret = answer.sessionSecret;
        if (secret !== undefined && (typeof secret !== 'string' || !isHeaderToken(secret))) {
          throw new Error('the node answered with a malformed session secret');
        }
        this.workerId = answer.workerId;
        this.session = { workerId: answer.workerId, secret };
        this.heartbeatIntervalMs = heartbeatInterval(answer);
        this.logs.configure(answer.logs);
        this.registrations++;
        this.confirmLease(sentAt, answer.leaseTtlS);
        // Whatever came under an earlier id is not ours any more (usually revoked already,
        // when the node first said WORKER_NOT_FOUND).
        this.revokeWhere(
          (run) => run.workerId !== answer.workerId,
          'lost',
          'the worker lost its lease and registered again',
        );
        // A long poll still waiting under the old id would hold up work for the new one.
        this.pollAbort?.abort();
        this.logger.log(
          `forest worker: registered worker=${answer.workerId} group=${this.options.group} ` +
            `node=${answer.node ?? this.client.node} targets=${body.targets.join(',')} ` +
            `capacity=${body.capacity} heartbeat=${this.heartbeatIntervalMs}ms`,
        );
        return true;
      } catch (error) {
        if (this.lifecycle.signal.aborted) return false;
        const delay = backoffDelay(attempt, this.options.retryInitialMs, this.options.retryMaxMs);
        const message =
          `forest worker: registration in group=${this.options.group} failed ` +
          `(attempt ${attempt}), retrying in ${delay}ms: ${reasonText(error)}`;
        // A 4xx (unknown group, bad request) needs an operator; a network error may pass.
        if (error instanceof ForestNodeError) this.logger.error(message);
        else this.logger.warn(message);
        await sleep(delay, this.lifecycle.signal);
      }
    }
  }

  /**
   * A node said WORKER_NOT_FOUND for `lostId`: its lease is gone. Registers again unless
   * that already happened. False when there will be no worker id (the worker is stopping).
   */
  private onWorkerLost(error: ForestNodeError, lostId: string): Promise<boolean> {
    // Its lease is gone, so is its work: the leader moved the unstarted executions to
    // other workers and marked the running ones lost. None of them is ours any more.
    this.revokeWhere(
      (run) => run.workerId === lostId,
      'lost',
      `worker ${lostId} lost its lease: its unstarted work moved elsewhere, its running work is lost`,
    );
    if (this.registering) return this.registering;
    if (this.state !== 'running') return Promise.resolve(false);
    if (lostId !== this.workerId) return Promise.resolve(true);
    if (error.code === 'WORKER_NOT_FOUND') {
      this.logger.warn(
        `forest worker: worker=${lostId} lost its lease (${error.request} -> ` +
          `${error.code}); registering again`,
      );
    } else {
      // The worker always sends its secret: a proxy that drops the Authorization header,
      // or a node that lost track of the session. A new registration brings a new one.
      this.logger.error(
        `forest worker: the node refused the session of worker=${lostId} (${error.request} -> ` +
          `${error.status} ${error.code}); registering again (does a proxy between the worker ` +
          'and the nodes drop the Authorization header?)',
      );
    }
    return this.ensureRegistered();
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    if (!this.heartbeatsOn) return;
    this.heartbeatTimer = setTimeout(() => {
      void this.heartbeat().finally(() => this.scheduleHeartbeat());
    }, this.heartbeatIntervalMs);
  }

  /** One heartbeat at a time: a claim that needs one waits for the one in flight. */
  private heartbeat(): Promise<void> {
    this.heartbeating ??= this.sendHeartbeat().finally(() => {
      this.heartbeating = undefined;
    });
    return this.heartbeating;
  }

  /**
   * Keeps the lease alive and lists the executions held under this id; the node answers
   * which of them are no longer ours (revoked here). The node that answers is where the
   * long poll belongs: NodeClient moved on because the previous one stopped answering.
   */
  private async sendHeartbeat(): Promise<void> {
    const id = this.workerId;
    if (id === undefined) return; // registering again right now
    const body: HeartbeatRequest = {};
    const held = this.heldIds(id);
    if (held.length > 0) body.held = held;
    let answeredBy: string | undefined;
    const sentAt = performance.now();
    try {
      // A heartbeat that waits longer than the interval is late anyway: try the next node.
      const timeoutMs = Math.min(
        this.options.requestTimeoutMs,
        Math.max(1000, this.heartbeatIntervalMs),
      );
      const answer = await this.client.request<Partial<HeartbeatResponse> | undefined>(
        'POST',
        `${this.workerPath(id)}/heartbeat`,
        {
          body,
          timeoutMs,
          bearer: this.secretOf(id),
          onAttempt: (node) => (answeredBy = node),
        },
      );
      if (this.workerId !== id) return; // registered again meanwhile
      this.confirmLease(sentAt, answer?.leaseTtlS);
      for (const notice of Array.isArray(answer?.abort) ? answer.abort : []) {
        this.onAbortNotice(id, notice);
      }
      if (answeredBy !== undefined) this.followNode(answeredBy);
    } catch (error) {
      if (isWorkerSessionLost(error)) {
        await this.onWorkerLost(error, id);
      } else {
        this.logger.warn(`forest worker: heartbeat of worker=${id} failed: ${reasonText(error)}`);
      }
    }
  }

  /** The ids of the executions held under `id`, at most what one heartbeat may carry. */
  private heldIds(id: string): string[] {
    const ids: string[] = [];
    let chars = 0;
    for (const run of this.runs.values()) {
      if (run.workerId !== id || run.revoked) continue;
      ids.push(run.assignment.executionId);
      chars += run.assignment.executionId.length + 3;
    }
    if (ids.length <= MAX_HELD_PER_HEARTBEAT && chars <= MAX_HELD_CHARS) return ids;
    // Too many for one heartbeat: a different window each time, so each id is checked.
    const window: string[] = [];
    chars = 0;
    const start = this.heldCursor % ids.length;
    for (let i = 0; i < ids.length && window.length < MAX_HELD_PER_HEARTBEAT; i++) {
      const next = ids[(start + i) % ids.length];
      if (chars + next.length + 3 > MAX_HELD_CHARS) break;
      chars += next.length + 3;
      window.push(next);
    }
    this.heldCursor = start + window.length;
    return window;
  }

  private confirmLease(sentAt: number, leaseTtlS: unknown): void {
    if (typeof leaseTtlS !== 'number' || !(leaseTtlS > 0)) return;
    const ttlMs = leaseTtlS * 1000;
    const marginMs = this.options.leaseMarginMs ?? Math.max(1000, ttlMs * 0.2);
    this.leaseConfirmedUntil = Math.max(this.leaseConfirmedUntil, sentAt + ttlMs - marginMs);
  }

  private onAbortNotice(id: string, notice: AbortNotice | undefined): void {
    if (typeof notice?.executionId !== 'string') return;
    const run = this.runs.get(notice.executionId);
    if (!run || run.workerId !== id) return;
    this.revoke(run, String(notice.status ?? 'unknown'), String(notice.reason ?? ''));
  }

  /**
   * The execution is no longer this worker's: a running handler's signal aborts with an
   * ExecutionRevokedError, a held one never starts (its slot frees), and no report is sent
   * for it (the node would refuse it).
   */
  private revoke(run: Run, status: string, reason: string, quiet = false): void {
    if (run.revoked) return;
    run.revoked = true;
    this.counters.revoked++;
    const id = run.assignment.executionId;
    this.reports.discardRunning(id);
    this.logs.discard(id);
    if (!quiet) {
      this.logger.warn(
        `forest worker: execution=${id} is no longer this worker's (${status}` +
          `${reason ? `: ${reason}` : ''}); ` +
          (run.started ? 'aborting its handler' : 'it will not start') +
          ', and it is not reported',
      );
    }
    run.release?.(false);
    run.controller.abort(new ExecutionRevokedError(id, status, reason));
  }

  private revokeWhere(which: (run: Run) => boolean, status: string, reason: string): void {
    const runs = [...this.runs.values()].filter((run) => !run.revoked && which(run));
    if (runs.length === 0) return;
    const started = runs.filter((run) => run.started).length;
    const listed = runs.slice(0, 20).map((run) => run.assignment.executionId);
    const more = runs.length > listed.length ? ` and ${runs.length - listed.length} more` : '';
    this.logger.warn(
      `forest worker: ${runs.length} execution(s) are no longer this worker's (${status}: ` +
        `${reason}); aborting ${started} running, dropping ${runs.length - started} not ` +
        `started; none is reported: ${listed.join(', ')}${more}`,
    );
    for (const run of runs) this.revoke(run, status, reason, true);
  }

  /**
   * A heartbeat was answered by `node`. If the long poll waits on another node, that one
   * stopped answering (NodeClient moved on): poll again where the heartbeat went.
   */
  private followNode(node: string): void {
    if (this.pollAbort === undefined || this.pollNode === undefined || this.pollNode === node) {
      return;
    }
    this.logger.warn(
      `forest worker: the heartbeat went to ${node} while the long poll waits on ` +
        `${this.pollNode}; polling ${node} instead`,
    );
    this.pollAbort.abort();
  }

  // ---- polling and running -----------------------------------------------------------

  private async runPollLoop(): Promise<void> {
    let failures = 0;
    while (this.state === 'running') {
      const free = this.options.concurrency - this.runs.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      const id = this.workerId;
      if (id === undefined) {
        if (!(await this.ensureRegistered())) return;
        continue;
      }
      const controller = new AbortController();
      this.pollAbort = controller;
      try {
        const answer = await this.client.request<PollResponse>(
          'GET',
          `${this.workerPath(id)}/assignments`,
          {
            query: {
              after: this.revision,
              waitMs: this.options.pollWaitMs,
              max: Math.min(free, MAX_POLL_BATCH),
            },
            signal: controller.signal,
            timeoutMs: this.options.pollWaitMs + this.options.requestTimeoutMs,
            bearer: this.secretOf(id),
            onAttempt: (node) => (this.pollNode = node),
          },
        );
        failures = 0;
        if (this.workerId !== id || this.state !== 'running') continue;
        if (typeof answer?.revision === 'number') this.revision = answer.revision;
        for (const assignment of answer?.assignments ?? []) this.accept(assignment, id);
      } catch (error) {
        if (this.state !== 'running') return;
        // Re-registered (poll under the new id), or its node stopped answering (poll the
        // node the heartbeat reached).
        if (controller.signal.aborted) continue;
        if (isWorkerSessionLost(error)) {
          await this.onWorkerLost(error, id);
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, this.options.retryInitialMs, this.options.retryMaxMs);
        this.logger.warn(
          `forest worker: poll of worker=${id} failed, retrying in ${delay}ms: ${reasonText(error)}`,
        );
        await sleep(delay, this.lifecycle.signal);
      } finally {
        this.pollAbort = undefined;
        this.pollNode = undefined;
      }
    }
  }

  private notifySlot(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private accept(assignment: Assignment, workerId: string): void {
    const id = assignment.executionId;
    if (this.startedIds.has(id) || this.runs.has(id)) {
      this.logger.debug?.(`forest worker: execution=${id} delivered again; it already started`);
      return;
    }
    if (this.revokedUnder.get(id) === workerId) {
      // A poll answer older than the heartbeat that revoked it.
      this.logger.debug?.(`forest worker: execution=${id} delivered again; it was revoked`);
      return;
    }
    // The node never sends more than `max`; if it did, the rest is redelivered later.
    if (this.runs.size >= this.options.concurrency) return;
    this.rememberStarted(id);
    const handler = this.handlers.get(assignment.target);
    if (!handler) {
      this.counters.started++;
      this.counters.failed++;
      this.reports.enqueue({
        executionId: id,
        status: 'failed',
        error: `worker has no handler for target "${assignment.target}" (it serves: ${this.targets.join(', ')})`,
      });
      return;
    }
    const run: Run = {
      assignment,
      controller: new AbortController(),
      output: new OutputBuffer(this.options.outputLimitBytes),
      done: Promise.resolve(),
      abandoned: false,
      workerId,
      started: false,
      revoked: false,
    };
    this.runs.set(id, run);
    run.done = this.execute(run, handler).finally(() => {
      this.logs.forget(id);
      this.runs.delete(id);
      this.notifySlot();
    });
  }

  private rememberStarted(id: string): void {
    this.startedIds.add(id);
    if (this.startedIds.size > STARTED_IDS_KEPT) {
      const oldest = this.startedIds.values().next().value;
      if (oldest !== undefined) this.startedIds.delete(oldest);
    }
  }

  /**
   * Resolves true once the wall clock reaches `dueMs`, or false as soon as the worker starts
   * stopping. Timers count whole milliseconds of the monotonic clock, so one can come due a
   * fraction of a millisecond before the wall clock reaches the time (or more, if the clock
   * was adjusted); a handler must never start before its scheduled time (a daily job would
   * see the previous day), so the hold re-arms for what is left. One timer per hold and no
   * listener on the lifecycle signal: at thousands of fires per second a worker holds
   * thousands of early assignments, and a listener each would make every removal a scan
   * (and warn of a leak past ten).
   */
  private holdUntil(dueMs: number, run: Run): Promise<boolean> {
    if (this.lifecycle.signal.aborted || run.revoked) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout;
      const release = (due: boolean) => {
        clearTimeout(timer);
        this.holds.delete(release);
        run.release = undefined;
        resolve(due);
      };
      run.release = release;
      const arm = () => {
        const left = dueMs - Date.now();
        if (left <= 0) return release(true);
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      this.holds.add(release);
      arm();
    });
  }

  private async execute(run: Run, handler: ForestJobHandler): Promise<void> {
    const { assignment, controller, output } = run;
    // The leader writes fires ahead of time (its fire lookahead), so an assignment can
    // arrive before its scheduled time: hold it in its slot and start on time. Stopping
    // meanwhile leaves it unstarted: the node moves it to another worker when we leave.
    if (
      (assignment.scheduledMs > Date.now() &&
        !(await this.holdUntil(assignment.scheduledMs, run))) ||
      !(await this.mayStart(run))
    ) {
      this.startedIds.delete(assignment.executionId);
      if (run.revoked) this.rememberRevoked(assignment.executionId, run.workerId);
      return;
    }
    run.started = true;
    run.startedAtMs ??= Date.now();
    this.counters.started++;
    const timeoutMs = Number(assignment.timeoutMs) || 0;
    const timer =
      timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS
        ? setTimeout(() => controller.abort(new ExecutionTimeoutError(timeoutMs)), timeoutMs)
        : undefined;
    this.logs.begin(assignment.executionId);
    const ctx = this.context(assignment, controller.signal, output, timeoutMs);
    let report: ExecutionReport;
    try {
      const result = await handler(ctx);
      if (result !== undefined) output.append(valueText(result));
      const reason: unknown = controller.signal.reason;
      report =
        controller.signal.aborted && reason instanceof ExecutionTimeoutError
          ? {
              executionId: assignment.executionId,
              status: 'timed_out',
              error: reason.message,
              startedAtMs: run.startedAtMs,
            }
          : {
              executionId: assignment.executionId,
              status: 'succeeded',
              startedAtMs: run.startedAtMs,
            };
    } catch (thrown) {
      let error = thrownText(thrown);
      const reason: unknown = controller.signal.reason;
      if (controller.signal.aborted && reason !== thrown && reason instanceof Error) {
        error = `${reason.message}\n${error}`;
      }
      // A handler that throws because its time limit aborted it (the usual reaction to
      // the signal) timed out; it did not fail on its own.
      const timedOut = controller.signal.aborted && reason instanceof ExecutionTimeoutError;
      report = {
        executionId: assignment.executionId,
        status: timedOut ? 'timed_out' : 'failed',
        error,
        startedAtMs: run.startedAtMs,
      };
    } finally {
      clearTimeout(timer);
    }
    // Revoked: the node refuses any report for it (its work moved, or it ended there).
    if (run.abandoned || run.revoked) return;
    // The node takes lines only while the execution is this worker's: lines first.
    await this.logs.finish(assignment.executionId, FINAL_LOG_FLUSH_MS);
    if (run.abandoned || run.revoked) return;
    const limit = this.options.outputLimitBytes;
    const text = output.toString();
    if (text.length > 0) report.output = text;
    if (report.error !== undefined) report.error = boundText(report.error, limit);
    if (report.status === 'succeeded') this.counters.succeeded++;
    else this.counters.failed++;
    this.reports.enqueue(report);
  }

  private rememberRevoked(id: string, workerId: string): void {
    this.revokedUnder.set(id, workerId);
    if (this.revokedUnder.size > STARTED_IDS_KEPT) {
      const oldest = this.revokedUnder.keys().next().value;
      if (oldest !== undefined) this.revokedUnder.delete(oldest);
    }
  }

  /**
   * Whether the run may start now; when it may, its `running` report is queued or
   * already recorded. A handler starts only while the worker provably holds its
   * execution: at once while the lease is confirmed (the usual case, which keeps the
   * on-time start of an early assignment), otherwise after the node accepted a claim.
   */
  private async mayStart(run: Run): Promise<boolean> {
    if (run.revoked || this.lifecycle.signal.aborted) return false;
    if (run.workerId === this.workerId && performance.now() < this.leaseConfirmedUntil) {
      // The handler starts right after this (the same time goes with its final report).
      run.startedAtMs = Date.now();
      this.reports.enqueue({
        executionId: run.assignment.executionId,
        status: 'running',
        startedAtMs: run.startedAtMs,
      });
      return true;
    }
    return this.claim(run);
  }

  /**
   * The lease is not confirmed (the process was frozen, or heartbeats fail): the work may
   * have moved to another worker meanwhile. Sends the `running` report directly (after a
   * fresh heartbeat, which finds a lost lease and keeps a live one) and starts only if the
   * node accepts it; refused, the execution is not ours and never starts. Network failures
   * are retried with backoff while the run is held, until the worker stops or it is revoked.
   */
  private async claim(run: Run): Promise<boolean> {
    const id = run.assignment.executionId;
    this.logger.warn(
      `forest worker: the lease of worker=${run.workerId} is not confirmed (no successful ` +
        `heartbeat lately); claiming execution=${id} before starting it`,
    );
    for (let failures = 0; ;) {
      if (run.revoked || this.lifecycle.signal.aborted) return false;
      if (run.workerId !== this.workerId) {
        if (this.workerId !== undefined) {
          this.revoke(run, 'lost', `received under worker ${run.workerId}, whose lease is gone`);
        }
        return false;
      }
      if (performance.now() >= this.leaseConfirmedUntil) await this.heartbeat();
      if (run.revoked || this.lifecycle.signal.aborted) return false;
      const answer = await this.sendClaim(run);
      let problem: unknown;
      if ('result' in answer) {
        const result = answer.result;
        if (result?.outcome === 'accepted') return !run.revoked;
        if (result) {
          this.logger.warn(
            `forest worker: claim of execution=${id} refused (${result.outcome}` +
              `${result.message ? `: ${result.message}` : ''}); not starting it`,
          );
          this.revoke(run, result.outcome, result.message ?? '', true);
          return false;
        }
        problem = 'the node returned no outcome for it';
      } else if (isWorkerSessionLost(answer.error)) {
        await this.onWorkerLost(answer.error, run.workerId); // revokes it
        return false;
      } else if (answer.error instanceof ForestNodeError) {
        this.logger.error(
          `forest worker: claim of execution=${id} refused: ${answer.error.message}; not starting it`,
        );
        return false;
      } else {
        problem = answer.error;
      }
      failures++;
      const delay = backoffDelay(failures, this.options.retryInitialMs, this.options.retryMaxMs);
      this.logger.warn(
        `forest worker: claim of execution=${id} failed, retrying in ${delay}ms: ${reasonText(problem)}`,
      );
      // The run's controller aborts when it is revoked or the worker stops.
      await sleep(delay, run.controller.signal);
    }
  }

  /** Claims gathered in one turn of the event loop go out together, per worker id. */
  private sendClaim(run: Run): Promise<ClaimAnswer> {
    return new Promise<ClaimAnswer>((settle) => {
      if (this.claimQueue === undefined) {
        this.claimQueue = [];
        setImmediate(() => void this.flushClaims());
      }
      this.claimQueue.push({ run, settle });
    });
  }

  private async flushClaims(): Promise<void> {
    const queue = this.claimQueue ?? [];
    this.claimQueue = undefined;
    const batches: PendingClaim[][] = [];
    const byWorker = new Map<string, PendingClaim[]>();
    for (const claim of queue) {
      let batch = byWorker.get(claim.run.workerId);
      if (!batch || batch.length >= MAX_CLAIMS_PER_REQUEST) {
        batch = [];
        byWorker.set(claim.run.workerId, batch);
        batches.push(batch);
      }
      batch.push(claim);
    }
    await Promise.all(
      batches.map(async (batch) => {
        const workerId = batch[0].run.workerId;
        // A claim's handler starts as soon as the node accepts it.
        const startedAtMs = Date.now();
        const reports: ExecutionReport[] = batch.map(({ run }) => ({
          executionId: run.assignment.executionId,
          status: 'running',
          startedAtMs,
        }));
        try {
          const answer = await this.client.request<ReportBatchResponse>(
            'POST',
            `${this.workerPath(workerId)}/reports`,
            { body: { reports } satisfies ReportBatchRequest, bearer: this.secretOf(workerId) },
          );
          const results = Array.isArray(answer?.results) ? answer.results : [];
          batch.forEach(({ settle }, i) => {
            const executionId = reports[i].executionId;
            const result =
              results[i]?.executionId === executionId
                ? results[i]
                : results.find((r) => r.executionId === executionId);
            settle({ result });
          });
        } catch (error) {
          for (const { settle } of batch) settle({ error });
        }
      }),
    );
  }

  private context(
    a: Assignment,
    signal: AbortSignal,
    output: OutputBuffer,
    timeoutMs: number,
  ): ForestJobContext {
    const line =
      (level: WorkerLogLevel) =>
      (...args: unknown[]): void => {
        const atMs = Date.now();
        const text = format(...args);
        output.append(`${new Date(atMs).toISOString()} ${level.toUpperCase()} ${text}\n`);
        this.logs.line(a.executionId, level, text, atMs);
      };
    const logger: ForestJobLogger = {
      log: line('info'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      debug: line('debug'),
    };
    const scheduledMs =
      typeof a.scheduledMs === 'number' ? a.scheduledMs : Date.parse(a.scheduledAt);
    return {
      executionId: a.executionId,
      jobId: a.jobId,
      jobName: a.jobName,
      target: a.target,
      scheduledAt: new Date(scheduledMs),
      attempt: a.attempt,
      trigger: a.trigger,
      params: a.params,
      timeoutMs,
      ...(a.shard ? { shard: { index: a.shard.index, total: a.shard.total } } : {}),
      signal,
      logger,
    };
  }

  // ---- reports -----------------------------------------------------------------------

  private async sendReports(reports: ExecutionReport[], lostLeases = 0): Promise<SendOutcome> {
    const id = this.workerId ?? ((await this.ensureRegistered()) ? this.workerId : undefined);
    if (id === undefined) return { giveUp: 'the worker has no lease any more (it is stopping)' };
    const body: ReportBatchRequest = { reports };
    try {
      const answer = await this.client.request<ReportBatchResponse>(
        'POST',
        `${this.workerPath(id)}/reports`,
        { body, bearer: this.secretOf(id) },
      );
      return { results: answer?.results ?? [] };
    } catch (error) {
      // The lease is gone: register again and send under the new id; the node then says
      // which executions are still ours (the others come back as conflict / not_found).
      if (!isWorkerSessionLost(error) || lostLeases >= 3) throw error;
      if (!(await this.onWorkerLost(error, id))) {
        return { giveUp: 'the worker lost its lease while stopping' };
      }
      return this.sendReports(reports, lostLeases + 1);
    }
  }

  /** One batch of log lines under the current worker id (LogShipper retries failures). */
  private async sendLogs(batch: LogBatchRequest): Promise<LogBatchResponse> {
    const id = this.workerId;
    if (id === undefined) throw new Error('the worker is registering again');
    return this.client.request<LogBatchResponse>('POST', `${this.workerPath(id)}/logs`, {
      body: batch,
      bearer: this.secretOf(id),
    });
  }

  private onReportDropped(
    report: ExecutionReport,
    outcome: ReportOutcome | 'undeliverable',
    message: string,
  ): void {
    this.counters.droppedReports++;
    this.logger.warn(
      `forest worker: report ${report.status} of execution=${report.executionId} dropped ` +
        `(${outcome}${message ? `: ${message}` : ''})`,
    );
    // The node says it is no longer ours: stop working on it.
    const run = this.runs.get(report.executionId);
    if (run && (outcome === 'conflict' || outcome === 'not_found')) {
      run.controller.abort(new ExecutionRevokedError(report.executionId, outcome, message));
    }
  }

  // ---- stop --------------------------------------------------------------------------

  private async shutdown({
    timeoutMs = 30_000,
    abortGraceMs = 1_000,
    flushTimeoutMs = 10_000,
  }: ForestWorkerStopOptions): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.lifecycle.abort();
    for (const release of [...this.holds]) release(false);
    // Ends the backoff of claims being retried (their handlers have not started).
    for (const run of this.runs.values()) {
      if (!run.started) run.controller.abort(new WorkerStoppingError(0));
    }
    this.pollAbort?.abort();
    this.notifySlot();

    const running = [...this.runs.values()];
    if (running.length > 0) {
      this.logger.log(
        `forest worker: stopping; waiting up to ${timeoutMs}ms for ${running.length} running execution(s)`,
      );
      await settlesWithin(Promise.allSettled(running.map((r) => r.done)), timeoutMs);
    }
    const left = [...this.runs.values()];
    if (left.length > 0) {
      this.logger.warn(
        `forest worker: aborting ${left.length} execution(s) still running after ${timeoutMs}ms: ` +
          left.map((r) => r.assignment.executionId).join(', '),
      );
      for (const run of left) run.controller.abort(new WorkerStoppingError(timeoutMs));
      await settlesWithin(Promise.allSettled(left.map((r) => r.done)), abortGraceMs);
      for (const run of this.runs.values()) {
        // Never started (a claim in flight) or not ours any more: nothing to report.
        if (!run.started || run.revoked) continue;
        run.abandoned = true;
        this.counters.failed++;
        const output = run.output.toString();
        this.reports.enqueue({
          executionId: run.assignment.executionId,
          status: 'failed',
          error: `${new WorkerStoppingError(timeoutMs).message}, nor settle within ${abortGraceMs}ms after its signal aborted`,
          startedAtMs: run.startedAtMs,
          ...(output.length > 0 ? { output } : {}),
        });
      }
    }
    await this.pollLoop?.catch(() => undefined);
    await this.registering;

    if (!(await this.logs.flush(flushTimeoutMs))) {
      this.logger.warn(
        `forest worker: some log lines could not be sent within ${flushTimeoutMs}ms`,
      );
    }
    this.logs.close();
    if (!(await this.reports.flush(flushTimeoutMs))) {
      this.logger.warn(
        `forest worker: some reports could not be delivered within ${flushTimeoutMs}ms`,
      );
    }
    this.heartbeatsOn = false;
    clearTimeout(this.heartbeatTimer);
    await this.leave();
    this.reports.close();
    this.state = 'stopped';
  }

  private async leave(): Promise<void> {
    const id = this.workerId;
    if (id === undefined) return;
    try {
      await this.client.request('DELETE', this.workerPath(id), { bearer: this.secretOf(id) });
      this.logger.log(`forest worker: worker=${id} left group=${this.options.group}`);
    } catch (error) {
      if (!isWorkerNotFound(error)) {
        this.logger.warn(`forest worker: leaving as worker=${id} failed: ${reasonText(error)}`);
      }
    }
    this.workerId = undefined;
    this.session = undefined;
  }
}

function heartbeatInterval(answer: RegisterWorkerResponse): number {
  if (typeof answer.heartbeatIntervalMs === 'number' && answer.heartbeatIntervalMs > 0) {
    return answer.heartbeatIntervalMs;
  }
  if (typeof answer.leaseTtlS === 'number' && answer.leaseTtlS > 0) {
    return Math.max(100, Math.floor((answer.leaseTtlS * 1000) / 3));
  }
  return 10_000;
}

function resolveOptions(options: ForestWorkerOptions): ResolvedOptions {
  const problems: string[] = [];
  const nodes = Array.isArray(options?.nodes) ? options.nodes : [];
  if (nodes.length === 0) problems.push('nodes: give at least one node base URL');
  for (const node of nodes) {
    if (typeof node !== 'string' || !/^https?:\/\/[^/]+/.test(node)) {
      problems.push(`nodes: "${String(node)}" is not an http(s) base URL`);
    }
  }
  if (!isKeySegment(options?.group)) {
    problems.push(
      `group: ${JSON.stringify(options?.group)} is not a group name (1-64 characters of A-Z a-z 0-9 . _ -)`,
    );
  }
  const labels = Object.entries(options?.labels ?? {});
  if (
    labels.length > MAX_LABELS ||
    labels.some(([k, v]) => !k || k.length > 64 || typeof v !== 'string' || v.length > 64)
  ) {
    problems.push(
      `labels: at most ${MAX_LABELS} string values, keys and values up to 64 characters`,
    );
  }
  const integer = (name: string, value: unknown, min: number, max: number, fallback?: number) => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${name}: expected an integer in ${min}..${max}, got ${String(value)}`);
      return fallback ?? min;
    }
    return v;
  };
  const nodeOrder = options?.nodeOrder ?? 'spread';
  if (nodeOrder !== 'spread' && nodeOrder !== 'listed') {
    problems.push(`nodeOrder: expected "spread" or "listed", got ${JSON.stringify(nodeOrder)}`);
  }
  const resolved: ResolvedOptions = {
    nodes,
    nodeOrder,
    group: options?.group,
    concurrency: integer('concurrency', options?.concurrency, 1, MAX_CAPACITY),
    labels: { ...(options?.labels ?? {}) },
    pollWaitMs: integer('pollWaitMs', options?.pollWaitMs, 0, MAX_POLL_WAIT_MS, 30_000),
    outputLimitBytes: integer(
      'outputLimitBytes',
      options?.outputLimitBytes,
      MIN_OUTPUT_LIMIT_BYTES,
      MAX_REPORT_TEXT_BYTES,
      MAX_REPORT_TEXT_BYTES,
    ),
    requestTimeoutMs: integer('requestTimeoutMs', options?.requestTimeoutMs, 1, 600_000, 10_000),
    retryInitialMs: integer('retry.initialMs', options?.retry?.initialMs, 1, 600_000, 250),
    retryMaxMs: integer('retry.maxMs', options?.retry?.maxMs, 1, 3_600_000, 10_000),
    host: options?.host ?? hostname(),
    token: resolveToken(options?.token, problems),
    leaseMarginMs:
      options?.leaseMarginMs === undefined
        ? undefined
        : integer('leaseMarginMs', options.leaseMarginMs, 0, 3_600_000),
  };
  if (problems.length > 0) {
    throw new ForestWorkerConfigError(`invalid ForestWorker options: ${problems.join('; ')}`);
  }
  return resolved;
}

/**
 * The registration token: the option, else FOREST_WORKER_TOKEN (unset or empty: none). It
 * goes into a header, so it must be visible ASCII without spaces; a problem never quotes it.
 */
function resolveToken(option: unknown, problems: string[]): string | undefined {
  const fromEnv = option === undefined;
  // '' (the option, or the variable): explicitly none.
  const token = (fromEnv ? process.env.FOREST_WORKER_TOKEN : option) || undefined;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || !isHeaderToken(token)) {
    problems.push(
      `${fromEnv ? 'FOREST_WORKER_TOKEN' : 'token'}: expected 1-4096 visible ASCII characters ` +
        'without spaces (the token itself is not shown)',
    );
    return undefined;
  }
  return token;
}

function isHeaderToken(value: string): boolean {
  return /^[\x21-\x7e]{1,4096}$/.test(value);
}

/** Group and target names become store key segments on the node: `[A-Za-z0-9._-]{1,64}`, not `.`/`..`. */
function isKeySegment(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    /^[A-Za-z0-9._-]{1,64}$/.test(value) &&
    value !== '.' &&
    value !== '..'
  );
}
