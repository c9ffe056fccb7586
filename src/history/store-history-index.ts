import { Logger } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore, KeyValue, rangePages, Watch, WatchEvent } from '@forest/store';
import { sortKeyTimeMs } from './history.port';
import { HistoryIndex, IndexedRecord } from './history-index';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Keeps a HistoryIndex of `history/` current: built by one paged scan (yielding to the
 * event loop between pages) the first time it is needed, then kept up to date by a
 * prefix watch from the scan's first revision, so later retention passes read nothing but
 * the watch's events. The scan's pages may be read at later revisions than the first; the
 * watch replays every change since the first page, in order, so each key ends as its
 * latest change left it.
 *
 * A watch that fails (its start revision was compacted, the store closed) drops the
 * index; the next `current()` builds it again.
 */
export class StoreHistoryIndex {
  private readonly logger = new Logger(StoreHistoryIndex.name);
  private readonly index = new HistoryIndex();
  private watch?: Watch;
  private building?: Promise<HistoryIndex>;
  private warm = false;
  private closed = false;

  constructor(private readonly store: CoordinationStore) {}

  /** The index, built first if it is not warm. */
  current(): Promise<HistoryIndex> {
    if (this.closed) return Promise.reject(new Error('history index is closed'));
    if (this.warm) return Promise.resolve(this.index);
    this.building ??= this.build().finally(() => (this.building = undefined));
    return this.building;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.warm = false;
    await this.building?.catch(() => undefined);
    await this.stopWatch();
    this.index.clear();
  }

  private async build(): Promise<HistoryIndex> {
    await this.stopWatch();
    this.index.clear();
    let fromRevision: number | undefined;
    for await (const page of rangePages(this.store, Keyspace.history)) {
      fromRevision ??= page.revision + 1;
      for (const kv of page.kvs) this.apply(kv);
      await yieldToEventLoop();
    }
    const watch = await this.store.watch(
      Keyspace.history,
      {
        onEvents: (events) => this.onEvents(events),
        onError: (error) => this.onWatchError(error),
      },
      { fromRevision },
    );
    if (this.closed) {
      await watch.cancel();
      throw new Error('history index is closed');
    }
    this.watch = watch;
    this.warm = true;
    return this.index;
  }

  private onEvents(events: WatchEvent[]): void {
    for (const event of events) {
      if (event.type === 'put') this.apply(event.kv);
      else this.index.delete(event.kv.key.slice(Keyspace.history.length));
    }
  }

  private onWatchError(error: Error): void {
    this.logger.warn(`history index watch ended (${String(error)}); rebuilt on the next pass`);
    this.warm = false;
    this.watch = undefined;
    this.index.clear();
  }

  private apply(kv: KeyValue): void {
    const sortKey = kv.key.slice(Keyspace.history.length);
    const entry = indexEntryOf(sortKey, kv);
    if (entry) this.index.set(sortKey, entry);
  }

  private async stopWatch(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.cancel();
  }
}

/** What the index keeps of a stored record; undefined for a key that is not a sort key. */
export function indexEntryOf(sortKey: string, kv: KeyValue): IndexedRecord | undefined {
  const keyTimeMs = sortKeyTimeMs(sortKey);
  const at = sortKey.lastIndexOf('~');
  if (!Number.isFinite(keyTimeMs) || at < 17) return undefined;
  return {
    jobId: sortKey.slice(16, at),
    bytes: Buffer.byteLength(kv.value),
    finishedMs: finishedMsOf(kv.value) ?? keyTimeMs,
    modRevision: kv.modRevision,
  };
}

function finishedMsOf(value: string): number | undefined {
  try {
    const finishedAt = (JSON.parse(value) as { finishedAt?: unknown }).finishedAt;
    const ms = typeof finishedAt === 'string' ? Date.parse(finishedAt) : NaN;
    return Number.isNaN(ms) ? undefined : ms;
  } catch {
    return undefined;
  }
}
