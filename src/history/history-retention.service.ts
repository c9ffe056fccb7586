import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ForestConfig } from '../config/forest.config';
import { LeaderInterval, LeaderTerm } from '../election/leader-interval';
import { LeadershipService } from '../election/leadership.service';
import { ExecutionHistory, ExecutionLogs, PruneReport } from './history.port';
import { EXECUTION_LOGS, InjectHistory } from './history.tokens';

const HOUR_MS = 3_600_000;
const MIB = 1024 * 1024;

/**
 * History retention, on the leader every FOREST_RETENTION_INTERVAL_S: finished executions
 * beyond FOREST_EXECUTION_KEEP_PER_JOB per job or older than FOREST_EXECUTION_MAX_AGE_H
 * are deleted by the history adapter (in SQL for PostgreSQL), and history kept in the
 * coordination store is also held under FOREST_HISTORY_STORE_MAX_MB, oldest first, so
 * the default settings can never fill etcd's quota. Logs older than the age limit go too.
 */
@Injectable()
export class HistoryRetentionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HistoryRetentionService.name);
  private readonly interval: LeaderInterval;

  constructor(
    @InjectHistory() private readonly history: ExecutionHistory,
    @Inject(EXECUTION_LOGS) private readonly logs: ExecutionLogs | null,
    leadership: LeadershipService,
    private readonly config: ForestConfig,
  ) {
    this.interval = new LeaderInterval(
      leadership,
      () => this.config.retentionIntervalS * 1000,
      (term) => this.pass(term).then(() => undefined),
    );
  }

  onModuleInit(): void {
    this.interval.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.interval.stop();
  }

  /** One pass; never throws (a failed pass is logged and retried after the interval). */
  async pass(
    term: LeaderTerm = { stopped: false },
    nowMs = Date.now(),
  ): Promise<PruneReport | undefined> {
    if (term.stopped) return undefined;
    const cutoffMs = nowMs - this.config.executionMaxAgeH * HOUR_MS;
    const started = Date.now();
    try {
      const report = await this.history.prune({
        keepPerJob: this.config.executionKeepPerJob,
        cutoffMs,
        maxBytes: this.history.kind === 'store' ? this.config.historyStoreMaxMb * MIB : undefined,
      });
      const logLines = this.logs ? await this.logs.prune(cutoffMs) : 0;
      const { age, count, size } = report.deleted;
      const summary =
        `history retention (${this.history.kind}): deleted ${age + count + size} finished ` +
        `executions (${count} over ${this.config.executionKeepPerJob} per job, ${age} older ` +
        `than ${this.config.executionMaxAgeH} h, ${size} over the size budget), ${logLines} ` +
        `log lines; ${report.records} kept` +
        (report.bytes === undefined ? '' : ` (${Math.round(report.bytes / MIB)} MiB)`) +
        `, ${Date.now() - started} ms`;
      if (age + count + size + logLines > 0) this.logger.log(summary);
      else this.logger.debug(summary);
      return report;
    } catch (error) {
      this.logger.warn(`history retention failed (${String(error)}); next pass in the interval`);
      return undefined;
    }
  }
}
