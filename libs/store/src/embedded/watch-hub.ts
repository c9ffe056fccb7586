import { StoreCompactedError } from '../store.errors';
import { Watch, WatchEvent, WatchHandlers } from '../store.port';
import { RevisionEvents } from './keyspace';

export interface HubLogger {
  warn(message: string): void;
}

/**
 * Event history and the watches fed from it.
 *
 * Only durable revisions enter the hub (the store publishes a batch after its fsync), so a
 * watcher never sees a change a crash could take back. The hub keeps the last `capacity`
 * revisions; a watch may start anywhere from `retainedFrom` on, which is what etcd calls the
 * compact revision.
 */
export class WatchHub {
  private history: RevisionEvents[] = [];
  /** Index of the oldest retained entry in `history` (trimmed lazily). */
  private head = 0;
  private readonly watches = new Set<EmbeddedWatch>();

  /**
   * @param retainedFrom the oldest revision whose changes are all in the history (1 for a
   *   store replayed from its very first write; the snapshot revision + 1 after a restart).
   * @param latestRevision the last durable revision.
   */
  constructor(
    private readonly capacity: number,
    private retainedFrom: number,
    private latestRevision: number,
    private readonly logger: HubLogger,
  ) {}

  /** The oldest revision a watch can start from. */
  get compactRevision(): number {
    return this.retainedFrom;
  }

  /** Records a durable revision and hands it to every watch. */
  publish(entry: RevisionEvents): void {
    this.history.push(entry);
    this.latestRevision = entry.revision;
    if (this.history.length - this.head > this.capacity) {
      this.head++;
      this.retainedFrom = this.history[this.head].revision;
      // Drop the dead front in one go now and then, instead of an O(n) shift per write.
      if (this.head >= 1024 && this.head * 2 >= this.history.length) {
        this.history = this.history.slice(this.head);
        this.head = 0;
      }
    }
    for (const watch of this.watches) watch.offer(entry);
  }

  /**
   * Starts a watch: replays retained history from `fromRevision` (absent or <= 0: from now),
   * then live revisions. Throws StoreCompactedError when that history is gone.
   */
  open(prefix: string, handlers: WatchHandlers, fromRevision: number | undefined): Watch {
    const live = fromRevision === undefined || fromRevision <= 0;
    if (!live && fromRevision < this.retainedFrom) {
      throw new StoreCompactedError(fromRevision, this.retainedFrom);
    }
    const startAfter = live ? this.latestRevision : fromRevision - 1;
    const watch = new EmbeddedWatch(prefix, handlers, startAfter, this.logger, (closed) =>
      this.watches.delete(closed),
    );
    if (!live) {
      for (let i = this.firstIndexFrom(fromRevision); i < this.history.length; i++) {
        watch.offer(this.history[i]);
      }
    }
    this.watches.add(watch);
    return watch;
  }

  /** Ends every watch with `error` (store closed or failed). */
  failAll(error: Error): void {
    for (const watch of [...this.watches]) watch.fail(error);
    this.watches.clear();
  }

  private firstIndexFrom(revision: number): number {
    let low = this.head;
    let high = this.history.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.history[middle].revision < revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * One watch: filters revisions by prefix into its own queue and delivers them from a
 * setImmediate callback, so a handler never runs inside a write call or inside watch().
 */
class EmbeddedWatch implements Watch {
  private delivered: number;
  /** Highest revision offered so far: an offer at or below it is a duplicate. */
  private offered: number;
  private queue: WatchEvent[][] = [];
  private scheduled = false;
  private done = false;

  constructor(
    private readonly prefix: string,
    private readonly handlers: WatchHandlers,
    startAfter: number,
    private readonly logger: HubLogger,
    private readonly onClosed: (watch: EmbeddedWatch) => void,
  ) {
    this.delivered = startAfter;
    this.offered = startAfter;
  }

  get lastRevision(): number {
    return this.delivered;
  }

  offer(entry: RevisionEvents): void {
    if (this.done || entry.revision <= this.offered) return;
    this.offered = entry.revision;
    const events = entry.events.filter((event) => event.kv.key.startsWith(this.prefix));
    if (events.length === 0) return;
    this.queue.push(events);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  cancel(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  fail(error: Error): void {
    if (this.done) return;
    this.close();
    try {
      this.handlers.onError?.(error);
    } catch (handlerError) {
      this.logger.warn(`watch error handler for "${this.prefix}" threw: ${String(handlerError)}`);
    }
  }

  private close(): void {
    this.done = true;
    this.queue = [];
    this.onClosed(this);
  }

  private deliver(): void {
    this.scheduled = false;
    while (!this.done && this.queue.length > 0) {
      const events = this.queue.shift()!;
      this.delivered = events[0].revision;
      try {
        // Copies: stored key-values are shared with the store's state and must not change.
        this.handlers.onEvents(events.map(copyEvent));
      } catch (error) {
        this.logger.warn(`watch handler for "${this.prefix}" threw: ${String(error)}`);
      }
    }
  }
}

function copyEvent(event: WatchEvent): WatchEvent {
  const copy: WatchEvent = { type: event.type, kv: { ...event.kv }, revision: event.revision };
  if (event.prevKv) copy.prevKv = { ...event.prevKv };
  return copy;
}
