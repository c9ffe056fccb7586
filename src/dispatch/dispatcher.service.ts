import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Observable, Subscription } from 'rxjs';
import { LeadershipService } from '../election/leadership.service';
import { DispatchStrategies } from '../plugins/dispatch-strategies.service';
import { isPromiseLike } from '../plugins/plugin-call';
import { fireDecisionInput, offeredWorkers } from './decision-input';
import { DispatchEvent, DispatchEventBus } from './dispatch.events';
import { DispatchState } from './dispatch-state';
import { FirePlacement, FiringJob } from './fire-placement';
import { PendingDrain } from './pending-drain';
import { SlotState } from './worker-pool';

/**
 * Dispatch, on the leader: which worker runs each execution, as the job's dispatch
 * strategy (a plugin, see DispatchStrategies) decides among the group's live workers.
 * This facade wires leadership to the units that do the work:
 *
 * - DispatchState: the watched workers, inboxes and pending executions; says what changed.
 * - Fires: the planner asks `place()` while it builds a fire txn; when the strategy answers
 *   synchronously with one worker that has a free slot, the fire txn writes the
 *   assignment itself. Everything else (no free worker, a broadcast, an asynchronous
 *   strategy) is written to `pending/`.
 * - PendingDrain: `pending/` (those fires, manual triggers, retries, work moved off dead
 *   workers) to workers' inboxes in fenced, batched txns.
 * - WorkerRecovery: a dead worker's unstarted assignments back to `pending/`, its running
 *   ones `lost`.
 * - LongWaitSweep: no_worker events for executions waiting too long.
 *
 * Slots are reserved in memory when a dispatch is decided, so no worker ever holds more
 * assigned + running executions than its capacity, whatever a strategy answers.
 */
@Injectable()
export class Dispatcher implements FirePlacement, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Dispatcher.name);
  private subscription?: Subscription;

  /** Lost workers and executions, and executions waiting too long (leader only). */
  readonly events$: Observable<DispatchEvent>;

  constructor(
    private readonly leadership: LeadershipService,
    private readonly strategies: DispatchStrategies,
    private readonly state: DispatchState,
    private readonly drain: PendingDrain,
    private readonly bus: DispatchEventBus,
  ) {
    this.events$ = bus.events$;
  }

  onModuleInit(): void {
    this.subscription = this.leadership.events$.subscribe((event) => {
      if (event.type === 'elected') this.start();
      else this.stop();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.state.stop();
    this.bus.complete();
  }

  place(job: FiringJob, executionId: string, scheduledMs: number): string | undefined {
    if (!this.state.ready) return undefined;
    const strategy = job.dispatch.strategy;
    if (!this.strategies.answersSynchronously(strategy)) return undefined;
    const pool = this.state.pool;
    if (!pool.hasFreeSlotFor(job.group, job.target)) return undefined;
    const workers = offeredWorkers(pool, job.group, job.target);
    const decision = this.strategies.decide(
      strategy,
      fireDecisionInput(job, executionId, scheduledMs, workers),
    );
    // Asynchronous answers, broadcasts and refusals go through pending/ and the drain.
    if (isPromiseLike(decision) || decision.type !== 'worker') return undefined;
    return pool.reserve(job.group, decision.workerId, executionId) ? decision.workerId : undefined;
  }

  release(group: string, workerId: string, executionId: string): void {
    this.state.pool.release(group, workerId, executionId);
    this.drain.scheduleDrain(group);
  }

  private start(): void {
    this.state
      .start()
      .catch((error: unknown) =>
        this.logger.error(`dispatcher could not start (${String(error)})`),
      );
  }

  private stop(): void {
    this.state
      .stop()
      .catch((error: unknown) => this.logger.error(`dispatcher could not stop (${String(error)})`));
  }
}

export type { SlotState };
