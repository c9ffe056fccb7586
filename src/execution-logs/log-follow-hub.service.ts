import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { FINAL_EXECUTION_STATUSES, ExecutionStatus } from '@forest/protocol';
import { StoreClosedError } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { LogArrivals } from '../history/log-arrivals';
import { TooManyLogStreamsError } from './execution-logs.errors';
import { FollowSink, LogFollow, LogFollowOptions, LogFollowSource } from './log-follow';

/** A comment line this often keeps proxies and clients from closing an idle stream. */
export const FOLLOW_HEARTBEAT_MS = 15_000;
/** How often an open stream reads the log store; lines stored on this node wake it at once (LogArrivals). */
export const FOLLOW_POLL_MS = 200;
/** How often an open stream reads its execution's status (a coordination-store read). */
export const FOLLOW_STATUS_EVERY_MS = 1_000;
/** Characters a client may leave unread before its stream stops reading (it resumes after). */
export const FOLLOW_MAX_QUEUED_BYTES = 1024 * 1024;
const FOLLOW_PAGE_LINES = 500;

/**
 * The node's log follow streams: the cap on concurrent streams
 * (FOREST_LOG_FOLLOW_MAX_STREAMS), the heartbeat shared by all, and ending every stream
 * before the log store and the HTTP server close.
 */
@Injectable()
export class LogFollowHub implements OnModuleDestroy {
  private readonly logger = new Logger(LogFollowHub.name);
  private readonly follows = new Set<LogFollow>();
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Read failures are logged at most once per this many ms (a store outage hits every stream). */
  private lastErrorLogMs = 0;

  constructor(
    private readonly config: ForestConfig,
    private readonly arrivals: LogArrivals,
  ) {}

  get streamCount(): number {
    return this.follows.size;
  }

  /**
   * Starts a stream after `afterSeq`; it runs in the background until its execution is
   * final and every line went out, the client leaves, or the node stops.
   */
  open(
    executionId: string,
    source: LogFollowSource,
    sink: FollowSink,
    afterSeq: number,
  ): LogFollow {
    if (this.stopped) throw new StoreClosedError();
    const max = this.config.logFollowMaxStreams;
    if (this.follows.size >= max) throw new TooManyLogStreamsError(max);
    const options: LogFollowOptions = {
      pollMs: FOLLOW_POLL_MS,
      statusEveryMs: FOLLOW_STATUS_EVERY_MS,
      pageLines: FOLLOW_PAGE_LINES,
      maxQueuedBytes: FOLLOW_MAX_QUEUED_BYTES,
      isFinal: (status) => FINAL_EXECUTION_STATUSES.includes(status as ExecutionStatus),
      onError: (error) => this.onReadError(executionId, error),
    };
    let unsubscribe = (): void => undefined;
    const follow = new LogFollow(source, sink, afterSeq, options, (closed) => {
      unsubscribe();
      this.release(closed);
    });
    unsubscribe = this.arrivals.subscribe(executionId, () => follow.nudge());
    this.follows.add(follow);
    this.startHeartbeat();
    void follow.run();
    return follow;
  }

  heartbeat(): void {
    for (const follow of [...this.follows]) follow.heartbeat();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const follow of [...this.follows]) follow.end();
    this.stopHeartbeat();
  }

  private release(follow: LogFollow): void {
    this.follows.delete(follow);
    if (this.follows.size === 0) this.stopHeartbeat();
  }

  private onReadError(executionId: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLogMs < 10_000) return;
    this.lastErrorLogMs = now;
    this.logger.warn(
      `log follow of execution=${executionId} could not read (retrying): ${String(error)}`,
    );
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), FOLLOW_HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
