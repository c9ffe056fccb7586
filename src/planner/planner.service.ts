import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { MisfirePolicy } from '@forest/protocol';
import { CoordinationStore, getMany } from '@forest/store';
import { Observable, Subject, Subscription } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { NotLeaderError } from '../election/election.errors';
import { LeadershipService } from '../election/leadership.service';
import { ExecutionMetrics, PlannerMetrics } from '../metrics/metric-families';
import { MetricsService } from '../metrics/metrics.service';
import { HistoryMover } from '../history/history-mover';
import { InjectStore } from '../store/store.tokens';
import { Clock, systemClock } from './clock';
import { FireLoop } from './fire-loop';
import { FIRE_PLACEMENT, FirePlacement } from '../dispatch/fire-placement';
import { FireOutcome, FireWriter } from './fire-writer';
import { Plan, PlanEntry } from './plan';
import { PlanFeed } from './plan-feed';

/** Inject a Clock under this token to run the planner on another clock (tests). */
export const PLANNER_CLOCK = Symbol('PLANNER_CLOCK');

const MAX_SLEEP_MS = 1000;
const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
const ERROR_LOG_EVERY_MS = 10_000;

export interface MisfireEvent {
  type: 'misfire';
  jobId: string;
  group: string;
  policy: MisfirePolicy;
  /** The earliest scheduled time that was missed. */
  dueMs: number;
  /** Catch-up executions the policy made (0 under skip). */
  catchUps: number;
  at: number;
}

export interface PlanView {
  entry: PlanEntry;
  previousMs?: number;
  nextMs?: number;
}

/**
 * The planner on this node: keeps the warm plan (every node), and fires it while this
 * node leads. It starts firing on `elected` — after re-reading `jobstate/` so it resumes
 * exactly where the previous leader's last committed fire left off — and stops on
 * `demoted`. Every write is fenced, so a deposed leader's in-flight fires are refused.
 */
