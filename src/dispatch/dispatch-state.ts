import { Injectable, Logger } from '@nestjs/common';
import {
  Assignment,
  decodePendingEntry,
  decodeWorkerAt,
  Keyspace,
  parsePendingKey,
  parseWorkerKey,
  PendingEntry,
  WorkerRecord,
} from '@forest/protocol';
import { CoordinationStore, KeyValue, rangeAll, Watch, WatchEvent } from '@forest/store';
import { AssignmentChange, AssignmentMirror } from '../assignments/assignment-mirror';
import { LeadershipService } from '../election/leadership.service';
import { ThrottledWarnings } from '../plugins/plugin-call';
import { InjectStore } from '../store/store.tokens';
import { Listeners } from '../common/listeners';
import { SlotState, WorkerPool } from './worker-pool';

/** How long a failed load waits before it is tried again. */
const LOAD_RETRY_MS = 1000;

/** An execution waiting in `pending/`, and what the drain knows about it. */
export interface PendingItem {
  entry: PendingEntry;
  group: string;
  modRevision: number;
  /** A dispatch txn for it is in flight. */
  busy: boolean;
  /** Its strategy declined it: not offered again before this time (epoch ms). */
  declinedUntil?: number;
  /** Why it still waits, as its strategy last said. */
  reason?: string;
  /** A no_worker event was sent for it. */
  reported?: boolean;
}

/** A worker whose key went away (lease expired, or it left), with what it held. */
export interface GoneWorker {
  group: string;
  workerId: string;
  /** Its record as the pool knew it; undefined when the pool never knew it. */
  record?: WorkerRecord;
  /** Execution id -> slot: what it held when it went. */
  inbox: Map<string, SlotState>;
  /** It asked to leave first: its disappearance is a goodbye, not a loss. */
  left: boolean;
}

/**
 * The leader's watched view of dispatch: live workers and their inboxes (the WorkerPool,
 * from `workers/` and `assignments/`) and the executions waiting per group (`pending/`).
 * `start()` loads `workers/` and `pending/` and watches them from the load revision; the
 * inboxes come from the node's AssignmentMirror (its current entries, then its changes),
 * which every node keeps for the workers' long polls, so the leader does not watch and
 * decode `assignments/` a second time. Each start or stop begins a new generation, and
 * events of an older one are ignored. A watch that ends, or the mirror losing its sync,
 * reloads. A malformed key or an undecodable value is logged (throttled) and skipped.
 *
 * It only keeps state and says what changed; the drain, the recovery and the sweeps
 * subscribe through the `on*` methods (each returns its unsubscribe function).
 */
