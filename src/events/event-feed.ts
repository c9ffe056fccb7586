import { Logger } from '@nestjs/common';
import { StoreClosedError, StoreCompactedError } from '@forest/store';
import { StreamEvent, StreamType } from './stream-event';

/**
 * Where one type of stream event comes from: watches on the coordination store, turned
 * into stream events. Opened by an EventFeed when its first subscriber arrives.
 */
export interface FeedSource {
  readonly type: StreamType;
  /**
   * Opens the watches, from `fromRevision` on (store history) or from now, and calls `emit`
   * with the events of each store change in revision order. `fail` reports a watch that
   * cannot go on. Rejects with StoreCompactedError when `fromRevision` is no longer kept.
   */
  open(handlers: SourceHandlers, fromRevision?: number): Promise<OpenSource>;
}

export interface SourceHandlers {
  emit(events: StreamEvent[]): void;
  fail(error: Error): void;
}

export interface OpenSource {
  /** The first revision the source delivers every change from. */
  readonly coveredFrom: number;
  close(): Promise<void>;
}

/** A client of a feed (see EventClient). Called synchronously, in revision order. */
export interface FeedSubscriber {
  deliver(event: StreamEvent): void;
  /** The feed missed changes (its watch failed and was reopened): the client must reload. */
  reset(): void;
  /** The feed stopped for good (the node shuts down). */
  end(): void;
}

export interface JoinResult {
  /** Events after the resume point the feed already sent to others, oldest first. */
  replay: StreamEvent[];
  /** The resume point could not be honoured: the client must reload. */
  reset: boolean;
}

/** Events kept per feed for clients that reconnect while the feed is open. */
export const DEFAULT_REPLAY_EVENTS = 1000;
const REOPEN_DELAY_MS = 1000;

/**
 * One shared source for every client of the node: opened when the first client subscribes,
 * closed when the last leaves, so a node nobody watches pays nothing for a busy keyspace.
 * Each event is handed to every subscriber as it arrives; the last `replayEvents` are
 * kept so a client reconnecting with Last-Event-ID while the feed is open resumes from
 * them, and a client that opens the feed resumes from the store's own history.
 */
