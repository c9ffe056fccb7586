import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Assignment, AssignmentState, Keyspace, PollResponse } from '@forest/protocol';
import {
  CoordinationStore,
  rangeAll,
  rangePages,
  StoreClosedError,
  Watch,
  WatchEvent,
} from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import { WorkerRegistry } from './worker-registry.service';

const RESTART_WATCH_MS = 1000;

export interface PollRequest {
  group: string;
  workerId: string;
  /** Only assignments changed after this revision return at once. */
  after: number;
  waitMs: number;
  max: number;
  /** Aborted when the worker hangs up. */
  signal?: AbortSignal;
}

interface Held {
  value: Assignment;
  modRevision: number;
}

/** A page of the initial load: the keys up to `lastKey` were read at `revision`. */
interface LoadedPage {
  lastKey: string | undefined;
  revision: number;
}

/**
 * Long-polling for assignments on any node.
 *
 * Every node mirrors `assignments/` in memory: loaded page by page, then kept by one watch
 * from the load's revision. A poll is answered from the mirror, so its cost is the
 * worker's new assignments, not a read of its whole inbox (at thousands of fires per
 * second a worker holds thousands of assignments: the fire lookahead writes them up to a
 * second before they are due, and the SDK keeps them until then). A watch event wakes the
 * polls of the worker it is for, so a poll answers within a watch hop of the dispatch.
 * While the mirror is not in sync (loading, or its watch restarting) polls read the store.
 *
 * Delivery is at least once: a poll returns assignments newer than `after` at once; one
 * that waited its full time returns every assignment the worker has not yet reported
 * running, so one lost response costs a wait, never the execution.
 */
