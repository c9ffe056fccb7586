import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  Assignment,
  ExecutionRecord,
  executionKeyOf,
  Keyspace,
  PendingEntry,
  shardExecutionId,
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
import { Observable, Subject, Subscription } from 'rxjs';
import { DispatchDecision, DispatchWorker } from '@forest/plugin-api';
import { ForestConfig } from '../config/forest.config';
import { LeadershipService } from '../election/leadership.service';
import { assignmentOf, isFinal, pendingEntry, transition } from '../execution/execution-record';
import { FirePlacement, FiringJob } from './fire-placement';
import { InjectStore } from '../store/store.tokens';
import { DispatchStrategies } from '../plugins/dispatch-strategies.service';
import { isPromiseLike } from '../plugins/plugin-call';
import { DispatchEvent } from './dispatch.events';
import { SlotState, WorkerPool } from './worker-pool';

/** Most executions one drain pass reads and decides. */
const BATCH = 40;
/** etcd's (and the embedded store's) limit on compares and on ops per txn branch. */
const MAX_TXN_OPS = 128;
const RETRY_MS = 200;
/** An execution its strategy declined waits this long before it is offered again. */
const DECLINED_BACKOFF_MS = 500;
/** How often the leader looks for executions waiting too long for a worker. */
const NO_WORKER_SWEEP_MS = 5000;
/** Strategy name of records written before strategies were plugins. */
const DEFAULT_STRATEGY = 'round-robin';

