import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Assignment, decodeAssignmentAt, Keyspace, parseAssignmentKey } from '@forest/protocol';
import { CoordinationStore, rangePages, StoreClosedError, Watch, WatchEvent } from '@forest/store';
import { Listeners } from '../common/listeners';
import { ThrottledWarnings } from '../plugins/plugin-call';
import { InjectStore } from '../store/store.tokens';

const RESTART_WATCH_MS = 1000;

/** An inbox entry as the mirror holds it. */
export interface HeldAssignment {
  value: Assignment;
  modRevision: number;
}

/** One applied change of `assignments/{group}/{workerId}/{executionId}`. */
export interface AssignmentChange {
  group: string;
  workerId: string;
  executionId: string;
  /** The entry after the change; undefined: deleted. */
  held?: HeldAssignment;
}

/** A page of the initial load: the keys up to `lastKey` were read at `revision`. */
interface LoadedPage {
  lastKey: string | undefined;
  revision: number;
}

/**
 * Every node's one copy of `assignments/` (the workers' inboxes), loaded page by page and
 * then kept by one watch from the load's revision. Each change is decoded once here and
 * shared: the AssignmentInbox answers long polls from it on every node, and the leader's
 * DispatchState follows it for the slots of its worker pool (before, each kept its own
 * watch, and the leader decoded every inbox change twice).
 *
 * While it is not in sync (loading, or its watch restarting after an error) `revision` is
 * undefined and readers go to the store; `onSyncLost` tells followers to start over, and
 * `synced()` resolves once it is back. A key or value that does not decode is skipped and
 * logged (throttled), as everywhere else a malformed record is.
 */