@Injectable()
export class DispatchState {
  private readonly logger = new Logger(DispatchState.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));
  readonly pool = new WorkerPool();
  private readonly pending = new Map<string, Map<string, PendingItem>>();
  /** Workers, by group/id, that said goodbye: their disappearance is not a loss. */
  private readonly leaving = new Set<string>();
  private watches: Watch[] = [];
  private currentGeneration = 0;
  private loaded = false;
  /** Mirrored assignment changes are applied (from a start's snapshot until a reset). */
  private followingAssignments = false;
  private retryTimer?: NodeJS.Timeout;

  private readonly failed = (message: string) => this.logger.error(message);
  private readonly loadedListeners = new Listeners<[]>('loaded', this.failed);
  private readonly resetListeners = new Listeners<[]>('reset', this.failed);
  private readonly workerPutListeners = new Listeners<[WorkerRecord, boolean]>(
    'worker put',
    this.failed,
  );
  private readonly workerGoneListeners = new Listeners<[GoneWorker]>('worker gone', this.failed);
  private readonly assignmentListeners = new Listeners<
    [string, string, string, Assignment | undefined]
  >('assignment change', this.failed);
  private readonly slotFreedListeners = new Listeners<[string, string, string]>(
    'slot freed',
    this.failed,
  );
  private readonly pendingListeners = new Listeners<[PendingItem]>('pending added', this.failed);

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly assignments: AssignmentMirror,
  ) {
    assignments.onChange((changes) => {
      if (!this.followingAssignments) return;
      for (const change of changes) this.applyAssignment(change);
    });
    assignments.onSyncLost(() => {
      if (!this.followingAssignments) return;
      this.logger.warn('the assignment mirror lost its watch; reloading');
      this.reload();
    });
  }

  /** Changes on every start and stop: work begun under an older generation is stale. */
  get generation(): number {
    return this.currentGeneration;
  }

  /** Loaded and watching (on the leader only). */
  get ready(): boolean {
    return this.loaded;
  }

  // ---- listeners ----

  /** The state is loaded and watched (after every successful start, reloads included). */
  onLoaded(listener: () => void): () => void {
    return this.loadedListeners.add(listener);
  }

  /** The state was cleared: stopped (demoted, shut down) or a load failed. */
  onReset(listener: () => void): () => void {
    return this.resetListeners.add(listener);
  }

  /** A worker's record was put: `joined` when the pool did not know it before. */
  onWorkerPut(listener: (worker: WorkerRecord, joined: boolean) => void): () => void {
    return this.workerPutListeners.add(listener);
  }

  /** A worker's key was deleted; it is out of the pool, its inbox is handed over. */
  onWorkerGone(listener: (gone: GoneWorker) => void): () => void {
    return this.workerGoneListeners.add(listener);
  }

  /** An assignment was put (`assignment` set) or deleted (undefined), loads included. */
  onAssignmentChange(
    listener: (
      group: string,
      workerId: string,
      executionId: string,
      assignment: Assignment | undefined,
    ) => void,
  ): () => void {
    return this.assignmentListeners.add(listener);
  }

  /** An assignment was deleted: its worker (if still live) has a slot free. */
  onSlotFreed(
    listener: (group: string, workerId: string, executionId: string) => void,
  ): () => void {
    return this.slotFreedListeners.add(listener);
  }

  /** A pending entry was put (a new waiting execution, or one written again). */
  onPendingAdded(listener: (item: PendingItem) => void): () => void {
    return this.pendingListeners.add(listener);
  }

  // ---- what the state holds ----

  pendingGroups(): string[] {
    return [...this.pending.keys()];
  }

  pendingOf(group: string): Iterable<PendingItem> {
    return this.pending.get(group)?.values() ?? [];
  }

  /** Drops an entry the drain has just deleted from the store. */
  forgetPending(group: string, executionId: string): void {
    this.pending.get(group)?.delete(executionId);
  }

  /** Puts back a worker read directly (it had not reached the watch), holding `executionIds`. */
  restoreWorker(kv: KeyValue, executionIds: string[]): void {
    const record = this.applyWorkerPut(kv);
    if (!record) return;
    for (const id of executionIds) this.pool.setSlot(record.group, record.id, id, 'assigned');
  }

  // ---- lifecycle: load, watch, reload, stop ----

  /** Loads and watches; a failure resets the state and retries while this node leads. */
  async start(): Promise<void> {
    const generation = ++this.currentGeneration;
    await this.cancelWatches();
    // Until this start's snapshot of the mirror: it will hold every change until then.
    this.followingAssignments = false;
    // A reload (after a watch ended) starts from nothing: what was deleted while no watch
    // ran must not linger (a gone worker would be offered work nobody picks up). That holds
    // for a start cut short too (the mirror lost its watch mid-load): whatever it had
    // applied is cleared; listeners hear of it only if they had seen a loaded state.
    if (this.loaded) this.reset();
    else this.clear();
    try {
      // Workers first: assignments of workers not yet loaded would look orphaned.
      const workers = await this.load(Keyspace.workers, generation, (kv) =>
        this.applyWorkerPut(kv),
      );
      await this.assignments.synced();
      if (generation !== this.currentGeneration) return;
      if (this.assignments.revision === undefined) throw new Error('assignment mirror not in sync');
      // The mirror's entries now, then each change after them (no await in between).
      for (const entry of this.assignments.entries()) this.applyAssignment(entry);
      this.followingAssignments = true;
      const pending = await this.load(Keyspace.pending, generation, (kv) =>
        this.applyPendingPut(kv),
      );
      if (generation !== this.currentGeneration) return;
      const watches = await Promise.all([
        this.watch(Keyspace.workers, workers, generation, (e) => this.onWorkerEvent(e)),
        this.watch(Keyspace.pending, pending, generation, (e) => this.onPendingEvent(e)),
      ]);
      if (generation !== this.currentGeneration) {
        await Promise.allSettled(watches.map((watch) => watch.cancel()));
        return;
      }
      this.watches = watches;
      this.loaded = true;
      this.logger.log(
        `dispatching: ${this.pool.groupsWithWorkers().length} group(s) with workers, ` +
          `${[...this.pending.values()].reduce((n, m) => n + m.size, 0)} pending execution(s)`,
      );
      this.loadedListeners.emit();
    } catch (error) {
      if (generation !== this.currentGeneration) return;
      this.logger.warn(`dispatcher could not load (${String(error)}); retrying`);
      this.reset();
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (generation === this.currentGeneration && this.leadership.isLeader) this.reload();
      }, LOAD_RETRY_MS);
    }
  }

  async stop(): Promise<void> {
    this.currentGeneration++;
    clearTimeout(this.retryTimer);
    this.reset();
    await this.cancelWatches();
  }

  /** start() in the background; it handles its own failures, this only guards the promise. */
  private reload(): void {
    this.start().catch((error: unknown) =>
      this.logger.error(`dispatcher reload failed (${String(error)})`),
    );
  }

  private reset(): void {
    this.clear();
    this.resetListeners.emit();
  }

  private clear(): void {
    this.loaded = false;
    this.followingAssignments = false;
    this.pool.clear();
    this.pending.clear();
    this.leaving.clear();
  }

  /** Reads a prefix and applies it, unless a newer start or a stop came meanwhile. */
  private async load(
    prefix: string,
    generation: number,
    apply: (kv: KeyValue) => void,
  ): Promise<number> {
    const first = await this.store.range(prefix, { limit: 1 });
    const kvs = await rangeAll(this.store, prefix);
    if (generation === this.currentGeneration) for (const kv of kvs) apply(kv);
    return first.revision;
  }

  private watch(
    prefix: string,
    fromRevision: number,
    generation: number,
    onEvent: (event: WatchEvent) => void,
  ): Promise<Watch> {
    return this.store.watch(
      prefix,
      {
        onEvents: (events) => {
          if (generation !== this.currentGeneration) return;
          for (const event of events) onEvent(event);
        },
        onError: (error) => {
          if (generation !== this.currentGeneration) return;
          this.logger.warn(`dispatch watch on ${prefix} ended (${error.message}); reloading`);
          this.reload();
        },
      },
      { fromRevision: fromRevision + 1 },
    );
  }

  private async cancelWatches(): Promise<void> {
    const watches = this.watches.splice(0);
    await Promise.allSettled(watches.map((watch) => watch.cancel()));
  }

  // ---- applying keys ----

  private onWorkerEvent(event: WatchEvent): void {
    if (event.type === 'put') return void this.applyWorkerPut(event.kv);
    const parts = parseWorkerKey(event.kv.key);
    if (!parts) return this.skip(Keyspace.workers, event.kv.key, 'malformed key');
    const { group, workerId } = parts;
    const worker = this.pool.removeWorker(group, workerId);
    const left = this.leaving.delete(`${group}/${workerId}`);
    this.workerGoneListeners.emit({
      group,
      workerId,
      record: worker?.record,
      inbox: worker?.inbox ?? new Map<string, SlotState>(),
      left,
    });
  }

  private applyWorkerPut(kv: KeyValue): WorkerRecord | undefined {
    const parts = parseWorkerKey(kv.key);
    if (!parts) return void this.skip(Keyspace.workers, kv.key, 'malformed key');
    const record = this.decode(Keyspace.workers, kv, (key, text) =>
      decodeWorkerAt(parts, key, text),
    );
    if (!record) return undefined;
    if (record.leavingAt) this.leaving.add(`${record.group}/${record.id}`);
    const joined = !this.pool.get(record.group, record.id);
    this.pool.upsertWorker(record);
    this.workerPutListeners.emit(record, joined);
    return record;
  }

  private applyAssignment({ group, workerId, executionId, held }: AssignmentChange): void {
    if (held) {
      this.pool.setSlot(group, workerId, executionId, held.value.state);
      this.assignmentListeners.emit(group, workerId, executionId, held.value);
      return;
    }
    this.pool.deleteSlot(group, workerId, executionId);
    this.assignmentListeners.emit(group, workerId, executionId, undefined);
    this.slotFreedListeners.emit(group, workerId, executionId);
  }

  private onPendingEvent(event: WatchEvent): void {
    if (event.type === 'put') return this.applyPendingPut(event.kv);
    const parts = parsePendingKey(event.kv.key);
    if (!parts) return this.skip(Keyspace.pending, event.kv.key, 'malformed key');
    this.pending.get(parts.group)?.delete(parts.executionId);
  }

  private applyPendingPut(kv: KeyValue): void {
    const parts = parsePendingKey(kv.key);
    if (!parts) return this.skip(Keyspace.pending, kv.key, 'malformed key');
    const entry = this.decode(Keyspace.pending, kv, decodePendingEntry);
    if (!entry) return;
    const { group, executionId } = parts;
    if (entry.executionId !== executionId) {
      return this.skip(Keyspace.pending, kv.key, `names execution ${entry.executionId}`);
    }
    let items = this.pending.get(group);
    if (!items) this.pending.set(group, (items = new Map<string, PendingItem>()));
    const item: PendingItem = {
      entry,
      group,
      modRevision: kv.modRevision,
      busy: items.get(executionId)?.busy ?? false,
    };
    items.set(executionId, item);
    this.pendingListeners.emit(item);
  }

  private decode<T>(
    prefix: string,
    kv: KeyValue,
    decoder: (key: string, text: string) => T,
  ): T | undefined {
    try {
      return decoder(kv.key, kv.value);
    } catch (error) {
      return void this.skip(prefix, kv.key, error instanceof Error ? error.message : String(error));
    }
  }

  /** One throttled line per prefix: a flood of bad keys cannot flood the log. */
  private skip(prefix: string, key: string, problem: string): void {
    this.warnings.warnOnce(`skip:${prefix}`, `dispatch ignores ${key}: ${problem}`);
  }
}
