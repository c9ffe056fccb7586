import { Injectable, Logger } from '@nestjs/common';
import { ForestConfig } from '../config/forest.config';
import { DispatchEventBus } from './dispatch.events';
import { DispatchState, PendingItem } from './dispatch-state';

/** How often the leader looks for executions waiting too long for a worker. */
export const NO_WORKER_SWEEP_MS = 5000;

/**
 * The no_worker sweep, on the leader: every NO_WORKER_SWEEP_MS it announces (once each)
 * the pending executions that have waited for a worker longer than
 * FOREST_ALERT_NO_WORKER_MS. A retry waits from the end of its backoff, not from its
 * creation. Runs while the dispatch state is loaded.
 */
@Injectable()
export class LongWaitSweep {
  private readonly logger = new Logger(LongWaitSweep.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly state: DispatchState,
    private readonly config: ForestConfig,
    private readonly events: DispatchEventBus,
  ) {
    state.onLoaded(() => this.start());
    state.onReset(() => this.stop());
  }

  start(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.sweep(), NO_WORKER_SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Announces executions that have waited for a worker longer than the alert threshold. */
  sweep(now = Date.now()): void {
    if (!this.state.ready) return;
    try {
      for (const group of this.state.pendingGroups()) {
        for (const item of this.state.pendingOf(group)) {
          if (item.reported || now - waitingSince(item) < this.config.alertNoWorkerMs) continue;
          this.report(group, item);
        }
      }
    } catch (error) {
      this.logger.error(`no_worker sweep failed (${String(error)})`);
    }
  }

  private report(group: string, item: PendingItem): void {
    item.reported = true;
    const target = item.entry.target;
    this.events.emit({
      type: 'no_worker',
      executionId: item.entry.executionId,
      jobId: item.entry.jobId,
      group,
      target,
      since: item.entry.since,
      reason:
        item.reason ??
        (this.state.pool.eligible(group, target).length === 0
          ? `no live worker of group ${group} runs target ${target}`
          : `every worker of group ${group} that runs target ${target} is full`),
    });
  }
}

/** When it started waiting for a worker: its entry's `since`, or the end of its backoff. */
function waitingSince(item: PendingItem): number {
  return Math.max(Date.parse(item.entry.since), item.entry.notBeforeMs ?? 0);
}
