import { Injectable, Logger } from '@nestjs/common';
import {
  decodeExecution,
  ExecutionRecord,
  executionKeyOf,
  shardExecutionId,
} from '@forest/protocol';
import { CoordinationStore, getMany, KeyValue } from '@forest/store';
import { DispatchDecision } from '@forest/plugin-api';
import { ForestConfig } from '../config/forest.config';
import { LeadershipService } from '../election/leadership.service';
import { DispatchStrategies } from '../plugins/dispatch-strategies.service';
import { isPromiseLike, ThrottledWarnings } from '../plugins/plugin-call';
import { InjectStore } from '../store/store.tokens';
import { offeredWorkers, pendingDecisionInput } from './decision-input';
import { DispatchState, PendingItem } from './dispatch-state';
import { Placement, placementOps } from './placement-ops';

/** Most executions one drain pass reads and decides. */
const BATCH = 40;
/** A drain that failed or lost a race runs again after this long. */
const RETRY_MS = 200;
/** An execution its strategy declined waits this long before it is offered again. */
export const DECLINED_BACKOFF_MS = 500;

/** What one drain pass did: assigned or dropped some, nothing to do now, or lost a race. */
type BatchOutcome = 'moved' | 'idle' | 'conflict';

/**
 * `pending/` -> workers' inboxes, on the leader. A drain per group reads the waiting
 * executions, asks their strategies, reserves the chosen slots and commits fenced, batched
 * txns whenever a worker joins, a slot frees up or an execution starts waiting. An
 * execution is not offered while its strategy's refusal backs off (`declinedUntil`) or
 * before its retry backoff ends (the entry's `notBeforeMs`); the drain comes back then.
 */
