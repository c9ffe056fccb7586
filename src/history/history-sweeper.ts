import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore, rangePages } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { LeaderInterval, LeaderTerm } from '../election/leader-interval';
import { LeadershipService } from '../election/leadership.service';
import { isFinal } from '../execution/execution-record';
import { parseExecution } from '../execution/execution.repository';
import { InjectStore } from '../store/store.tokens';
import { FinishedExecution, HistoryMover } from './history-mover';

/**
 * Final executions younger than this are left to the writer that finished them (it moves
 * them within milliseconds); the sweeper takes only what is left behind.
 */
export const SWEEP_MIN_AGE_MS = 5_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * On the leader, every FOREST_HISTORY_SWEEP_S: finds final executions still in the store
 * (their writer crashed between the history append and the delete, or the history
 * database was unavailable) and moves them. `executions/` holds live executions only, so
 * a pass reads little; it yields to the event loop between pages.
 */
@Injectable()
export class HistorySweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HistorySweeper.name);
  private readonly interval: LeaderInterval;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly mover: HistoryMover,
    leadership: LeadershipService,
    private readonly config: ForestConfig,
  ) {
    this.interval = new LeaderInterval(
      leadership,
      () => this.config.historySweepS * 1000,
      (term) => this.pass(term).then(() => undefined),
    );
  }

  onModuleInit(): void {
    this.interval.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.interval.stop();
  }

  /** One pass; never throws. Public for tests. */
  async pass(term: LeaderTerm = { stopped: false }, nowMs = Date.now()): Promise<number> {
    let moved = 0;
    try {
      for await (const page of rangePages(this.store, Keyspace.executions)) {
        if (term.stopped) break;
        const left: FinishedExecution[] = [];
        for (const kv of page.kvs) {
          const stored = parseExecution(kv);
          if (!stored || !isFinal(stored.record.status)) continue;
          const finishedMs = Date.parse(stored.record.finishedAt ?? '');
          if (nowMs - finishedMs < SWEEP_MIN_AGE_MS) continue;
          left.push({ record: stored.record, modRevision: kv.modRevision });
        }
        if (left.length > 0) moved += (await this.mover.move(left)).moved;
        await yieldToEventLoop();
      }
    } catch (error) {
      this.logger.warn(`history sweep failed (${String(error)}); next pass in the interval`);
    }
    if (moved > 0)
      this.logger.log(`history sweep moved ${moved} finished execution(s) left in the store`);
    return moved;
  }
}
