import { Clock, TimerHandle } from './clock';
import { decideDue, DueDecision, DueLimits } from './due-fires';
import { FireOutcome, FireWriter } from './fire-writer';
import { Plan, PlanEntry } from './plan';

export interface FireLoopOptions extends DueLimits {
  /**
   * Fires are written this long before their scheduled time, so a burst (a thousand jobs
   * due on the same second) is committed and in the workers' inboxes when it is due, not
   * a few hundred ms after; workers start handlers at the scheduled time. 0: write at the
   * scheduled time.
   */
  lookaheadMs: number;
  /**
   * The longest the loop sleeps, even with nothing due: timers run on a monotonic clock,
   * so waking regularly is how a wall-clock jump (forward: fires became due; backward:
   * nothing to do) is noticed.
   */
  maxSleepMs: number;
  /** After a failed write, wait this long (doubling up to maxRetryDelayMs) before retrying. */
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
}

export interface FireLoopHooks {
  /** A job's fires were written (or found already written). */
  onFired?(entry: PlanEntry, outcome: FireOutcome): void;
  /** A job was found behind by more than the misfire threshold. */
  onMisfire?(entry: PlanEntry, dueMs: number, decision: DueDecision, now: number): void;
  /** A write failed; the job's fires stay due and are decided again after a delay. */
  onWriteError?(entry: PlanEntry, error: unknown): void;
}

/**
 * The leader's firing loop: one timer for the plan's earliest fire time; on wake, every
 * due job is decided (regular fire or misfire policy) and handed to the FireWriter; when
 * the write settles, the job goes back into the plan from its new last fired time. A
 * failed write (store down) leaves the job due at its old time and backs off, so an outage
 * becomes a misfire decided by each job's policy once writes succeed again.
 */
export class FireLoop {
  private running = false;
  private timer?: TimerHandle;
  private timerAt = Number.POSITIVE_INFINITY;
  private retryDelayMs: number;
  private retryUntil = 0;

  constructor(
    private readonly plan: Plan,
    private readonly clock: Clock,
    private readonly writer: FireWriter,
    private readonly options: FireLoopOptions,
    private readonly hooks: FireLoopHooks = {},
  ) {
    this.retryDelayMs = options.minRetryDelayMs;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts firing from the plan as it is (the caller rebases it on fresh job state first). */
  start(): void {
    this.running = true;
    this.retryUntil = 0;
    this.retryDelayMs = this.options.minRetryDelayMs;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.clearTimer();
  }

  /** The plan changed (a job was added, changed or removed): wake earlier if needed. */
  planChanged(): void {
    if (this.running) this.arm();
  }

  private tick(): void {
    this.clearTimer();
    if (!this.running) return;
    const now = this.clock.now();
    if (now >= this.retryUntil) {
      for (const entry of this.plan.takeDue(now + this.options.lookaheadMs)) this.fire(entry, now);
    }
    this.arm();
  }

  private fire(entry: PlanEntry, now: number): void {
    const dueMs = entry.nextMs!;
    const decision = decideDue(
      {
        schedule: entry.schedule,
        policy: entry.policy,
        catchUpWindowMs: entry.catchUpWindowMs,
        dueMs,
      },
      now,
      this.options,
      now + this.options.lookaheadMs,
    );
    if (decision.misfired) this.hooks.onMisfire?.(entry, dueMs, decision, now);
    if (decision.fires.length === 0) {
      // Everything due was a misfire the policy dropped: resume after it.
      this.plan.settle(entry.jobId, now - this.options.misfireThresholdMs - 1);
      return;
    }
    const write = (): void => {
      this.writer.write(entry, decision.fires).then(
        (outcome) => {
          const fired = [...outcome.created, ...outcome.skipped, ...outcome.existing];
          this.plan.recordFired(entry.jobId, Math.max(...fired.map((f) => f.scheduledMs)));
          this.plan.settle(entry.jobId);
          this.retryDelayMs = this.options.minRetryDelayMs;
          this.hooks.onFired?.(entry, outcome);
          this.planChanged();
        },
        (error: unknown) => {
          this.plan.retryLater(entry.jobId, dueMs);
          this.retryUntil = this.clock.now() + this.retryDelayMs;
          this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.options.maxRetryDelayMs);
          this.hooks.onWriteError?.(entry, error);
          this.planChanged();
        },
      );
    };
    // A `forbid` / `replace` fire is decided against what runs when it is due, not a
    // lookahead earlier: written ahead, it would cancel (replace) or skip for (forbid) a
    // run that may still end in time. It waits out the lookahead here, out of the heap;
    // a leader that lost office meanwhile has its write refused by the fence.
    const waitMs =
      entry.concurrency === 'allow'
        ? 0
        : Math.max(...decision.fires.map((f) => f.scheduledMs)) - now;
    if (waitMs > 0) this.clock.setTimer(write, waitMs);
    else write();
  }

  /** One timer, for the earliest due job (or the retry delay), never longer than maxSleepMs. */
  private arm(): void {
    const earliest = this.plan.earliest();
    if (earliest === undefined) {
      this.clearTimer();
      return;
    }
    const now = this.clock.now();
    const wakeAt = Math.min(
      Math.max(earliest - this.options.lookaheadMs, this.retryUntil),
      now + this.options.maxSleepMs,
    );
    if (this.timer !== undefined && this.timerAt <= wakeAt) return;
    this.clearTimer();
    this.timerAt = wakeAt;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.tick();
      },
      Math.max(0, wakeAt - now),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