@Injectable()
export class PlannerService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PlannerService.name);
  readonly plan = new Plan();
  /** The planner's metrics (forest_planner_*), in the node's registry. */
  readonly metrics: PlannerMetrics;
  private readonly executionMetrics: ExecutionMetrics;
  private readonly detachPlanSize: () => void;
  private readonly clock: Clock;
  private readonly feed: PlanFeed;
  private readonly loop: FireLoop;
  private readonly misfires = new Subject<MisfireEvent>();
  private readonly firedListeners = new Set<(entry: PlanEntry, outcome: FireOutcome) => void>();
  private subscription?: Subscription;
  private generation = 0;
  private lastErrorLog = 0;
  private readonly misfireLog = new MisfireLog(this.logger);

  constructor(
    @InjectStore() store: CoordinationStore,
    private readonly leadership: LeadershipService,
    config: ForestConfig,
    metrics: MetricsService,
    @Optional() @Inject(PLANNER_CLOCK) clock?: Clock,
    @Optional() @Inject(FIRE_PLACEMENT) placement?: FirePlacement,
    @Optional() private readonly mover?: HistoryMover,
  ) {
    this.clock = clock ?? systemClock;
    this.metrics = metrics.planner;
    this.executionMetrics = metrics.executions;
    this.detachPlanSize = this.metrics.plannedJobs.sampleFrom((gauge) => gauge.set(this.plan.size));
    this.feed = new PlanFeed(store, this.plan, this.clock, () => this.loop.planChanged());
    const writer = new FireWriter({
      commit: (request) => leadership.fencedTxn(request),
      read: (keys) => getMany(store, keys),
      fencingToken: () => leadership.fencingToken,
      nodeId: config.nodeId,
      now: () => this.clock.now(),
      placement,
      hasFired: (jobId) => this.plan.lastFiredOf(jobId) !== undefined,
      onFinal: (records, revision) => this.mover?.moveSoon(records, revision),
    });
    this.loop = new FireLoop(
      this.plan,
      this.clock,
      writer,
      {
        misfireThresholdMs: config.misfireThresholdMs,
        maxCatchUpFires: config.misfireMaxFires,
        lookaheadMs: config.fireLookaheadMs,
        maxSleepMs: MAX_SLEEP_MS,
        minRetryDelayMs: MIN_RETRY_MS,
        maxRetryDelayMs: MAX_RETRY_MS,
      },
      {
        onFired: (entry, outcome) => this.recordFired(entry, outcome),
        onMisfire: (entry, dueMs, decision, now) =>
          this.onMisfire({
            type: 'misfire',
            jobId: entry.jobId,
            group: entry.group,
            policy: entry.policy,
            dueMs,
            catchUps: decision.fires.filter((fire) => fire.catchUp).length,
            at: now,
          }),
        onWriteError: (entry, error) => this.onWriteError(entry, error),
      },
    );
  }

  /** True while this node is the leader and its fire loop runs. */
  get isFiring(): boolean {
    return this.loop.isRunning;
  }

  /** Misfires as they are decided (for alerting). */
  get misfires$(): Observable<MisfireEvent> {
    return this.misfires.asObservable();
  }

  /** Calls `listener` after each job's fires are committed; returns an unsubscribe. */
  addFiredListener(listener: (entry: PlanEntry, outcome: FireOutcome) => void): () => void {
    this.firedListeners.add(listener);
    return () => this.firedListeners.delete(listener);
  }

  onModuleInit(): void {
    // Subscribe before any bootstrap hook runs: the election may be won during its own.
    this.subscription = this.leadership.events$.subscribe((event) => {
      if (event.type === 'elected') {
        this.startFiring().catch((error: unknown) =>
          this.logger.error(`could not start firing (${String(error)})`),
        );
      } else this.stopFiring();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.feed.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    this.detachPlanSize();
    this.stopFiring();
    await this.feed.stop();
  }

  /** Every planned job with its previous and next fire time as this node sees it. */
  view(): PlanView[] {
    const now = this.clock.now();
    const firing = this.isFiring;
    const views: PlanView[] = [];
    for (const entry of this.plan.values()) {
      views.push({
        entry,
        previousMs: this.plan.lastFiredOf(entry.jobId),
        // The leader shows what it will fire next (possibly overdue while being written);
        // a follower, what would fire next from now.
        nextMs: firing ? entry.nextMs : this.plan.nextFireFrom(entry, now),
      });
    }
    return views;
  }

  private async startFiring(): Promise<void> {
    const generation = ++this.generation;
    await this.feed.ready();
    for (let delay = MIN_RETRY_MS; ; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      if (generation !== this.generation) return;
      try {
        await this.feed.refreshJobStates();
        break;
      } catch (error) {
        this.logger.warn(`cannot read job states before firing (${String(error)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    if (generation !== this.generation || !this.leadership.isLeader) return;
    this.plan.rebaseAll();
    this.loop.start();
    this.metrics.firing.set(1);
    this.logger.log(
      `firing ${this.plan.size} jobs (fencing token ${this.leadership.fencingToken})`,
    );
  }

  private stopFiring(): void {
    this.generation++;
    if (!this.loop.isRunning) return;
    this.loop.stop();
    this.metrics.firing.set(0);
    this.logger.log('stopped firing');
  }

  private recordFired(entry: PlanEntry, outcome: FireOutcome): void {
    const group = entry.group;
    for (const fire of outcome.created) {
      this.metrics.fires.inc({ group, kind: fire.catchUp ? 'catch_up' : 'regular' });
      this.metrics.fireLag.observe(Math.max(0, outcome.committedAt - fire.scheduledMs) / 1000);
    }
    if (outcome.skipped.length > 0) {
      this.metrics.skips.inc({ group }, outcome.skipped.length);
      this.executionMetrics.finished.inc({ group, status: 'skipped' }, outcome.skipped.length);
    }
    if (outcome.replaced) {
      this.executionMetrics.finished.inc({ group, status: 'cancelled' }, outcome.replaced);
    }
    if (outcome.existing.length > 0) this.metrics.duplicatesPrevented.inc(outcome.existing.length);
    for (const listener of this.firedListeners) listener(entry, outcome);
  }

  private onMisfire(event: MisfireEvent): void {
    this.metrics.misfires.inc({ policy: event.policy });
    this.misfires.next(event);
    this.misfireLog.add(event);
  }

  private onWriteError(entry: PlanEntry, error: unknown): void {
    this.metrics.writeErrors.inc();
    if (error instanceof NotLeaderError) return; // the demotion is logged by the election
    const now = this.clock.now();
    if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.logger.warn(`fire of job ${entry.jobId} not written (${String(error)}); retrying`);
  }
}

const MISFIRE_LOG_EVERY_MS = 1000;

/**
 * Misfires as one summary line per burst (at most one a second): after an outage thousands
 * of jobs can be behind at once, and a line per job would bury everything else.
 */
class MisfireLog {
  private pending: MisfireEvent[] = [];
  private timer?: NodeJS.Timeout;
  private lastFlush = 0;

  constructor(private readonly logger: Logger) {}

  add(event: MisfireEvent): void {
    this.pending.push(event);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + MISFIRE_LOG_EVERY_MS - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    this.lastFlush = Date.now();
    const events = this.pending;
    this.pending = [];
    const byPolicy = new Map<string, number>();
    for (const event of events) byPolicy.set(event.policy, (byPolicy.get(event.policy) ?? 0) + 1);
    const worst = events.reduce((a, b) => (b.at - b.dueMs > a.at - a.dueMs ? b : a));
    const catchUps = events.reduce((sum, event) => sum + event.catchUps, 0);
    const policies = [...byPolicy].map(([policy, count]) => `${policy} ${count}`).join(', ');
    this.logger.warn(
      `misfire: ${events.length} job(s) were behind (${policies}); ${catchUps} catch-up ` +
        `execution(s) made; most behind: job ${worst.jobId}, due ` +
        `${new Date(worst.dueMs).toISOString()}, ${worst.at - worst.dueMs} ms late`,
    );
  }
}