@Injectable()
export class PendingDrain {
  private readonly logger = new Logger(PendingDrain.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));
  private readonly drainQueued = new Set<string>();
  private readonly draining = new Set<string>();
  /** Per group, the timer that offers waiting (declined, backing off) executions again. */
  private readonly offerTimers = new Map<string, { atMs: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly state: DispatchState,
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
    private readonly strategies: DispatchStrategies,
  ) {
    state.onWorkerPut((worker, joined) => {
      // A new worker may be what a declined execution was waiting for.
      if (joined) for (const item of state.pendingOf(worker.group)) delete item.declinedUntil;
      this.scheduleDrain(worker.group);
    });
    state.onSlotFreed((group) => this.scheduleDrain(group));
    state.onPendingAdded((item) => this.scheduleDrain(item.group));
    state.onLoaded(() => {
      for (const group of state.pendingGroups()) this.scheduleDrain(group);
    });
    state.onReset(() => this.clearTimers());
  }

  /** Drains the group soon (once per tick however often asked). */
  scheduleDrain(group: string): void {
    if (!this.state.ready || this.drainQueued.has(group)) return;
    this.drainQueued.add(group);
    setImmediate(() => {
      this.drainQueued.delete(group);
      this.drain(group).catch((error: unknown) =>
        this.logger.error(`dispatch of group ${group} failed (${String(error)})`),
      );
    });
  }

  /**
   * Drains the group again at `atMs` (a waiting execution's next offer). One timer per
   * group, for the earliest time asked: a later time never delays an earlier one.
   */
  scheduleDrainAt(group: string, atMs: number): void {
    const current = this.offerTimers.get(group);
    if (current && current.atMs <= atMs) return;
    clearTimeout(current?.timer);
    const timer = setTimeout(
      () => {
        this.offerTimers.delete(group);
        this.scheduleDrain(group);
      },
      Math.max(0, atMs - Date.now()),
    );
    timer.unref();
    this.offerTimers.set(group, { atMs, timer });
  }

  /** Assigns what it can of the group's pending executions; one drain per group at a time. */
  async drain(group: string): Promise<void> {
    if (!this.state.ready || this.draining.has(group)) return;
    this.draining.add(group);
    const generation = this.state.generation;
    let again = false;
    try {
      for (;;) {
        const items = this.nextItems(group);
        if (items.length === 0 || generation !== this.state.generation) return;
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
      if (again && generation === this.state.generation) {
        setTimeout(() => this.scheduleDrain(group), RETRY_MS).unref();
      }
    }
  }

  private clearTimers(): void {
    for (const { timer } of this.offerTimers.values()) clearTimeout(timer);
    this.offerTimers.clear();
  }

  /**
   * Up to BATCH waiting executions worth offering now: not in a txn, not recently declined
   * by their strategy, past their retry backoff, and of a target some worker has a free
   * slot for. A long queue costs one pass per freed slot, not a strategy call per item.
   */
  private nextItems(group: string): PendingItem[] {
    const now = Date.now();
    const items: PendingItem[] = [];
    const free = new Map<string, boolean>();
    let nextOffer = Number.POSITIVE_INFINITY;
    for (const item of this.state.pendingOf(group)) {
      if (item.busy) continue;
      const notBefore = Math.max(item.declinedUntil ?? 0, item.entry.notBeforeMs ?? 0);
      if (notBefore > now) {
        nextOffer = Math.min(nextOffer, notBefore);
        continue;
      }
      const target = item.entry.target;
      let hasFree = free.get(target);
      if (hasFree === undefined)
        free.set(target, (hasFree = this.state.pool.hasFreeSlotFor(group, target)));
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
      if (!kv) return void stale.push(item);
      const record = this.decodeRecord(item, kv);
      if (!record) return;
      if (record.status !== 'pending') return void stale.push(item);
      const workers = offeredWorkers(this.state.pool, group, record.target);
      const { strategy, input } = pendingDecisionInput(record, group, workers);
      const decision = this.strategies.decide(strategy, input);
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
    if (generation !== this.state.generation) {
      for (const placement of placements) this.releasePlacement(group, placement);
      return 'idle';
    }
    return this.commit(group, stale, placements);
  }

  /** The record, or undefined (logged, and the item backs off) when it does not decode. */
  private decodeRecord(item: PendingItem, kv: KeyValue): ExecutionRecord | undefined {
    try {
      return decodeExecution(kv.key, kv.value);
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      this.warnings.warnOnce('undecodable', `pending execution not dispatched: ${problem}`);
      this.decline(item, problem);
      return undefined;
    }
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
      if (!this.state.pool.reserve(group, slot.workerId, slot.id)) break;
      taken.push(slot);
    }
    if (taken.length === slots.length) return workerIds;
    // A worker filled up since the strategy looked (another item of this batch): not now.
    for (const slot of taken) this.state.pool.release(group, slot.workerId, slot.id);
    return decision;
  }

  /** Not now: the item backs off, and the drain comes back for it when that ends. */
  private decline(item: PendingItem, reason: string): DispatchDecision {
    item.reason = reason;
    item.declinedUntil = Date.now() + DECLINED_BACKOFF_MS;
    this.scheduleDrainAt(item.group, item.declinedUntil);
    return { type: 'none', reason };
  }

  /**
   * One fenced txn (see placementOps): drops stale pending entries and moves placements
   * to workers' inboxes. Placements past the txn's op budget give their slots back and
   * wait for the next pass; a failed txn gives back all of its slots.
   */
  private async commit(
    group: string,
    stale: PendingItem[],
    placements: Placement[],
  ): Promise<BatchOutcome> {
    const txn = placementOps(group, stale, placements, Date.now(), this.config.nodeId);
    for (const placement of txn.deferred) this.releasePlacement(group, placement);
    if (txn.success.length === 0) return 'idle';
    let succeeded = false;
    try {
      const request = { compare: txn.compare, success: txn.success };
      succeeded = (await this.leadership.fencedTxn(request)).succeeded;
    } finally {
      if (!succeeded) for (const placement of txn.included) this.releasePlacement(group, placement);
    }
    if (!succeeded) return 'conflict';
    for (const item of [...stale, ...txn.included.map((p) => p.item)]) {
      this.state.forgetPending(group, item.entry.executionId);
    }
    return 'moved';
  }

  private releasePlacement(group: string, { item, workerIds }: Placement): void {
    workerIds.forEach((workerId, i) => {
      const id = i === 0 ? item.entry.executionId : shardExecutionId(item.entry.executionId, i);
      this.state.pool.release(group, workerId, id);
    });
  }
}
