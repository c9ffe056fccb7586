import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { Assignment } from '@forest/protocol';
import { CoordinationStore, getMany } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { LeadershipService } from '../election/leadership.service';
import {
  finishOps,
  FinishResult,
  fitsOneTxn,
  joinParts,
  readStates,
} from '../execution/execution-ops';
import { isFinal } from '../execution/execution-record';
import { HistoryMover } from '../history/history-mover';
import { InjectStore } from '../store/store.tokens';
import { DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';

/** Most executions one deadline pass reads and times out together. */
const BATCH = 40;
/** A deadline write that lost a race (a report landed) is looked at again this much later. */
const RECHECK_MS = 200;
/** Wakes are coalesced: deadlines this close together are handled in one pass. */
const COALESCE_MS = 20;

interface Deadline {
  group: string;
  workerId: string;
  executionId: string;
  /** Epoch ms: the start the node recorded + timeoutMs + the grace. */
  atMs: number;
  timeoutMs: number;
}

/**
 * Leader-side deadlines: every running execution with a `timeoutMs` (seen through the
 * watched inboxes, where the `running` claim records its start) is marked `timed_out` by
 * the leader once `timeoutMs + FOREST_TIMEOUT_GRACE_MS` passed without a final report —
 * a handler that ignores its AbortSignal cannot hold its slot, its job's concurrency
 * marker or its retries forever. The write is a fenced finish (finishOps): the assignment
 * goes, a retry is created when the policy has attempts left, and the worker learns from
 * its next heartbeat that the execution is no longer its own (its handler is aborted).
 * A report that lands first wins: the txn compares what it read and is then refused.
 */
@Injectable()
export class DeadlineTracker implements OnModuleDestroy {
  private readonly logger = new Logger(DeadlineTracker.name);
  private readonly deadlines = new Map<string, Deadline>();
  private timer?: NodeJS.Timeout;
  private timerAt = Number.POSITIVE_INFINITY;
  private busy = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
    private readonly state: DispatchState,
    private readonly bus: DispatchEventBus,
    @Optional() private readonly mover?: HistoryMover,
  ) {
    this.unsubscribe.push(
      state.onAssignmentChange((group, workerId, executionId, assignment) =>
        this.onAssignment(group, workerId, executionId, assignment),
      ),
      state.onReset(() => this.clear()),
    );
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.clear();
  }

  /** Running executions with a deadline (for tests and diagnostics). */
  get tracked(): number {
    return this.deadlines.size;
  }

  private onAssignment(
    group: string,
    workerId: string,
    executionId: string,
    assignment: Assignment | undefined,
  ): void {
    const key = `${group}/${workerId}/${executionId}`;
    const timeoutMs = Number(assignment?.timeoutMs) || 0;
    if (
      !assignment ||
      assignment.state !== 'running' ||
      timeoutMs <= 0 ||
      typeof assignment.startedAtMs !== 'number'
    ) {
      this.deadlines.delete(key);
      return;
    }
    const atMs = assignment.startedAtMs + timeoutMs + this.config.timeoutGraceMs;
    this.deadlines.set(key, { group, workerId, executionId, atMs, timeoutMs });
    this.arm(atMs);
  }

  private clear(): void {
    this.deadlines.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private arm(atMs: number): void {
    if (this.busy || atMs >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = atMs;
    this.timer = setTimeout(() => this.wake(), Math.max(0, atMs - Date.now() + COALESCE_MS));
    this.timer.unref();
  }

  private wake(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.busy = true;
    this.expire()
      .catch((error: unknown) =>
        this.logger.warn(`deadline pass failed (${String(error)}); retrying`),
      )
      .finally(() => {
        this.busy = false;
        let earliest = Number.POSITIVE_INFINITY;
        for (const deadline of this.deadlines.values()) {
          earliest = Math.min(earliest, deadline.atMs);
        }
        if (earliest !== Number.POSITIVE_INFINITY) this.arm(earliest);
      });
  }

  /** Times out every execution past its deadline, in fenced batches. */
  private async expire(): Promise<void> {
    if (!this.leadership.isLeader) return;
    const now = Date.now();
    const due = [...this.deadlines.values()].filter((deadline) => deadline.atMs <= now);
    for (let start = 0; start < due.length; start += BATCH) {
      const batch = due.slice(start, start + BATCH);
      const states = await readStates(
        (keys) => getMany(this.store, keys),
        batch.map((d) => ({ id: d.executionId, group: d.group, workerId: d.workerId })),
      );
      const finishes: { deadline: Deadline; result: FinishResult }[] = [];
      const at = Date.now();
      batch.forEach((deadline, i) => {
        const state = states[i];
        const record = state.execution?.record;
        const key = `${deadline.group}/${deadline.workerId}/${deadline.executionId}`;
        // Finished or moved meanwhile: nothing to time out (a new start is a new deadline).
        if (
          !record ||
          isFinal(record.status) ||
          !state.assignment ||
          state.assignment.assignment.state !== 'running'
        ) {
          this.deadlines.delete(key);
          return;
        }
        const result = finishOps(state, 'timed_out', at, this.config.nodeId, {
          worker: deadline.workerId,
          error:
            `timed out by the leader: no final report within timeoutMs (${deadline.timeoutMs} ms) ` +
            `+ grace (${this.config.timeoutGraceMs} ms) of its start; the worker was told to abort it`,
          token: this.leadership.fencingToken,
        });
        // One batch never outgrows a txn; a finish that would is left for the next pass.
        if (fitsOneTxn([...finishes.map((f) => f.result), result])) {
          finishes.push({ deadline, result });
        } else {
          deadline.atMs = Date.now() + RECHECK_MS;
        }
      });
      if (finishes.length === 0) continue;
      const txn = joinParts(finishes.map((f) => f.result));
      const outcome = await this.leadership.fencedTxn(txn);
      if (!outcome.succeeded) {
        // A report or a recovery raced us: look again shortly, from a fresh read.
        for (const { deadline } of finishes) deadline.atMs = Date.now() + RECHECK_MS;
        continue;
      }
      this.mover?.moveSoon(
        finishes.map((f) => f.result.finished),
        outcome.revision,
      );
      for (const { deadline, result } of finishes) {
        this.deadlines.delete(`${deadline.group}/${deadline.workerId}/${deadline.executionId}`);
        this.logger.warn(
          `execution=${deadline.executionId} job=${result.finished.jobId} timed out on worker ` +
            `${deadline.workerId}` +
            (result.retry ? `; retry ${result.retry.id} created` : ''),
        );
        this.bus.emit({
          type: 'execution_timed_out',
          execution: result.finished,
          retry: result.retry,
        });
      }
    }
  }
}
