import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { CoordinationStore, StoreClosedError } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { InjectStore } from '../store/store.tokens';
import { ClientFilter, EventClient, EventSink } from './event-client';
import { EventFeed } from './event-feed';
import { TooManyStreamsError } from './events.errors';
import { ExecutionSource, WorkerSource } from './feed-sources';
import { NodeSource } from './node-source';
import { StreamEvent, StreamType } from './stream-event';

/** A comment line this often keeps proxies and clients from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/**
 * Characters a client may have waiting for its connection before it is cut off with
 * `overflow`: a couple of thousand execution events, seconds of a busy cluster.
 */
export const MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * The node's event streams: one EventFeed per event type (each one shared watch, opened
 * while some client wants that type), the clients, the cap on concurrent streams and the
 * heartbeat. Stops every stream before the store closes.
 */
@Injectable()
export class EventHub implements OnModuleDestroy {
  private readonly feeds: Record<StreamType, EventFeed>;
  private readonly clients = new Set<EventClient>();
  /** Streams open or being opened: what the cap counts. */
  private streams = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @InjectStore() store: CoordinationStore,
    private readonly config: ForestConfig,
  ) {
    this.feeds = {
      execution: new EventFeed(new ExecutionSource(store)),
      node: new EventFeed(new NodeSource(store)),
      worker: new EventFeed(new WorkerSource(store)),
    };
  }

  /**
   * Opens a stream to `sink`: subscribes the client to the feeds of its types (opening
   * them if it is their first client) and sends the replay after `resumeAfter` or a
   * `reset`. Throws TooManyStreamsError at the cap, a store error when a feed cannot open.
   */
  async open(filter: ClientFilter, sink: EventSink, resumeAfter?: number): Promise<EventClient> {
    if (this.stopped) throw new StoreClosedError();
    if (this.streams >= this.config.eventsMaxStreams) {
      throw new TooManyStreamsError(this.config.eventsMaxStreams);
    }
    this.streams++;
    const client = new EventClient(sink, filter, MAX_QUEUED_BYTES, (closed) =>
      this.release(closed),
    );
    const joins = await Promise.allSettled(
      filter.types.map((type) => this.feeds[type].subscribe(client, resumeAfter)),
    );
    const failed = joins.find((join) => join.status === 'rejected');
    if (failed) {
      // The feeds it did join let it go; the caller answers with the error.
      client.disconnected();
      throw failed.reason;
    }
    const replay: StreamEvent[] = [];
    let reset = false;
    for (const join of joins) {
      if (join.status !== 'fulfilled') continue;
      replay.push(...join.value.replay);
      reset ||= join.value.reset;
    }
    replay.sort((a, b) => a.revision - b.revision);
    // It may have overflowed (and been released) while the feeds opened.
    if (client.isClosed) return client;
    this.clients.add(client);
    this.startHeartbeat();
    client.start(reset, replay);
    return client;
  }

  /** Streams open on this node. */
  get streamCount(): number {
    return this.streams;
  }

  /** The types whose shared watch is open (or opening): for tests and diagnostics. */
  openFeeds(): StreamType[] {
    return (Object.keys(this.feeds) as StreamType[]).filter((type) => this.feeds[type].isOpen);
  }

  /** Writes a heartbeat comment to every client. */
  heartbeat(): void {
    for (const client of [...this.clients]) client.heartbeat();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    for (const client of [...this.clients]) client.end();
    await Promise.all(Object.values(this.feeds).map((feed) => feed.stop()));
  }

  private release(client: EventClient): void {
    for (const type of client.filter.types) this.feeds[type].unsubscribe(client);
    this.clients.delete(client);
    this.streams--;
    if (this.clients.size === 0) this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
