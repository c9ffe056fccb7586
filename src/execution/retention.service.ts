import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { Subscription } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { NotLeaderError } from '../election/election.errors';
import { LeadershipService } from '../election/leadership.service';
import { afterJob, execKeyTimeMs, parseExecutionKey } from './execution-query';
import {
  EXECUTION_PAGE,
  ExecutionRepository,
  MAX_DELETES_PER_TXN,
  parseExecution,
} from './execution.repository';
import {
  canStopScanning,
  DeleteReason,
  JobRetentionWindow,
  RetentionDecision,
  RetentionPolicy,
} from './retention';

const HOUR_MS = 3_600_000;

/** What one retention pass did. */
export interface RetentionReport {
  jobs: number;
  scanned: number;
  deleted: Record<DeleteReason, number>;
  /** Deletes refused because the record changed after it was read (retried next pass). */
  skipped: number;
  /** The pass ended early: demoted, or the module is shutting down. */
  stopped: boolean;
}

/** One leadership term's retention; `stopped` ends its passes at the next page. */
interface Term {
  stopped: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Execution retention, on the leader only: every FOREST_RETENTION_INTERVAL_S it walks
 * `executions/` one job at a time and one small page at a time (yielding to the event loop
 * between pages) and deletes finished executions over the per-job cap or past the maximum
 * age, in fenced txns of at most 100 deletes. Unfinished executions are never touched.
 *
 * Per job it first learns the key count (from the first page): a job within the cap only
 * needs its oldest keys read, up to the age cutoff; only a job over the cap is read whole.
 * Passes never overlap; a pass stops at the next page when this node is demoted or the
 * module shuts down.
 */
@Injectable()
export class RetentionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private subscription?: Subscription;
  private term?: Term;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly executions: ExecutionRepository,
    private readonly leadership: LeadershipService,
    private readonly config: ForestConfig,
  ) {}

  onModuleInit(): void {
    this.subscription = this.leadership.events$.subscribe((event) => {
      if (event.type === 'elected') this.start();
      else this.stop();
    });
    if (this.leadership.isLeader) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    this.stop();
    await this.running;
  }

  private start(): void {
    this.stop();
    const term: Term = { stopped: false };
    this.term = term;
    this.schedule(term);
  }

  private stop(): void {
    if (this.term) this.term.stopped = true;
    this.term = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(term: Term): void {
    if (term.stopped) return;
    this.timer = setTimeout(() => {
      const pass = this.pass(term, Date.now()).finally(() => {
        if (this.running === pass) this.running = undefined;
        this.schedule(term);
      });
      this.running = pass;
    }, this.config.retentionIntervalS * 1000);
    this.timer.unref();
  }

  /** Never throws: a failed pass is logged and the next one starts after the interval. */
  private async pass(term: Term, nowMs: number): Promise<RetentionReport> {
    const started = Date.now();
    const policy: RetentionPolicy = {
      keepPerJob: this.config.executionKeepPerJob,
      cutoffMs: nowMs - this.config.executionMaxAgeH * HOUR_MS,
    };
    const sweep = new Sweep(this.executions, this.leadership, term, policy, this.logger);
    try {
      await sweep.run();
    } catch (error) {
      if (error instanceof NotLeaderError) {
        sweep.report.stopped = true;
      } else {
        this.logger.warn(`retention pass failed (${String(error)}); next pass in the interval`);
      }
    }
    const { report } = sweep;
    const deleted = report.deleted.count + report.deleted.age;
    const summary =
      `retention: deleted ${deleted} finished executions (${report.deleted.count} over the ` +
      `cap of ${policy.keepPerJob} per job, ${report.deleted.age} finished over ` +
      `${this.config.executionMaxAgeH} h ago); ${report.jobs} jobs, ${report.scanned} ` +
      `executions read, ${Date.now() - started} ms` +
      (report.skipped ? `; ${report.skipped} changed since read, left for the next pass` : '') +
      (report.stopped ? '; stopped early (no longer leader or shutting down)' : '');
    if (deleted > 0 || report.skipped > 0) this.logger.log(summary);
    else this.logger.debug(summary);
    return report;
  }
}

/** One pass over `executions/`. */
class Sweep {
  readonly report: RetentionReport = {
    jobs: 0,
    scanned: 0,
    deleted: { count: 0, age: 0 },
    skipped: 0,
    stopped: false,
  };
  private batch: RetentionDecision[] = [];

  constructor(
    private readonly executions: ExecutionRepository,
    private readonly leadership: LeadershipService,
    private readonly term: Term,
    private readonly policy: RetentionPolicy,
    private readonly logger: Logger,
  ) {}

  async run(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      if (!this.active()) return;
      // The first key after the previous job names the next job (keys group by job).
      const next = await this.executions.page(Keyspace.executions, after, 1);
      const key = next.kvs[0]?.key;
      if (key === undefined) break;
      const parts = parseExecutionKey(key);
      if (!parts) {
        after = key; // not an execution key: step over it
        continue;
      }
      await this.job(parts.jobId);
      after = afterJob(parts.jobId);
      await yieldToEventLoop();
    }
    await this.flush();
  }

  /** One job's keys, oldest first, page by page. */
  private async job(jobId: string): Promise<void> {
    this.report.jobs++;
    const prefix = Keyspace.jobExecutions(jobId);
    const window = new JobRetentionWindow(this.policy);
    const decided: Record<DeleteReason, number> = { count: 0, age: 0 };
    try {
      await this.scanJob(prefix, window, decided);
    } finally {
      if (decided.count + decided.age > 0) {
        this.logger.debug(
          `retention job=${jobId}: ${decided.count} over the cap, ${decided.age} too old`,
        );
      }
    }
  }

  private async scanJob(
    prefix: string,
    window: JobRetentionWindow,
    decided: Record<DeleteReason, number>,
  ): Promise<void> {
    let total: number | undefined;
    let after: string | undefined;
    for (;;) {
      if (!this.active()) return;
      const page = await this.executions.page(prefix, after, EXECUTION_PAGE);
      // The first page's count is every key of the job (later counts are after `after`).
      total ??= page.count;
      for (const kv of page.kvs) {
        const execKey = kv.key.slice(prefix.length);
        if (canStopScanning(total, execKeyTimeMs(execKey), this.policy)) return;
        this.report.scanned++;
        const stored = parseExecution(kv);
        if (!stored) continue;
        const { status, finishedAt } = stored.record;
        for (const decision of window.add({
          key: kv.key,
          modRevision: kv.modRevision,
          status,
          finishedAt,
        })) {
          decided[decision.reason]++;
          await this.delete(decision);
        }
      }
      if (!page.more || page.next === undefined) return;
      after = page.next;
      await yieldToEventLoop();
    }
  }

  private async delete(decision: RetentionDecision): Promise<void> {
    this.batch.push(decision);
    if (this.batch.length >= MAX_DELETES_PER_TXN) await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0 || !this.active()) return;
    const result = await this.leadership.fencedTxn(this.executions.deletionTxn(batch));
    if (!result.succeeded) {
      this.report.skipped += batch.length;
      return;
    }
    for (const { reason } of batch) this.report.deleted[reason]++;
  }

  private active(): boolean {
    if (this.term.stopped) this.report.stopped = true;
    return !this.term.stopped;
  }
}
