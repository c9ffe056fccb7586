import {
  ConcurrencyPolicy,
  JobDispatch,
  JobRecord,
  JobRetry,
  MisfirePolicy,
} from '@forest/protocol';
import { CronSchedule } from '../schedule/cron-schedule';
import { FireHeap } from './fire-heap';
import { ScheduleCache } from './schedule-cache';

/** What the plan keeps per active job: enough to fire it, not the whole record. */
export interface PlanEntry {
  readonly jobId: string;
  readonly name: string;
  readonly group: string;
  readonly target: string;
  readonly params: unknown;
  readonly timeoutMs: number;
  readonly dispatch: JobDispatch;
  readonly retry: JobRetry;
  readonly concurrency: ConcurrencyPolicy;
  readonly cron: string;
  readonly timezone: string;
  readonly schedule: CronSchedule;
  readonly policy: MisfirePolicy;
  readonly catchUpWindowMs: number;
  /** The job's store revision: older watch events (replays after a load) are ignored. */
  readonly modRevision: number;
  /** No scheduled time at or before this fires (the job became active then). */
  readonly activeSinceMs: number;
  /** In-memory floor: a live schedule change or a skipped misfire moves it to "now". */
  floorMs: number;
  /** The earliest unfired scheduled time; undefined when the schedule has no more. */
  nextMs: number | undefined;
  /** A fire of this job is being written; it is out of the heap until that settles. */
  inFlight: boolean;
}

/**
 * The warm plan: every active job with its schedule and next fire time, the last fired
 * scheduled time per job (from `jobstate/`), and the min-heap of next fire times. Every
 * node keeps one; only the leader pops from the heap. All next times come from one rule,
 * `nextAfter(max(last fired, active since, floor))`, so a job never fires a scheduled
 * time at or before one already fired, whatever the wall clock does.
 */
export class Plan {
  private readonly entries = new Map<string, PlanEntry>();
  /** Last fired scheduled time per job id, for every job (also paused or not yet seen). */
  private readonly lastFired = new Map<string, number>();
  /**
   * While the feed replays the watch over its paged load: the revision of paused and
   * deleted jobs (active ones keep theirs in their entry), so a replayed older event
   * cannot revive them.
   */
  private replayRevisions?: Map<string, number>;
  private heap = new FireHeap();
  private readonly schedules = new ScheduleCache();

  get size(): number {
    return this.entries.size;
  }

  get(jobId: string): PlanEntry | undefined {
    return this.entries.get(jobId);
  }

  values(): IterableIterator<PlanEntry> {
    return this.entries.values();
  }

  lastFiredOf(jobId: string): number | undefined {
    return this.lastFired.get(jobId);
  }

  /** The earliest queued fire time. */
  earliest(): number | undefined {
    return this.heap.peek()?.fireAt;
  }

  /**
   * Applies a job write seen at `modRevision` (load or watch). Older than what the plan
   * has: ignored. Paused: leaves the plan. Returns false when the record was ignored.
   * Throws InvalidScheduleError if the schedule does not compile.
   */
  applyJob(job: JobRecord, modRevision: number, now: number): boolean {
    if (!this.isNewer(job.id, modRevision)) return false;
    const current = this.entries.get(job.id);
    if (job.state !== 'active') {
      this.replayRevisions?.set(job.id, modRevision);
      this.drop(job.id);
      return true;
    }
    this.replayRevisions?.delete(job.id);
    const schedule = this.schedules.get(job.schedule.cron, job.schedule.timezone);
    const scheduleChanged =
      current !== undefined &&
      (current.cron !== job.schedule.cron || current.timezone !== job.schedule.timezone);
    const entry: PlanEntry = {
      jobId: job.id,
      name: job.name,
      group: job.group,
      target: job.target,
      params: job.params,
      timeoutMs: job.timeoutMs,
      dispatch: sharedDispatch(job.dispatch),
      retry: job.retry,
      concurrency: job.concurrency,
      cron: job.schedule.cron,
      timezone: job.schedule.timezone,
      schedule,
      policy: job.misfire.policy,
      catchUpWindowMs: job.misfire.catchUpWindowMs,
      modRevision,
      activeSinceMs: Date.parse(job.activeSince ?? job.createdAt),
      // A new schedule starts from now: its past times were never due.
      floorMs: scheduleChanged ? now : (current?.floorMs ?? 0),
      nextMs: undefined,
      inFlight: current?.inFlight ?? false,
    };
    this.entries.set(job.id, entry);
    this.reschedule(entry);
    return true;
  }

