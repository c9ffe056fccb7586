import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { NotLeaderError } from '../election/election.errors';
import { LeaderInterval, LeaderTerm } from '../election/leader-interval';
import { LeadershipService } from '../election/leadership.service';
import { InjectStore } from '../store/store.tokens';
import { auditEntryExpires, AuditRetentionPolicy } from './audit-retention';

const HOUR_MS = 3_600_000;
/** Keys read per page, and deleted per fenced txn (etcd allows 128 ops per txn). */
export const AUDIT_RETENTION_PAGE = 100;

export interface AuditRetentionReport {
  total: number;
  deleted: number;
  /** The pass ended early: demoted, or the module is shutting down. */
  stopped: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Audit log retention, on the leader only: every FOREST_RETENTION_INTERVAL_S it deletes
 * the oldest entries beyond FOREST_AUDIT_KEEP and those older than FOREST_AUDIT_MAX_AGE_H,
 * oldest first, one page at a time, in fenced txns (a deposed leader deletes nothing).
 * Keys sort by time, so a pass reads only the entries it deletes and the first one it keeps.
 */
@Injectable()
export class AuditRetentionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetentionService.name);
  private readonly interval: LeaderInterval;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
  ) {
    this.interval = new LeaderInterval(
      leadership,
      () => this.config.retentionIntervalS * 1000,
      (term) => this.enforce(Date.now(), term).then(() => undefined),
    );
  }

  onModuleInit(): void {
    this.interval.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.interval.stop();
  }

  /**
   * One pass at `nowMs` (the timer's, or a test's). Never throws: a failed pass is logged
   * and the next one starts after the interval.
   */
  async enforce(
    nowMs = Date.now(),
    term: LeaderTerm = { stopped: false },
  ): Promise<AuditRetentionReport> {
    const policy: AuditRetentionPolicy = {
      keep: this.config.auditKeep,
      cutoffMs: nowMs - this.config.auditMaxAgeH * HOUR_MS,
    };
    const report: AuditRetentionReport = { total: 0, deleted: 0, stopped: false };
    try {
      await this.sweep(policy, term, report);
    } catch (error) {
      if (error instanceof NotLeaderError) report.stopped = true;
      else
        this.logger.warn(
          `audit retention pass failed (${String(error)}); next pass in the interval`,
        );
    }
    const summary =
      `audit retention: deleted ${report.deleted} of ${report.total} entries (keep ` +
      `${policy.keep}, at most ${this.config.auditMaxAgeH} h old)` +
      (report.stopped ? '; stopped early (no longer leader or shutting down)' : '');
    if (report.deleted > 0) this.logger.log(summary);
    else this.logger.debug(summary);
    return report;
  }

  private async sweep(
    policy: AuditRetentionPolicy,
    term: LeaderTerm,
    report: AuditRetentionReport,
  ): Promise<void> {
    report.total = (await this.store.range(Keyspace.audit, { countOnly: true })).count;
    let index = 0;
    let after: string | undefined;
    for (;;) {
      if (term.stopped) {
        report.stopped = true;
        return;
      }
      const page = await this.store.range(Keyspace.audit, { after, limit: AUDIT_RETENTION_PAGE });
      const doomed: string[] = [];
      let reachedKept = false;
      for (const kv of page.kvs) {
        if (!auditEntryExpires(kv.key, index, report.total, policy)) {
          reachedKept = true;
          break;
        }
        doomed.push(kv.key);
        index++;
      }
      if (doomed.length > 0) {
        await this.leadership.fencedTxn({
          compare: [],
          success: doomed.map((key) => ({ type: 'delete' as const, key })),
        });
        report.deleted += doomed.length;
      }
      if (reachedKept || !page.more || page.next === undefined) return;
      after = page.next;
      await yieldToEventLoop();
    }
  }
}
