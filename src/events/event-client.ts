import { FeedSubscriber } from './event-feed';
import { SseSink } from '../http/sse-stream';
import {
  controlText,
  groupOf,
  HEARTBEAT_TEXT,
  sseText,
  StreamEvent,
  StreamType,
} from './stream-event';

/** Where a client's text goes: the HTTP response stream. */
/** Where a client's events are written: its SSE stream (see http/sse-stream.ts). */
export type EventSink = SseSink;

export interface ClientFilter {
  types: readonly StreamType[];
  group?: string;
  /** Only this job's executions (other types are not job-bound and pass). */
  jobId?: string;
  /** The groups the caller's token is limited to; undefined: every group. */
  scope?: readonly string[];
}

/**
 * One subscriber of GET /api/events: picks the events its filters and its token's groups
 * allow and writes them to its connection. What the connection has not taken yet is its
 * queue, bounded by `maxQueuedBytes`: a client that cannot keep up gets `overflow` and is
 * disconnected (it can reconnect and resume), so no slow reader grows the node's memory.
 */
export class EventClient implements FeedSubscriber {
  private started = false;
  /** Live events that arrive while the replay is assembled (see start). */
  private held: string[] = [];
  private heldBytes = 0;
  private closed = false;

  constructor(
    private readonly sink: EventSink,
    readonly filter: ClientFilter,
    private readonly maxQueuedBytes: number,
    private readonly onClosed: (client: EventClient) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  accepts(event: StreamEvent): boolean {
    const { types, group, jobId, scope } = this.filter;
    if (!types.includes(event.type)) return false;
    if (event.type === 'execution' && jobId !== undefined && event.data.jobId !== jobId) {
      return false;
    }
    const eventGroup = groupOf(event);
    if (eventGroup === undefined) return true;
    if (group !== undefined && eventGroup !== group) return false;
    return scope === undefined || scope.includes(eventGroup);
  }

  deliver(event: StreamEvent): void {
    if (!this.closed && this.accepts(event)) this.send(sseText(event));
  }

  /**
   * Sends what comes before the live events: `reset` when the resume point is gone, then
   * the replayed events (oldest first), then what arrived live meanwhile.
   */
  start(reset: boolean, replay: readonly StreamEvent[]): void {
    if (this.closed) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.started = true;
    if (reset) this.reset();
    for (const event of replay) this.deliver(event);
    for (const text of held) this.send(text);
  }

  reset(): void {
    this.send(
      controlText('reset', { reason: 'changes were missed: reload the state, then read on' }),
    );
  }

  heartbeat(): void {
    this.send(HEARTBEAT_TEXT);
  }

  /** Ends the stream from the node's side (shutdown). */
  end(): void {
    this.close(true);
  }

  /** The connection closed (the client left): nothing more to write. */
  disconnected(): void {
    this.close(false);
  }

  private send(text: string): void {
    if (this.closed) return;
    if (!this.started) {
      this.held.push(text);
      this.heldBytes += text.length;
      if (this.heldBytes > this.maxQueuedBytes) this.overflow();
      return;
    }
    if (this.sink.queuedBytes + text.length > this.maxQueuedBytes) return this.overflow();
    this.sink.write(text);
  }

  private overflow(): void {
    // Past the bound on purpose: one short line so the client knows why it was cut off.
    this.sink.write(
      controlText('overflow', {
        reason: 'this client fell too far behind; reconnect with Last-Event-ID to resume',
      }),
    );
    this.close(true);
  }

  private close(endSink: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    if (endSink) this.sink.end();
    this.onClosed(this);
  }
}