  /** Applies a job delete seen at `revision`. */
  removeJob(jobId: string, revision: number): void {
    if (!this.isNewer(jobId, revision)) return;
    this.replayRevisions?.set(jobId, revision);
    this.drop(jobId);
    this.lastFired.delete(jobId);
  }

  /**
   * A paged load is not one snapshot: pages are read at increasing revisions, and the
   * watch that follows starts at the first page's revision, so it replays changes some
   * pages already show. Between begin and end, events older than what was seen for the
   * same job are ignored.
   */
  beginReplay(): void {
    this.replayRevisions = new Map();
  }

  endReplay(): void {
    this.replayRevisions = undefined;
  }

  /** Forgets every job (a full reload follows). */
  clear(): void {
    this.entries.clear();
    this.lastFired.clear();
    this.heap = new FireHeap();
  }

  /** Removes active jobs last written before `revision` that a full reload did not see. */
  removeUnseen(seen: ReadonlySet<string>, revision: number): void {
    for (const entry of [...this.entries.values()]) {
      if (!seen.has(entry.jobId) && entry.modRevision < revision) this.drop(entry.jobId);
    }
  }

  private isNewer(jobId: string, revision: number): boolean {
    const seen = this.replayRevisions?.get(jobId) ?? this.entries.get(jobId)?.modRevision ?? 0;
    return revision > seen;
  }

  /** Records a fired scheduled time (own fire or `jobstate/` watch); only moves forward. */
  recordFired(jobId: string, scheduledMs: number): void {
    const last = this.lastFired.get(jobId);
    if (last !== undefined && last >= scheduledMs) return;
    this.lastFired.set(jobId, scheduledMs);
    const entry = this.entries.get(jobId);
    if (entry && !entry.inFlight && entry.nextMs !== undefined && entry.nextMs <= scheduledMs) {
      this.reschedule(entry);
    }
  }

  /** Recomputes every entry's next time from its last fire: what a new leader does first. */
  rebaseAll(): void {
    for (const entry of this.entries.values()) {
      if (!entry.inFlight) this.reschedule(entry);
    }
  }

  /** Removes and returns the entries due at `now`, earliest first, marked in flight. */
  takeDue(now: number): PlanEntry[] {
    const due: PlanEntry[] = [];
    for (const { jobId } of this.heap.popDue(now)) {
      const entry = this.entries.get(jobId);
      if (!entry) continue;
      entry.inFlight = true;
      due.push(entry);
    }
    return due;
  }

  /** A fire of `jobId` settled (written, refused or failed): requeue it from its state. */
  settle(jobId: string, floorMs?: number): void {
    const entry = this.entries.get(jobId);
    if (!entry) return;
    entry.inFlight = false;
    if (floorMs !== undefined) entry.floorMs = Math.max(entry.floorMs, floorMs);
    this.reschedule(entry);
  }

  /** Puts an entry that could not fire back into the heap at the time it was due. */
  retryLater(jobId: string, dueMs: number): void {
    const entry = this.entries.get(jobId);
    if (!entry) return;
    entry.inFlight = false;
    entry.nextMs = dueMs;
    this.heap.upsert(jobId, dueMs);
  }

  /** The next fire after max(base, `notBefore`), without changing the plan (for views). */
  nextFireFrom(entry: PlanEntry, notBefore: number): number | undefined {
    return entry.schedule.nextAfter(Math.max(this.baseOf(entry), notBefore));
  }

  private baseOf(entry: PlanEntry): number {
    const last = this.lastFired.get(entry.jobId) ?? Number.NEGATIVE_INFINITY;
    return Math.max(last, entry.activeSinceMs, entry.floorMs);
  }

  private reschedule(entry: PlanEntry): void {
    if (entry.inFlight) return; // settle() requeues it
    entry.nextMs = entry.schedule.nextAfter(this.baseOf(entry));
    if (entry.nextMs === undefined) this.heap.remove(entry.jobId);
    else this.heap.upsert(entry.jobId, entry.nextMs);
  }

  private drop(jobId: string): void {
    this.entries.delete(jobId);
    this.heap.remove(jobId);
  }
}

/**
 * Most jobs use a strategy without options: they share one frozen object per strategy
 * name instead of each holding its own (the plan is kept for every job on every node).
 */
const optionless = new Map<string, JobDispatch>();
function sharedDispatch(dispatch: JobDispatch): JobDispatch {
  if (Object.keys(dispatch.options ?? {}).length > 0) return dispatch;
  let shared = optionless.get(dispatch.strategy);
  if (!shared) {
    shared = Object.freeze({ strategy: dispatch.strategy, options: Object.freeze({}) });
    optionless.set(dispatch.strategy, shared);
  }
  return shared;
}
