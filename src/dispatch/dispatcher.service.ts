import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  Assignment,
  ExecutionRecord,
  executionKeyOf,
  Keyspace,
  PendingEntry,
  WorkerRecord,
} from '@forest/protocol';
import {
  Compare,
  CoordinationStore,
  getMany,
  KeyValue,
  rangeAll,
  TxnOp,
  Watch,
  WatchEvent,
} from '@forest/store';
import { Subscription } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { LeadershipService } from '../election/leadership.service';
import { assignmentOf, isFinal, pendingEntry, transition } from '../execution/execution-record';
import { FirePlacement, FiringJob } from '../planner/fire-writer';
import { InjectStore } from '../store/store.tokens';
import { RoundRobin } from './round-robin';
import { SlotState, WorkerPool } from './worker-pool';

/** Executions per dispatch txn: 2 compares and 3 writes each, under etcd's 128 ops. */
const BATCH = 40;
const RETRY_MS = 200;

interface PendingItem {
  entry: PendingEntry;
  group: string;
  modRevision: number;
  /** A dispatch txn for it is in flight. */
  busy: boolean;
}

/**
 * Dispatch, on the leader: which worker runs each execution.
 *
 * - Fires: the planner asks `place()` while it builds a fire txn; a live worker of the
 *   job's group that declared its target and has a free slot gets it (round robin), and
 *   the fire txn writes the assignment itself.
 * - `pending/` (fires nobody could take, manual triggers, work moved off dead workers): a
 *   drain per group assigns them in fenced, batched txns whenever a worker joins or a slot
 *   frees up.
 * - Dead workers (lease expired, or left): their unstarted assignments go back to
 *   `pending/` (and on to another worker), their running ones become `lost`.
 *
 * Slots are reserved in memory when a dispatch is decided, so no worker ever holds more
 * assigned + running executions than its capacity.
 */
