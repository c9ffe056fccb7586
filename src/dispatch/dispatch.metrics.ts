import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { MetricsService } from '../metrics/metrics.service';
import { DispatchEventBus } from './dispatch.events';
import { DispatchState, PendingItem } from './dispatch-state';
import { WorkerPool } from './worker-pool';

/**
 * Feeds the dispatch metrics: the per-group gauges (pending depth, oldest pending age,
 * workers, slots, free slots) are read from the leader's DispatchState when scraped — on
 * a follower the state is empty and so are the gauges — and the executions the leader
 * finishes itself (lost, timed out past their deadline) and their retries are counted
 * from the dispatch events.
 */
@Injectable()
export class DispatchMetricsFeed implements OnModuleInit, OnModuleDestroy {
  private readonly detach: (() => void)[] = [];
  private subscription?: Subscription;

  constructor(
    private readonly metrics: MetricsService,
    private readonly state: DispatchState,
    private readonly bus: DispatchEventBus,
  ) {}

  onModuleInit(): void {
    const { dispatch, executions } = this.metrics;
    const pool = this.state.pool;
    this.detach.push(
      dispatch.pending.sampleFrom((gauge) => {
        for (const group of this.state.pendingGroups()) {
          gauge.set({ group }, countOf(this.state.pendingOf(group)));
        }
      }),
      dispatch.oldestPendingAge.sampleFrom((gauge) => {
        const now = Date.now();
        for (const group of this.state.pendingGroups()) {
          const oldest = oldestWaitStart(this.state.pendingOf(group), now);
          if (oldest !== undefined) gauge.set({ group }, Math.max(0, now - oldest) / 1000);
        }
      }),
      dispatch.workers.sampleFrom((gauge) =>
        forEachGroup(pool, (group, workers) => gauge.set({ group }, workers.length)),
      ),
      dispatch.slots.sampleFrom((gauge) =>
        forEachGroup(pool, (group, workers) =>
          gauge.set(
            { group },
            workers.reduce((sum, w) => sum + w.record.capacity, 0),
          ),
        ),
      ),
      dispatch.freeSlots.sampleFrom((gauge) =>
        forEachGroup(pool, (group, workers) =>
          gauge.set(
            { group },
            workers.reduce((sum, w) => sum + Math.max(0, w.record.capacity - w.inbox.size), 0),
          ),
        ),
      ),
    );
    this.subscription = this.bus.events$.subscribe((event) => {
      if (event.type === 'execution_lost' || event.type === 'execution_timed_out') {
        const { group, status } = event.execution;
        executions.recordFinished(group, status, event.retry !== undefined);
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    for (const detach of this.detach.splice(0)) detach();
  }
}

function countOf(items: Iterable<PendingItem>): number {
  let count = 0;
  for (const item of items) if (item) count++;
  return count;
}

/**
 * When the longest-waiting dispatchable item began to wait (epoch ms): its `since`, or for
 * a retry the end of its backoff. Retries still in their backoff are not waiting yet.
 */
export function oldestWaitStart(items: Iterable<PendingItem>, now: number): number | undefined {
  let oldest: number | undefined;
  for (const { entry } of items) {
    const since = Date.parse(entry.since);
    const start = Math.max(Number.isNaN(since) ? now : since, entry.notBeforeMs ?? 0);
    if (start > now) continue;
    if (oldest === undefined || start < oldest) oldest = start;
  }
  return oldest;
}

function forEachGroup(
  pool: WorkerPool,
  set: (group: string, workers: ReturnType<WorkerPool['workersOf']>) => void,
): void {
  for (const group of pool.groupsWithWorkers()) set(group, pool.workersOf(group));
}