export class EventFeed {
  private readonly logger: Logger;
  private readonly subscribers = new Set<FeedSubscriber>();
  private opening?: Promise<OpenSource>;
  private source?: OpenSource;
  /** Bumped on every close, so an open that completes after it closes itself again. */
  private generation = 0;
  private ring: StreamEvent[] = [];
  /** Highest revision dropped from the ring (0: nothing dropped). */
  private droppedUpTo = 0;
  private reopenTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly sourceOf: FeedSource,
    private readonly replayEvents = DEFAULT_REPLAY_EVENTS,
  ) {
    this.logger = new Logger(`EventFeed(${sourceOf.type})`);
  }

  get type(): StreamType {
    return this.sourceOf.type;
  }

  /** Whether the feed's watches are open (or opening). */
  get isOpen(): boolean {
    return this.opening !== undefined || this.source !== undefined;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Adds a subscriber; `resumeAfter` is the last revision it saw (Last-Event-ID). Rejects
   * (and leaves the subscriber out) when the store cannot open the feed.
   */
  async subscribe(subscriber: FeedSubscriber, resumeAfter?: number): Promise<JoinResult> {
    if (this.stopped) throw new StoreClosedError();
    this.subscribers.add(subscriber);
    // Taken in the same tick as joining: older events are in this copy, newer ones arrive live.
    const replay =
      resumeAfter === undefined ? [] : this.ring.filter((event) => event.revision > resumeAfter);
    const droppedUpTo = this.droppedUpTo;
    try {
      if (this.opening === undefined && this.source === undefined) {
        return { replay: [], reset: await this.open(resumeAfter) };
      }
      const source = this.source ?? (await this.opening!);
      if (resumeAfter === undefined) return { replay: [], reset: false };
      const covered = source.coveredFrom <= resumeAfter + 1 && droppedUpTo <= resumeAfter;
      return covered ? { replay, reset: false } : { replay: [], reset: true };
    } catch (error) {
      this.unsubscribe(subscriber);
      throw error;
    }
  }

  unsubscribe(subscriber: FeedSubscriber): void {
    if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
    void this.close();
  }

  /** Ends every subscriber and closes the watches: the node shuts down. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const subscriber of [...this.subscribers]) subscriber.end();
    this.subscribers.clear();
    await this.close();
  }

  /** Opens the source (from the resume point when there is one); true: the point is gone. */
  private async open(resumeAfter: number | undefined): Promise<boolean> {
    const generation = this.generation;
    const opened = this.openSource(generation, resumeAfter);
    const opening = opened.then((result) => result.source);
    // Other subscribers wait on it; its failure is theirs and the opener's to handle.
    opening.catch(() => undefined);
    this.opening = opening;
    let result: { source: OpenSource; reset: boolean };
    try {
      result = await opened;
    } catch (error) {
      if (this.opening === opening) this.opening = undefined;
      throw error;
    }
    if (generation !== this.generation) {
      // Every subscriber left (or the node stopped) while it opened.
      await result.source.close();
      return result.reset;
    }
    this.opening = undefined;
    this.source = result.source;
    return result.reset;
  }

  private async openSource(
    generation: number,
    resumeAfter: number | undefined,
  ): Promise<{ source: OpenSource; reset: boolean }> {
    const handlers = this.handlers(generation);
    if (resumeAfter === undefined)
      return { source: await this.sourceOf.open(handlers), reset: false };
    try {
      return { source: await this.sourceOf.open(handlers, resumeAfter + 1), reset: false };
    } catch (error) {
      if (!(error instanceof StoreCompactedError)) throw error;
      // The store no longer has the resume point: start from now, the client reloads.
      return { source: await this.sourceOf.open(handlers), reset: true };
    }
  }

  private handlers(generation: number): SourceHandlers {
    return {
      emit: (events) => {
        if (generation === this.generation) this.emit(events);
      },
      fail: (error) => {
        if (generation === this.generation) this.restart(error);
      },
    };
  }

  private emit(events: StreamEvent[]): void {
    if (events.length === 0) return;
    this.ring.push(...events);
    if (this.ring.length > 2 * this.replayEvents) {
      // Trimmed in chunks: one copy per `replayEvents` events, not one shift per event.
      const dropped = this.ring.splice(0, this.ring.length - this.replayEvents);
      this.droppedUpTo = dropped[dropped.length - 1].revision;
    }
    // A subscriber may leave while it is handed an event (its queue overflowed).
    const subscribers = [...this.subscribers];
    for (const event of events) for (const subscriber of subscribers) subscriber.deliver(event);
  }

  /** The watch failed: clients missed changes, so they reload while the feed reopens. */
  private restart(error: Error): void {
    const subscribers = [...this.subscribers];
    void this.close();
    if (error instanceof StoreClosedError) {
      for (const subscriber of subscribers) subscriber.end();
      this.subscribers.clear();
      return;
    }
    this.logger.warn(`watch failed (${error.message}); clients reload, reopening`);
    for (const subscriber of subscribers) subscriber.reset();
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.stopped || this.subscribers.size === 0 || this.isOpen) return;
      this.open(undefined).catch((error: Error) => {
        this.logger.warn(`reopening failed (${error.message}); retrying`);
        this.scheduleReopen();
      });
    }, REOPEN_DELAY_MS);
    this.reopenTimer.unref();
  }

  private async close(): Promise<void> {
    this.generation++;
    clearTimeout(this.reopenTimer);
    const source = this.source;
    this.source = undefined;
    this.opening = undefined;
    this.ring = [];
    this.droppedUpTo = 0;
    await source?.close().catch((error: Error) => {
      this.logger.warn(`closing the watch failed: ${error.message}`);
    });
  }
}
