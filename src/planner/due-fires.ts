import { MisfirePolicy } from '@forest/protocol';
import { CronSchedule } from '../schedule/cron-schedule';

export interface DueFire {
  scheduledMs: number;
  /** A misfire catch-up rather than a (possibly slightly late) regular fire. */
  catchUp: boolean;
}

export interface DueJob {
  schedule: CronSchedule;
  policy: MisfirePolicy;
  catchUpWindowMs: number;
  /** The job's earliest unfired scheduled time (its heap entry). */
  dueMs: number;
}

export interface DueLimits {
  /** A fire later than this is a misfire: the job's policy decides what happens to it. */
  misfireThresholdMs: number;
  /** At most this many catch-up fires per job per misfire (fire_all). */
  maxCatchUpFires: number;
}

export interface DueDecision {
  /** What to fire now, ascending by scheduled time. */
  fires: DueFire[];
  /** Some scheduled times were older than the misfire threshold. */
  misfired: boolean;
  /** The first scheduled time after the horizon (undefined: the schedule has no more). */
  nextMs: number | undefined;
}

/**
 * Decides what a due job fires at `now`. Scheduled times from `dueMs` up to `now` split in
 * two: those within the misfire threshold are regular fires (a busy event loop or a batch
 * in flight made them a little late); older ones are misfires and follow the job's policy
 * inside its catch-up window: `skip` drops them, `fire_once` fires the latest one,
 * `fire_all` fires every one (the latest `maxCatchUpFires`).
 *
 * Everything derives from the schedule, `dueMs` (from the job's last fired time) and `now`,
 * so two leaders deciding for the same job pick the same scheduled times and the execution
 * key dedupes. The work is bounded by the fires it returns, not by the outage's length.
 */
export function decideDue(
  job: DueJob,
  now: number,
  limits: DueLimits,
  /** Fire ahead up to here (now + the fire lookahead); later times wait. */
  horizon = now,
): DueDecision {
  const lateBefore = now - limits.misfireThresholdMs;
  const fires: DueFire[] = [];
  let misfired = false;
  let at: number | undefined = job.dueMs;
  if (at < lateBefore) {
    misfired = true;
    const from = Math.max(job.dueMs, now - job.catchUpWindowMs);
    if (job.policy !== 'skip' && from < lateBefore) {
      const count = job.policy === 'fire_once' ? 1 : limits.maxCatchUpFires;
      for (const scheduledMs of latestFires(job.schedule, from, lateBefore - 1, count)) {
        fires.push({ scheduledMs, catchUp: true });
      }
    }
    at = job.schedule.nextAfter(lateBefore - 1);
  }
  for (; at !== undefined && at <= horizon; at = job.schedule.nextAfter(at)) {
    fires.push({ scheduledMs: at, catchUp: false });
  }
  return { fires, misfired, nextMs: at };
}

/**
 * The latest `count` fire times in [fromMs, toMs], ascending. Schedules only iterate
 * forward, so this probes backwards from `toMs` with a doubling span until the span holds
 * `count` fires (or reaches `fromMs`), and walks only that span: a per-second job missed
 * for a day costs a few steps, not 86,400.
 */
export function latestFires(
  schedule: CronSchedule,
  fromMs: number,
  toMs: number,
  count: number,
): number[] {
  if (count <= 0 || toMs < fromMs) return [];
  for (let span = 1000; ; span *= 2) {
    const after = Math.max(toMs - span, fromMs - 1);
    const found: number[] = [];
    for (let at = schedule.nextAfter(after); at !== undefined && at <= toMs;) {
      found.push(at);
      if (found.length > count) found.shift();
      at = schedule.nextAfter(at);
    }
    if (found.length >= count || after <= fromMs - 1) return found;
  }
}