@Injectable()
export class Dispatcher implements FirePlacement, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Dispatcher.name);
  private readonly pool = new WorkerPool();
  private readonly strategy = new RoundRobin();
  private readonly pending = new Map<string, Map<string, PendingItem>>();
  private readonly drainQueued = new Set<string>();
  private readonly draining = new Set<string>();
  private watches: Watch[] = [];
  private subscription?: Subscription;
  private generation = 0;
  private ready = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
  ) {}

  onModuleInit(): void {
    this.subscription = this.leadership.events$.subscribe((event) => {
      if (event.type === 'elected') void this.start();
      else void this.stop();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.stop();
  }

  /** Live workers and their load as the leader sees them (empty on followers). */
  get isReady(): boolean {
    return this.ready;
  }

  place(job: FiringJob, executionId: string): string | undefined {
    if (!this.ready) return undefined;
    const worker = this.strategy.choose(job.group, this.pool.candidates(job.group, job.target));
    if (!worker) return undefined;
    worker.inbox.set(executionId, 'reserved');
    return worker.record.id;
  }

  release(group: string, workerId: string, executionId: string): void {
    this.pool.release(group, workerId, executionId);
    this.scheduleDrain(group);
  }

  // ---- lifecycle: load on election, watch, stop on demotion ----

  private async start(): Promise<void> {
    const generation = ++this.generation;
    await this.cancelWatches();
    try {
      // Workers first: assignments of workers not yet loaded would look orphaned.
      const workers = await this.load(Keyspace.workers, (kv) => this.onWorkerPut(kv));
      const assignments = await this.load(Keyspace.assignments, (kv) => this.onAssignmentPut(kv));
      const pending = await this.load(Keyspace.pending, (kv) => this.onPendingPut(kv));
      if (generation !== this.generation) return;
      this.watches = await Promise.all([
        this.watch(Keyspace.workers, workers, generation, (e) => this.onWorkerEvent(e)),
        this.watch(Keyspace.assignments, assignments, generation, (e) => this.onAssignmentEvent(e)),
        this.watch(Keyspace.pending, pending, generation, (e) => this.onPendingEvent(e)),
      ]);
      if (generation !== this.generation) return void this.cancelWatches();
      this.ready = true;
      this.logger.log(
        `dispatching: ${this.pool.groupsWithWorkers().length} group(s) with workers, ` +
          `${[...this.pending.values()].reduce((n, m) => n + m.size, 0)} pending execution(s)`,
      );
      this.recoverOrphans();
      for (const group of this.pending.keys()) this.scheduleDrain(group);
    } catch (error) {
      if (generation !== this.generation) return;
      this.logger.warn(`dispatcher could not load (${String(error)}); retrying`);
      this.reset();
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (generation === this.generation && this.leadership.isLeader) void this.start();
      }, 1000);
    }
  }

  private async stop(): Promise<void> {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.reset();
    await this.cancelWatches();
  }

  private reset(): void {
    this.ready = false;
    this.pool.clear();
    this.pending.clear();
  }

  private async load(prefix: string, apply: (kv: KeyValue) => void): Promise<number> {
    const first = await this.store.range(prefix, { limit: 1 });
    for (const kv of await rangeAll(this.store, prefix)) apply(kv);
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
          if (generation !== this.generation) return;
          for (const event of events) onEvent(event);
        },
        onError: (error) => {
          if (generation !== this.generation) return;
          this.logger.warn(`dispatch watch on ${prefix} ended (${error.message}); reloading`);
          void this.start();
        },
      },
      { fromRevision: fromRevision + 1 },
    );
  }

  private async cancelWatches(): Promise<void> {
    const watches = this.watches.splice(0);
    await Promise.allSettled(watches.map((watch) => watch.cancel()));
  }

  // ---- watch events ----

  private onWorkerPut(kv: KeyValue): void {
    const record = JSON.parse(kv.value) as WorkerRecord;
    this.pool.upsertWorker(record);
    this.scheduleDrain(record.group);
  }

  private onWorkerEvent(event: WatchEvent): void {
    if (event.type === 'put') return this.onWorkerPut(event.kv);
    const [group, workerId] = event.kv.key.slice(Keyspace.workers.length).split('/');
    const inbox = this.pool.removeWorker(group, workerId);
    this.logger.warn(
      `worker ${workerId} of group ${group} is gone; recovering ${inbox.size} execution(s)`,
    );
    void this.recover(group, workerId, [...inbox.keys()]);
  }

  private onAssignmentPut(kv: KeyValue): void {
    const [group, workerId, executionId] = kv.key.slice(Keyspace.assignments.length).split('/');
    const state = (JSON.parse(kv.value) as Assignment).state;
    const known = this.pool.setSlot(group, workerId, executionId, state);
    if (!known && this.ready) this.recoverOrphansSoon();
  }

  private onAssignmentEvent(event: WatchEvent): void {
    if (event.type === 'put') return this.onAssignmentPut(event.kv);
    const [group, workerId, executionId] = event.kv.key
      .slice(Keyspace.assignments.length)
      .split('/');
    this.pool.deleteSlot(group, workerId, executionId);
    this.scheduleDrain(group); // a slot freed up
  }

  private onPendingPut(kv: KeyValue): void {
    const [group, executionId] = kv.key.slice(Keyspace.pending.length).split('/');
    let items = this.pending.get(group);
    if (!items) this.pending.set(group, (items = new Map<string, PendingItem>()));
    const entry = JSON.parse(kv.value) as PendingEntry;
    const current = items.get(executionId);
    items.set(executionId, {
      entry,
      group,
      modRevision: kv.modRevision,
      busy: current?.busy ?? false,
    });
    this.scheduleDrain(group);
  }

  private onPendingEvent(event: WatchEvent): void {
    if (event.type === 'put') return this.onPendingPut(event.kv);
    const [group, executionId] = event.kv.key.slice(Keyspace.pending.length).split('/');
    this.pending.get(group)?.delete(executionId);
  }

  // ---- pending -> assigned ----

  private scheduleDrain(group: string): void {
    if (!this.ready || this.drainQueued.has(group)) return;
    this.drainQueued.add(group);
    setImmediate(() => {
      this.drainQueued.delete(group);
      void this.drain(group);
    });
  }

  private async drain(group: string): Promise<void> {
    if (!this.ready || this.draining.has(group)) return;
    this.draining.add(group);
    const generation = this.generation;
    let again = false;
    try {
      for (;;) {
        const batch: { item: PendingItem; workerId: string }[] = [];
        // Targets no worker has a slot for in this pass: their items are skipped without a
        // look at the workers, and the scan ends once no worker of the group has a free
        // slot, so a long queue costs one pass per freed slot, not a pass per item.
        const full = new Set<string>();
        for (const item of this.pending.get(group)?.values() ?? []) {
          if (item.busy || full.has(item.entry.target)) continue;
          const worker = this.strategy.choose(
            group,
            this.pool.candidates(group, item.entry.target),
          );
          if (!worker) {
            full.add(item.entry.target);
            if (!this.pool.hasFreeSlot(group)) break;
            continue;
          }
          worker.inbox.set(item.entry.executionId, 'reserved');
          item.busy = true;
          batch.push({ item, workerId: worker.record.id });
          if (batch.length >= BATCH) break;
        }
        if (batch.length === 0 || generation !== this.generation) return;
        const ok = await this.assign(group, batch);
        if (!ok) {
          again = true;
          return;
        }
      }
    } catch (error) {
      again = true;
      this.logger.warn(`dispatch of group ${group} failed (${String(error)}); retrying`);
    } finally {
      this.draining.delete(group);
      if (again && generation === this.generation) {
        setTimeout(() => this.scheduleDrain(group), RETRY_MS).unref();
      }
    }
  }

  /** One fenced txn moving a batch from pending/ to workers' inboxes. False: lost a race. */
  private async assign(
    group: string,
    batch: { item: PendingItem; workerId: string }[],
  ): Promise<boolean> {
    const records = await this.readExecutions(batch.map(({ item }) => item.entry.executionId));
    const compare: Compare[] = [];
    const success: TxnOp[] = [];
    const now = Date.now();
    const at = new Date(now).toISOString();
    batch.forEach(({ item, workerId }, i) => {
      const id = item.entry.executionId;
      const pendingKey = Keyspace.pendingExecution(group, id);
      compare.push({ key: pendingKey, target: 'modRevision', op: '==', value: item.modRevision });
      success.push({ type: 'delete', key: pendingKey });
      const kv = records[i];
      const record = kv && (JSON.parse(kv.value) as ExecutionRecord);
      if (!kv || !record || record.status !== 'pending') {
        // Gone or no longer waiting (cancelled): the pending entry is stale; drop it.
        this.pool.release(group, workerId, id);
        return;
      }
      compare.push({ key: kv.key, target: 'modRevision', op: '==', value: kv.modRevision });
      const assigned = transition(record, 'assigned', now, this.config.nodeId, {
        worker: workerId,
      });
      success.push(
        { type: 'put', key: kv.key, value: JSON.stringify(assigned) },
        {
          type: 'put',
          key: Keyspace.assignment(group, workerId, id),
          value: JSON.stringify(assignmentOf(assigned, workerId, at)),
        },
      );
    });
    let succeeded = false;
    try {
      succeeded = (await this.leadership.fencedTxn({ compare, success })).succeeded;
    } finally {
      for (const { item, workerId } of batch) {
        item.busy = false;
        if (!succeeded) this.pool.release(group, workerId, item.entry.executionId);
        else this.pending.get(group)?.delete(item.entry.executionId);
      }
    }
    return succeeded;
  }

  // ---- dead workers ----

  private recoverOrphansSoon(): void {
    setTimeout(() => this.recoverOrphans(), RETRY_MS).unref();
  }

  private recoverOrphans(): void {
    for (const { group, workerId, inbox } of this.pool.takeOrphans()) {
      void this.recover(group, workerId, [...inbox.keys()]);
    }
  }

  /**
   * A worker is gone: its assignments that never started go back to pending/, its running
   * ones become `lost`. Each move compares what it read, so a report racing it wins or
   * loses cleanly; a lost race is retried from a fresh read.
   */
  private async recover(group: string, workerId: string, executionIds: string[]): Promise<void> {
    if (executionIds.length === 0) return;
    const generation = this.generation;
    // A worker we do not know may simply not have reached our watch yet.
    const live = await this.store.get(Keyspace.worker(group, workerId));
    if (live) {
      this.onWorkerPut(live);
      for (const id of executionIds) this.pool.setSlot(group, workerId, id, 'assigned');
      return;
    }
    for (let start = 0; start < executionIds.length; start += BATCH) {
      const ids = executionIds.slice(start, start + BATCH);
      for (let attempt = 1; attempt <= 3 && generation === this.generation; attempt++) {
        try {
          if (await this.recoverBatch(group, workerId, ids)) break;
        } catch (error) {
          this.logger.warn(`recovery of worker ${workerId} failed (${String(error)})`);
          if (!this.leadership.isLeader) return;
        }
      }
    }
  }

  private async recoverBatch(group: string, workerId: string, ids: string[]): Promise<boolean> {
    const kvs = await getMany(
      this.store,
      ids.flatMap((id) => [Keyspace.assignment(group, workerId, id), executionKeyOf(id)]),
    );
    const compare: Compare[] = [];
    const success: TxnOp[] = [];
    const now = Date.now();
    const node = this.config.nodeId;
    let lost = 0;
    let moved = 0;
    ids.forEach((id, i) => {
      const assignmentKv = kvs[2 * i];
      const executionKv = kvs[2 * i + 1];
      if (!assignmentKv) return; // finished, or never committed (a reservation)
      compare.push({
        key: assignmentKv.key,
        target: 'modRevision',
        op: '==',
        value: assignmentKv.modRevision,
      });
      success.push({ type: 'delete', key: assignmentKv.key });
      const record = executionKv && (JSON.parse(executionKv.value) as ExecutionRecord);
      if (!executionKv || !record || isFinal(record.status)) return;
      compare.push({
        key: executionKv.key,
        target: 'modRevision',
        op: '==',
        value: executionKv.modRevision,
      });
      const assignment = JSON.parse(assignmentKv.value) as Assignment;
      if (assignment.state === 'running' || record.status === 'running') {
        const next = transition(record, 'lost', now, node, {
          error: `worker ${workerId} was lost (its lease expired) while running this execution`,
        });
        success.push({ type: 'put', key: executionKv.key, value: JSON.stringify(next) });
        lost++;
      } else {
        const next = transition(record, 'pending', now, node);
        success.push(
          { type: 'put', key: executionKv.key, value: JSON.stringify(next) },
          {
            type: 'put',
            key: Keyspace.pendingExecution(group, id),
            value: JSON.stringify(pendingEntry(next, new Date(now).toISOString())),
          },
        );
        moved++;
      }
    });
    if (success.length === 0) return true;
    const result = await this.leadership.fencedTxn({ compare, success });
    if (result.succeeded && (lost > 0 || moved > 0)) {
      this.logger.warn(
        `worker ${workerId} of group ${group}: ${moved} unstarted execution(s) moved, ${lost} running marked lost`,
      );
    }
    return result.succeeded;
  }

  private readExecutions(ids: string[]): Promise<(KeyValue | undefined)[]> {
    return getMany(this.store, ids.map(executionKeyOf));
  }
}

export type { SlotState };