interface PendingItem {
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

/** What one drain pass did: assigned or dropped some, nothing to do now, or lost a race. */
type BatchOutcome = 'moved' | 'idle' | 'conflict';

/** One execution the drain will assign: to one worker, or fanned out as shards. */
interface Placement {
  item: PendingItem;
  kv: KeyValue;
  record: ExecutionRecord;
  workerIds: string[];
}

/**
 * Dispatch, on the leader: which worker runs each execution, as the job's dispatch
 * strategy (a plugin, see DispatchStrategies) decides among the group's live workers.
 *
 * - Fires: the planner asks `place()` while it builds a fire txn; when the strategy answers
 *   synchronously with one worker that has a free slot, the fire txn writes the
 *   assignment itself. Everything else (no free worker, a broadcast, an asynchronous
 *   strategy) is written to `pending/`.
 * - `pending/` (those fires, manual triggers, work moved off dead workers): a drain per
 *   group reads the executions, asks their strategies, and assigns them in fenced,
 *   batched txns whenever a worker joins or a slot frees up. A broadcast becomes one
 *   execution record per shard in the same txn.
 * - Dead workers (lease expired, or left): their unstarted assignments go back to
 *   `pending/` (and on to another worker), their running ones become `lost`.
 *
 * Slots are reserved in memory when a dispatch is decided, so no worker ever holds more
 * assigned + running executions than its capacity, whatever a strategy answers.
 */
@Injectable()
export class Dispatcher implements FirePlacement, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Dispatcher.name);
  private readonly pool = new WorkerPool();
  private readonly pending = new Map<string, Map<string, PendingItem>>();
  private readonly drainQueued = new Set<string>();
  private readonly draining = new Set<string>();
  /** Per group, the timer that offers declined executions again. */
  private readonly offerTimers = new Map<string, NodeJS.Timeout>();
  private readonly events = new Subject<DispatchEvent>();
  /** Workers, by group/id, that said goodbye: their disappearance is not a loss. */
  private readonly leaving = new Set<string>();
  private watches: Watch[] = [];
  private subscription?: Subscription;
  private generation = 0;
  private ready = false;
  private retryTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;

  /** Lost workers and executions, and executions waiting too long (leader only). */
  readonly events$: Observable<DispatchEvent> = this.events.asObservable();

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
    private readonly strategies: DispatchStrategies,
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
    this.events.complete();
  }

  place(job: FiringJob, executionId: string, scheduledMs: number): string | undefined {
    if (!this.ready) return undefined;
    const strategy = job.dispatch.strategy;
    if (!this.strategies.answersSynchronously(strategy)) return undefined;
    if (!this.pool.hasFreeSlotFor(job.group, job.target)) return undefined;
    const decision = this.strategies.decide(strategy, {
      job: {
        id: job.jobId,
        name: job.name,
        group: job.group,
        target: job.target,
        params: job.params,
      },
      execution: {
        id: executionId,
        jobId: job.jobId,
        trigger: 'schedule',
        attempt: 1,
        scheduledMs,
        params: job.params,
      },
      workers: this.offered(job.group, job.target),
      options: job.dispatch.options,
    });
    // Asynchronous answers, broadcasts and refusals go through pending/ and the drain.
    if (isPromiseLike(decision) || decision.type !== 'worker') return undefined;
    return this.pool.reserve(job.group, decision.workerId, executionId)
      ? decision.workerId
      : undefined;
  }

  release(group: string, workerId: string, executionId: string): void {
    this.pool.release(group, workerId, executionId);
    this.scheduleDrain(group);
  }

  /** The group's workers for `target` as strategies see them. */
  private offered(group: string, target: string): DispatchWorker[] {
    return this.pool.eligible(group, target).map((w) => ({
      id: w.record.id,
      group: w.record.group,
      host: w.record.host,
      labels: w.record.labels,
      capacity: w.record.capacity,
      load: w.inbox.size,
      running: w.running,
      free: Math.max(0, w.record.capacity - w.inbox.size),
      registeredAt: w.record.registeredAt,
    }));
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
      clearInterval(this.sweepTimer);
      this.sweepTimer = setInterval(() => this.reportLongWaits(), NO_WORKER_SWEEP_MS);
      this.sweepTimer.unref();
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
    clearInterval(this.sweepTimer);
    for (const timer of this.offerTimers.values()) clearTimeout(timer);
    this.offerTimers.clear();
    this.reset();
    await this.cancelWatches();
  }

  private reset(): void {
    this.ready = false;
    this.pool.clear();
    this.pending.clear();
    this.leaving.clear();
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
    if (record.leavingAt) this.leaving.add(`${record.group}/${record.id}`);
    const joined = !this.pool.get(record.group, record.id);
    this.pool.upsertWorker(record);
    // A new worker may be what a declined execution was waiting for.
    if (joined)
      for (const item of this.pending.get(record.group)?.values() ?? []) delete item.declinedUntil;
    this.scheduleDrain(record.group);
  }

  private onWorkerEvent(event: WatchEvent): void {
    if (event.type === 'put') return this.onWorkerPut(event.kv);
    const [group, workerId] = event.kv.key.slice(Keyspace.workers.length).split('/');
    const worker = this.pool.removeWorker(group, workerId);
    const inbox = worker?.inbox ?? new Map<string, SlotState>();
    const goodbye = this.leaving.delete(`${group}/${workerId}`);
    if (goodbye) {
      this.logger.log(
        `worker ${workerId} of group ${group} left; recovering ${inbox.size} execution(s)`,
      );
    } else {
      this.logger.warn(
        `worker ${workerId} of group ${group} is gone; recovering ${inbox.size} execution(s)`,
      );
      if (worker)
        this.events.next({ type: 'worker_lost', worker: worker.record, held: inbox.size });
    }
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

  /** Drains the group again at `atMs` (the earliest declined execution's next offer). */
  private scheduleDrainAt(group: string, atMs: number): void {
    if (this.offerTimers.has(group)) return;
    const timer = setTimeout(
      () => {
        this.offerTimers.delete(group);
        this.scheduleDrain(group);
      },
      Math.max(0, atMs - Date.now()),
    );
    timer.unref();
    this.offerTimers.set(group, timer);
  }

  private async drain(group: string): Promise<void> {
    if (!this.ready || this.draining.has(group)) return;
    this.draining.add(group);
    const generation = this.generation;
    let again = false;
    try {
      for (;;) {
        const items = this.nextItems(group);
        if (items.length === 0 || generation !== this.generation) return;
        for (const item of items) item.busy = true;
        let outcome: BatchOutcome;
        try {
          outcome = await this.placeBatch(group, items, generation);
        } finally {
          for (const item of items) item.busy = false;
        }
        if (outcome === 'conflict') again = true; // lost a race: read again shortly
        if (outcome !== 'moved') return;
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

  /**
   * Up to BATCH waiting executions worth offering now: not in a txn, not recently declined
   * by their strategy, and of a target some worker has a free slot for. A long queue costs
   * one pass per freed slot, not a strategy call per item.
   */
  private nextItems(group: string): PendingItem[] {
    const now = Date.now();
    const items: PendingItem[] = [];
    const free = new Map<string, boolean>();
    let nextOffer = Number.POSITIVE_INFINITY;
    for (const item of this.pending.get(group)?.values() ?? []) {
      if (item.busy) continue;
      if (item.declinedUntil !== undefined && item.declinedUntil > now) {
        nextOffer = Math.min(nextOffer, item.declinedUntil);
        continue;
      }
      const target = item.entry.target;
      let hasFree = free.get(target);
      if (hasFree === undefined)
        free.set(target, (hasFree = this.pool.hasFreeSlotFor(group, target)));
      if (!hasFree) continue;
      items.push(item);
      if (items.length >= BATCH) break;
    }
    if (nextOffer !== Number.POSITIVE_INFINITY) this.scheduleDrainAt(group, nextOffer);
    return items;
  }

  /**
   * Reads the items' executions, asks their strategies (synchronous answers at once,
   * asynchronous ones together, each under the plugin timeout), reserves the chosen slots
   * and commits one fenced txn. Says whether anything moved, nothing could, or a race was lost.
   */
  private async placeBatch(
    group: string,
    items: PendingItem[],
    generation: number,
  ): Promise<BatchOutcome> {
    const kvs = await getMany(
      this.store,
      items.map((item) => executionKeyOf(item.entry.executionId)),
    );
    const stale: PendingItem[] = [];
    const asked: {
      item: PendingItem;
      kv: KeyValue;
      record: ExecutionRecord;
      /** Reserved worker ids, a refusal, or a strategy's answer still to come. */
      outcome: string[] | DispatchDecision | Promise<DispatchDecision>;
    }[] = [];
    items.forEach((item, i) => {
      const kv = kvs[i];
      const record = kv && (JSON.parse(kv.value) as ExecutionRecord);
      if (!kv || !record || record.status !== 'pending') return void stale.push(item);
      const dispatch = record.dispatch ?? { strategy: DEFAULT_STRATEGY, options: {} };
      const decision = this.strategies.decide(dispatch.strategy, {
        job: {
          id: record.jobId,
          name: record.jobName,
          group,
          target: record.target,
          params: record.params,
        },
        execution: {
          id: record.id,
          jobId: record.jobId,
          trigger: record.trigger,
          attempt: record.attempt,
          scheduledMs: record.scheduledMs,
          params: record.params,
          ...(record.shard ? { shard: record.shard } : {}),
        },
        workers: this.offered(group, record.target),
        options: dispatch.options ?? {},
      });
      // A synchronous answer takes its slots now, so the next item sees them taken.
      asked.push({
        item,
        kv,
        record,
        outcome: isPromiseLike(decision) ? decision : this.take(group, item, decision),
      });
    });
    const placements: Placement[] = [];
    for (const { item, kv, record, outcome } of asked) {
      // Asynchronous answers were all asked for above and settle together.
      const taken = isPromiseLike(outcome) ? this.take(group, item, await outcome) : outcome;
      if (Array.isArray(taken)) placements.push({ item, kv, record, workerIds: taken });
    }
    if (generation !== this.generation) {
      for (const placement of placements) this.releasePlacement(group, placement);
      return 'idle';
    }
    return this.commit(group, stale, placements);
  }

  /** Reserves the decision's slots: the worker ids, or the decision itself when declined. */
  private take(
    group: string,
    item: PendingItem,
    decision: DispatchDecision,
  ): string[] | DispatchDecision {
    const id = item.entry.executionId;
    const workerIds =
      decision.type === 'worker'
        ? [decision.workerId]
        : decision.type === 'shards'
          ? [...decision.workerIds]
          : [];
    if (decision.type === 'none') return this.decline(item, decision.reason);
    // Shard i of a broadcast has its own execution id; shard 0 keeps the fire's.
    const slots = workerIds.map((workerId, i) => ({
      workerId,
      id: i === 0 ? id : shardExecutionId(id, i),
    }));
    const taken: typeof slots = [];
    for (const slot of slots) {
      if (!this.pool.reserve(group, slot.workerId, slot.id)) break;
      taken.push(slot);
    }
    if (taken.length === slots.length) return workerIds;
    // A worker filled up since the strategy looked (another item of this batch): not now.
    for (const slot of taken) this.pool.release(group, slot.workerId, slot.id);
    return decision;
  }

  private decline(item: PendingItem, reason: string): DispatchDecision {
    item.reason = reason;
    item.declinedUntil = Date.now() + DECLINED_BACKOFF_MS;
    return { type: 'none', reason };
  }

  /**
   * One fenced txn: drops stale pending entries and moves placements from pending/ to
   * workers' inboxes (a broadcast writes a record per shard). Placements past the txn's
   * op budget give their slots back and wait for the next pass.
   */
  private async commit(
    group: string,
    stale: PendingItem[],
    placements: Placement[],
  ): Promise<BatchOutcome> {
    const compare: Compare[] = [];
    const success: TxnOp[] = [];
    const now = Date.now();
    const at = new Date(now).toISOString();
    const node = this.config.nodeId;
    const dropPending = (item: PendingItem) => {
      const key = Keyspace.pendingExecution(group, item.entry.executionId);
      compare.push({ key, target: 'modRevision', op: '==', value: item.modRevision });
      success.push({ type: 'delete', key });
    };
    for (const item of stale) dropPending(item);
    const included: Placement[] = [];
    const deferred: Placement[] = [];
    for (const placement of placements) {
      const shards = placement.workerIds.length;
      // compares: pending + execution + a create check per extra shard; ops: delete + 2 per shard
      const fits =
        compare.length + 1 + shards <= MAX_TXN_OPS - 1 &&
        success.length + 1 + 2 * shards <= MAX_TXN_OPS;
      if (!fits) {
        deferred.push(placement);
        continue;
      }
      included.push(placement);
      const { item, kv, record, workerIds } = placement;
      dropPending(item);
      compare.push({ key: kv.key, target: 'modRevision', op: '==', value: kv.modRevision });
      workerIds.forEach((workerId, index) => {
        // A fan-out numbers its shards; a shard placed again keeps its own number.
        const base: ExecutionRecord =
          shards === 1
            ? record
            : index === 0
              ? { ...record, shard: { index, total: shards } }
              : {
                  ...record,
                  id: shardExecutionId(record.id, index),
                  shard: { index, total: shards },
                };
        const key = index === 0 ? kv.key : executionKeyOf(base.id)!;
        if (index > 0) compare.push({ key, target: 'createRevision', op: '==', value: 0 });
        const assigned = transition(base, 'assigned', now, node, { worker: workerId });
        success.push(
          { type: 'put', key, value: JSON.stringify(assigned) },
          {
            type: 'put',
            key: Keyspace.assignment(group, workerId, assigned.id),
            value: JSON.stringify(assignmentOf(assigned, workerId, at)),
          },
        );
      });
    }
    for (const placement of deferred) this.releasePlacement(group, placement);
    if (success.length === 0) return 'idle';
    let succeeded = false;
    try {
      succeeded = (await this.leadership.fencedTxn({ compare, success })).succeeded;
    } finally {
      for (const placement of included) {
        if (!succeeded) this.releasePlacement(group, placement);
      }
    }
    if (!succeeded) return 'conflict';
    for (const item of [...stale, ...included.map((p) => p.item)]) {
      this.pending.get(group)?.delete(item.entry.executionId);
    }
    return 'moved';
  }

  private releasePlacement(group: string, { item, workerIds }: Placement): void {
    workerIds.forEach((workerId, i) => {
      const id = i === 0 ? item.entry.executionId : shardExecutionId(item.entry.executionId, i);
      this.pool.release(group, workerId, id);
    });
  }

  /** Announces executions that have waited for a worker longer than the alert threshold. */
  private reportLongWaits(): void {
    if (!this.ready) return;
    const now = Date.now();
    for (const [group, items] of this.pending) {
      for (const item of items.values()) {
        if (item.reported || now - Date.parse(item.entry.since) < this.config.alertNoWorkerMs)
          continue;
        item.reported = true;
        const target = item.entry.target;
        this.events.next({
          type: 'no_worker',
          executionId: item.entry.executionId,
          jobId: item.entry.jobId,
          group,
          target,
          since: item.entry.since,
          reason:
            item.reason ??
            (this.pool.eligible(group, target).length === 0
              ? `no live worker of group ${group} runs target ${target}`
              : `every worker of group ${group} that runs target ${target} is full`),
        });
      }
    }
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
    const lostRecords: ExecutionRecord[] = [];
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
        lostRecords.push(next);
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
    if (result.succeeded && (lostRecords.length > 0 || moved > 0)) {
      this.logger.warn(
        `worker ${workerId} of group ${group}: ${moved} unstarted execution(s) moved, ` +
          `${lostRecords.length} running marked lost`,
      );
      for (const execution of lostRecords) this.events.next({ type: 'execution_lost', execution });
    }
    return result.succeeded;
  }
}

export type { SlotState };
