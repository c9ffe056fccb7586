import { Injectable, Logger, Optional } from '@nestjs/common';
import { executionKeyOf, Keyspace, parseExecutionId } from '@forest/protocol';
import { CoordinationStore, getMany, KeyValue } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { LeadershipService } from '../election/leadership.service';
import { ThrottledWarnings } from '../plugins/plugin-call';
import { decodeExecutionKv, ExecutionState, stateOf } from '../execution/execution-ops';
import { HistoryMover } from '../history/history-mover';
import { InjectStore } from '../store/store.tokens';
import { DispatchEventBus } from './dispatch.events';
import { DispatchState, GoneWorker } from './dispatch-state';
import { HeldExecution, recoveryOps } from './recovery-ops';

/** Most executions one recovery txn takes back. */
const BATCH = 40;
/** Txn attempts per batch (a lost race is read again at once). */
const ATTEMPTS = 3;
/** How long after an orphaned assignment appears its worker is looked for. */
const ORPHAN_DELAY_MS = 200;
/** How long a recovery that could not finish waits before it runs again. */
export const RECOVERY_RETRY_MS = 1000;

/**
 * Dead workers, on the leader: when a worker's key goes (lease expired, or it left), its
 * assignments that never started go back to `pending/` (and on to another worker), its
 * running ones become `lost`. Assignments of workers the pool never knew (orphans) are
 * recovered the same way. Recovery runs in the background and never rejects: what it
 * could not finish is logged and retried while this node leads.
 */
@Injectable()
export class WorkerRecovery {
  private readonly logger = new Logger(WorkerRecovery.name);
  private readonly warnings = new ThrottledWarnings((message) => this.logger.warn(message));

  constructor(
    private readonly state: DispatchState,
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
    private readonly events: DispatchEventBus,
    @Optional() private readonly mover?: HistoryMover,
  ) {
    state.onWorkerGone((gone) => this.onWorkerGone(gone));
    state.onAssignmentChange((group, workerId, _executionId, assignment) => {
      // An assignment of a worker the pool does not know: maybe a dead one's, maybe not yet seen.
      if (assignment && state.ready && !state.pool.get(group, workerId)) this.recoverOrphansSoon();
    });
    state.onLoaded(() => this.recoverOrphans());
  }

  /** Recovers in the background; never rejects. Unfinished work is retried later. */
  startRecovery(group: string, workerId: string, executionIds: string[]): void {
    if (executionIds.length === 0) return;
    const generation = this.state.generation;
    const retry = (left: string[], why: string) => {
      const current = generation === this.state.generation && this.leadership.isLeader;
      this.logger.warn(
        `recovery of worker ${workerId} of group ${group}: ${left.length} execution(s) ` +
          `not recovered (${why}); ${current ? `retrying in ${RECOVERY_RETRY_MS} ms` : 'no longer leading'}`,
      );
      if (!current) return;
      setTimeout(() => {
        if (generation === this.state.generation && this.leadership.isLeader) {
          this.startRecovery(group, workerId, left);
        }
      }, RECOVERY_RETRY_MS).unref();
    };
    this.recover(group, workerId, executionIds)
      .then(
        (left) => {
          if (left.length > 0) retry(left, 'lost races or store errors');
        },
        (error: unknown) => retry(executionIds, String(error)),
      )
      .catch((error: unknown) =>
        this.logger.error(`recovery of worker ${workerId} of group ${group}: ${String(error)}`),
      );
  }