@Injectable()
export class AssignmentMirror implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssignmentMirror.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));
  /** `${group}/${workerId}` -> execution id -> entry. */
  private readonly inboxes = new Map<string, Map<string, HeldAssignment>>();
  private readonly changeListeners = new Listeners<[readonly AssignmentChange[]]>(
    'assignment changes',
    (message) => this.logger.error(message),
  );
  private readonly syncLostListeners = new Listeners<[]>('assignment sync lost', (message) =>
    this.logger.error(message),
  );
  private readonly syncedListeners = new Listeners<[]>('assignment synced', (message) =>
    this.logger.error(message),
  );
  private waitingForSync: (() => void)[] = [];
  /** The initial load's pages, to tell which replayed watch events it already holds. */
  private loaded: LoadedPage[] = [];
  private mirrorRevision: number | undefined;
  private generation = 0;
  private watch?: Watch;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sync();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.restartTimer);
    this.releaseSyncWaiters();
    await this.watch?.cancel();
  }

  /** The store revision the mirror reflects; undefined while it is not in sync. */
  get revision(): number | undefined {
    return this.mirrorRevision;
  }

  /** Resolves when the mirror is in sync (at once if it is), or when the node stops. */
  synced(): Promise<void> {
    if (this.mirrorRevision !== undefined || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waitingForSync.push(resolve));
  }

  /** One worker's inbox (execution id -> entry); undefined when it holds nothing. */
  inbox(group: string, workerId: string): ReadonlyMap<string, HeldAssignment> | undefined {
    return this.inboxes.get(inboxKey(group, workerId));
  }

  /** Every entry, for a follower that starts from the mirror's current state. */
  *entries(): Iterable<AssignmentChange> {
    for (const inbox of this.inboxes.values()) {
      for (const [executionId, held] of inbox) {
        yield { group: held.value.group, workerId: held.value.workerId, executionId, held };
      }
    }
  }

  /** The changes of each watch response, in order, after the mirror applied them. */
  onChange(listener: (changes: readonly AssignmentChange[]) => void): () => void {
    return this.changeListeners.add(listener);
  }

  /** The mirror is in sync again (after a load): what it holds is current. */
  onSynced(listener: () => void): () => void {
    return this.syncedListeners.add(listener);
  }

  /** The mirror went out of sync: what a follower built from it must be rebuilt. */
  onSyncLost(listener: () => void): () => void {
    return this.syncLostListeners.add(listener);
  }

  // ---- load and watch ----

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.mirrorRevision = undefined;
    const previous = this.watch;
    this.watch = undefined;
    await previous?.cancel().catch(() => undefined);
    try {
      this.inboxes.clear();
      const pages: LoadedPage[] = [];
      for await (const page of rangePages(this.store, Keyspace.assignments)) {
        if (generation !== this.generation) return;
        for (const kv of page.kvs) this.apply(kv.key, kv.value, kv.modRevision);
        pages.push({ lastKey: page.kvs.at(-1)?.key, revision: page.revision });
      }
      // The last page covers every key after the previous one.
      if (pages.length > 0) pages[pages.length - 1].lastKey = undefined;
      this.loaded = pages;
      const loadedRevision = pages[0]?.revision ?? (await this.store.revision());
      const watch = await this.store.watch(
        Keyspace.assignments,
        {
          onEvents: (events) => {
            if (generation === this.generation) this.onEvents(events);
          },
          onError: (error) => {
            if (generation === this.generation) this.restart(error);
          },
        },
        // From the first page's revision: later pages may already hold some of these changes.
        { fromRevision: loadedRevision + 1 },
      );
      if (generation !== this.generation) return void watch.cancel();
      this.watch = watch;
      this.mirrorRevision = Math.max(
        this.mirrorRevision ?? 0,
        ...pages.map((page) => page.revision),
        watch.lastRevision,
      );
      this.releaseSyncWaiters();
      this.syncedListeners.emit();
    } catch (error) {
      if (generation === this.generation) this.restart(error);
    }
  }

  private onEvents(events: WatchEvent[]): void {
    const lastLoaded = this.loaded.at(-1);
    const changes: AssignmentChange[] = [];
    for (const event of events) {
      // Replayed changes the load already saw (its page was read at or after them) are skipped.
      if (lastLoaded && event.revision <= this.loadedUpTo(event.kv.key)) continue;
      const change =
        event.type === 'put'
          ? this.apply(event.kv.key, event.kv.value, event.kv.modRevision)
          : this.remove(event.kv.key);
      if (change) changes.push(change);
    }
    const revision = events.at(-1)?.revision;
    if (revision !== undefined && this.mirrorRevision !== undefined) {
      this.mirrorRevision = Math.max(this.mirrorRevision, revision);
    }
    if (revision !== undefined && revision > this.maxLoadedRevision()) this.loaded = [];
    if (changes.length > 0 && this.mirrorRevision !== undefined) this.changeListeners.emit(changes);
  }

  /** The revision the load read `key` at: pages are in key order, each up to its last key. */
  private loadedUpTo(key: string): number {
    let low = 0;
    let high = this.loaded.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      const last = this.loaded[mid].lastKey;
      if (last !== undefined && last < key) low = mid + 1;
      else high = mid;
    }
    return this.loaded[low]?.revision ?? 0;
  }

  private maxLoadedRevision(): number {
    return this.loaded.reduce((max, page) => Math.max(max, page.revision), 0);
  }

  private apply(key: string, text: string, modRevision: number): AssignmentChange | undefined {
    const parts = parseAssignmentKey(key);
    if (!parts) return this.skip(key, 'malformed key');
    let value: Assignment;
    try {
      value = decodeAssignmentAt(parts, key, text);
    } catch (error) {
      return this.reject(key, error instanceof Error ? error.message : String(error));
    }
    const { group, workerId, executionId } = parts;
    const id = inboxKey(group, workerId);
    let inbox = this.inboxes.get(id);
    if (!inbox) this.inboxes.set(id, (inbox = new Map<string, HeldAssignment>()));
    const held = { value, modRevision };
    inbox.set(executionId, held);
    return { group, workerId, executionId, held };
  }

  /**
   * A well-formed key whose value is not a valid entry: skipped, and an entry the mirror
   * held for that key goes (the store no longer has it), told to followers as a delete.
   */
  private reject(key: string, problem: string): AssignmentChange | undefined {
    this.skip(key, problem);
    const parts = parseAssignmentKey(key)!;
    const held = this.inboxes.get(inboxKey(parts.group, parts.workerId))?.has(parts.executionId);
    return held ? this.remove(key) : undefined;
  }

  private remove(key: string): AssignmentChange | undefined {
    const parts = parseAssignmentKey(key);
    if (!parts) return undefined;
    const { group, workerId, executionId } = parts;
    const id = inboxKey(group, workerId);
    const inbox = this.inboxes.get(id);
    inbox?.delete(executionId);
    if (inbox?.size === 0) this.inboxes.delete(id);
    return { group, workerId, executionId };
  }

  private restart(error: unknown): void {
    if (this.stopped || error instanceof StoreClosedError) return;
    this.logger.warn(`assignment watch failed (${String(error)}); reloading`);
    this.generation++;
    this.mirrorRevision = undefined;
    this.syncLostListeners.emit();
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.sync(), RESTART_WATCH_MS);
  }

  private releaseSyncWaiters(): void {
    const waiting = this.waitingForSync;
    this.waitingForSync = [];
    for (const resolve of waiting) resolve();
  }

  /** One throttled line: a flood of bad keys cannot flood the log. */
  private skip(key: string, problem: string): undefined {
    this.warnings.warnOnce('skip', `assignment mirror ignores ${key}: ${problem}`);
    return undefined;
  }
}

function inboxKey(group: string, workerId: string): string {
  return `${group}/${workerId}`;
}