@Injectable()
export class AssignmentInbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssignmentInbox.name);
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Inbox prefix (`assignments/{group}/{worker}/`) -> execution id -> assignment. */
  private readonly inboxes = new Map<string, Map<string, Held>>();
  /** The initial load's pages, to tell which replayed watch events it already holds. */
  private loaded: LoadedPage[] = [];
  private loadedRevision = 0;
  /** The revision the mirror reflects; undefined while it is not in sync. */
  private mirrorRevision: number | undefined;
  private generation = 0;
  private watch?: Watch;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly workers: WorkerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sync();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.restartTimer);
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    await this.watch?.cancel();
  }

  async poll(request: PollRequest): Promise<PollResponse> {
    const prefix = Keyspace.workerAssignments(request.group, request.workerId);
    const deadline = Date.now() + request.waitMs;
    await this.workers.require(request.group, request.workerId);
    let after = request.after;
    for (;;) {
      // Listen before reading, so an assignment written right after the read still wakes us.
      const woken = this.listen(prefix, deadline, request.signal);
      try {
        const { assignments, revision } =
          this.mirrorRevision !== undefined ? this.fromMirror(prefix) : await this.read(prefix);
        const fresh = assignments.filter((a) => a.modRevision > after);
        const timedOut = Date.now() >= deadline || this.stopped || request.signal?.aborted;
        if (fresh.length > 0 || timedOut) {
          return answer(fresh.length > 0 ? fresh : assignments, request.max, revision, after);
        }
        after = Math.max(after, revision);
        await woken.promise;
      } finally {
        woken.cancel();
      }
    }
  }

  /**
   * Whether the mirror holds `assignments/{group}/{workerId}/{executionId}`: undefined while
   * the mirror is not in sync. The mirror lags the store (by a watch hop), so `true` may
   * name an assignment deleted a moment ago and `false` one written a moment ago: read the
   * store before acting on an absence.
   */
  holds(group: string, workerId: string, executionId: string): boolean | undefined {
    if (this.mirrorRevision === undefined) return undefined;
    return this.inboxes.get(Keyspace.workerAssignments(group, workerId))?.has(executionId) ?? false;
  }

  /**
   * How many executions the worker holds, by state: from the mirror, or from the store
   * while the mirror is not in sync.
   */
  async load(group: string, workerId: string): Promise<Record<AssignmentState, number>> {
    const prefix = Keyspace.workerAssignments(group, workerId);
    const held =
      this.mirrorRevision !== undefined
        ? [...(this.inboxes.get(prefix)?.values() ?? [])].map((entry) => entry.value)
        : (await rangeAll(this.store, prefix)).map((kv) => JSON.parse(kv.value) as Assignment);
    const load = { assigned: 0, running: 0 };
    for (const assignment of held) load[assignment.state] += 1;
    return load;
  }

  private fromMirror(prefix: string) {
    const assignments: Held[] = [];
    for (const held of this.inboxes.get(prefix)?.values() ?? []) {
      if (held.value.state === 'assigned') assignments.push(held);
    }
    return { assignments, revision: this.mirrorRevision! };
  }

  private async read(prefix: string) {
    const page = await this.store.range(prefix, { limit: 1000 });
    const assignments = page.kvs
      .map((kv) => ({ value: JSON.parse(kv.value) as Assignment, modRevision: kv.modRevision }))
      .filter((a) => a.value.state === 'assigned');
    return { assignments, revision: page.revision };
  }

  /** Resolves when an assignment under `prefix` changes, at the deadline, or on abort. */
  private listen(prefix: string, deadline: number, signal?: AbortSignal) {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
    signal?.addEventListener('abort', wake, { once: true });
    let set = this.waiters.get(prefix);
    if (!set) this.waiters.set(prefix, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(prefix) === set) this.waiters.delete(prefix);
    };
    return { promise, cancel };
  }

  // ---- the mirror ----

  /** Loads `assignments/` and watches it from the load on; polls read the store until then. */
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
      this.loadedRevision = pages[0]?.revision ?? (await this.store.revision());
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
        { fromRevision: this.loadedRevision + 1 },
      );
      if (generation !== this.generation) return void watch.cancel();
      this.watch = watch;
      this.mirrorRevision = Math.max(
        this.mirrorRevision ?? 0,
        ...pages.map((page) => page.revision),
        watch.lastRevision,
      );
    } catch (error) {
      if (generation === this.generation) this.restart(error);
    }
  }

  private onEvents(events: WatchEvent[]): void {
    const lastLoaded = this.loaded.at(-1);
    for (const event of events) {
      // Replayed changes the load already saw (its page was read at or after them) are skipped.
      if (lastLoaded && event.revision <= this.loadedUpTo(event.kv.key)) continue;
      if (event.type === 'put') this.apply(event.kv.key, event.kv.value, event.kv.modRevision);
      else this.remove(event.kv.key);
    }
    const revision = events.at(-1)?.revision;
    if (revision !== undefined && this.mirrorRevision !== undefined) {
      this.mirrorRevision = Math.max(this.mirrorRevision, revision);
    }
    if (revision !== undefined && revision > this.maxLoadedRevision()) this.loaded = [];
    for (const event of events) {
      if (event.type !== 'put') continue;
      for (const wake of this.waiters.get(inboxOf(event.kv.key)) ?? []) wake();
    }
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

  private apply(key: string, value: string, modRevision: number): void {
    const prefix = inboxOf(key);
    let inbox = this.inboxes.get(prefix);
    if (!inbox) this.inboxes.set(prefix, (inbox = new Map<string, Held>()));
    inbox.set(key.slice(prefix.length), { value: JSON.parse(value) as Assignment, modRevision });
  }

  private remove(key: string): void {
    const prefix = inboxOf(key);
    const inbox = this.inboxes.get(prefix);
    inbox?.delete(key.slice(prefix.length));
    if (inbox?.size === 0) this.inboxes.delete(prefix);
  }

  private restart(error: unknown): void {
    if (this.stopped || error instanceof StoreClosedError) return;
    this.logger.warn(`assignment watch failed (${String(error)}); reloading`);
    this.generation++;
    this.mirrorRevision = undefined;
    // Polls waiting now would miss what lands meanwhile: let them re-read.
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.sync(), RESTART_WATCH_MS);
  }
}

function inboxOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/**
 * The poll's answer: oldest first, at most `max`. The revision tells the worker where to
 * go on from; when `max` cuts the list it stops before the first assignment left out, so
 * the next poll returns the rest at once (assignments one txn wrote share a revision: a
 * cut inside such a group repeats its first part, which the SDK ignores by execution id).
 */
function answer(due: Held[], max: number, revision: number, after: number): PollResponse {
  const sorted = [...due].sort((a, b) => a.modRevision - b.modRevision);
  if (sorted.length <= max) {
    return { assignments: sorted.map((a) => a.value), revision: Math.max(revision, after) };
  }
  return {
    assignments: sorted.slice(0, max).map((a) => a.value),
    revision: sorted[max].modRevision - 1,
  };
}