  /**
   * Takes the executions back, in batches; each batch is tried up to ATTEMPTS times from
   * a fresh read. Returns the ids it could not take back (empty when done, or when this
   * node stopped leading). Rejects only if the worker's key cannot be read.
   */
  async recover(group: string, workerId: string, executionIds: string[]): Promise<string[]> {
    if (executionIds.length === 0) return [];
    const generation = this.state.generation;
    // A worker we do not know may simply not have reached our watch yet.
    const live = await this.store.get(Keyspace.worker(group, workerId));
    if (live) {
      this.state.restoreWorker(live, executionIds);
      return [];
    }
    const left: string[] = [];
    for (let start = 0; start < executionIds.length; start += BATCH) {
      const ids = executionIds.slice(start, start + BATCH);
      let done = false;
      for (
        let attempt = 1;
        attempt <= ATTEMPTS && generation === this.state.generation;
        attempt++
      ) {
        try {
          if ((done = await this.recoverBatch(group, workerId, ids))) break;
        } catch (error) {
          this.logger.warn(`recovery of worker ${workerId} failed (${String(error)})`);
          if (!this.leadership.isLeader) return [];
        }
      }
      if (!done && generation === this.state.generation) left.push(...ids);
    }
    return left;
  }

  private onWorkerGone({ group, workerId, record, inbox, left }: GoneWorker): void {
    if (left) {
      this.logger.log(
        `worker ${workerId} of group ${group} left; recovering ${inbox.size} execution(s)`,
      );
    } else {
      this.logger.warn(
        `worker ${workerId} of group ${group} is gone; recovering ${inbox.size} execution(s)`,
      );
      if (record) this.events.emit({ type: 'worker_lost', worker: record, held: inbox.size });
    }
    this.startRecovery(group, workerId, [...inbox.keys()]);
  }

  private recoverOrphansSoon(): void {
    setTimeout(() => this.recoverOrphans(), ORPHAN_DELAY_MS).unref();
  }

  private recoverOrphans(): void {
    for (const { group, workerId, inbox } of this.state.pool.takeOrphans()) {
      this.startRecovery(group, workerId, [...inbox.keys()]);
    }
  }

  /**
   * One txn (see recoveryOps); false when a racing write made it fail or some executions
   * did not fit (those are taken in the next attempt, from a fresh read).
   */
  private async recoverBatch(group: string, workerId: string, ids: string[]): Promise<boolean> {
    const keys = ids.flatMap((id) => {
      const parts = parseExecutionId(id);
      return [
        executionKeyOf(id),
        Keyspace.assignment(group, workerId, id),
        parts && Keyspace.activeExecution(parts.jobId),
      ];
    });
    const kvs = await getMany(this.store, keys);
    const held: HeldExecution[] = [];
    ids.forEach((id, i) => {
      const state = this.decodeHeld(id, kvs[3 * i], kvs[3 * i + 1], kvs[3 * i + 2]);
      if (state) held.push({ id, state });
    });
    const txn = recoveryOps(
      workerId,
      held,
      Date.now(),
      this.config.nodeId,
      this.leadership.fencingToken ?? 0,
    );
    if (txn.success.length === 0) return txn.left.length === 0;
    const result = await this.leadership.fencedTxn({ compare: txn.compare, success: txn.success });
    if (result.succeeded && (txn.lost.length > 0 || txn.moved > 0)) {
      this.logger.warn(
        `worker ${workerId} of group ${group}: ${txn.moved} unstarted execution(s) moved, ` +
          `${txn.lost.length} running marked lost`,
      );
      for (const { execution, retry } of txn.lost) {
        this.events.emit({ type: 'execution_lost', execution, ...(retry ? { retry } : {}) });
      }
      this.mover?.moveSoon(
        txn.lost.map((lost) => lost.execution),
        result.revision,
      );
    }
    return result.succeeded && txn.left.length === 0;
  }

  /** What was read, decoded; undefined (logged, left as it is) if it does not decode. */
  private decodeHeld(
    id: string,
    executionKv: KeyValue | undefined,
    assignmentKv: KeyValue | undefined,
    markerKv: KeyValue | undefined,
  ): ExecutionState | undefined {
    try {
      return stateOf(decodeExecutionKv(executionKv), assignmentKv, markerKv);
    } catch (error) {
      this.warnings.warnOnce(
        'undecodable',
        `execution ${id} not recovered: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    }
  }
}
