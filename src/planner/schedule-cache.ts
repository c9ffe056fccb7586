import { CronSchedule } from '../schedule/cron-schedule';

/**
 * Compiled schedules shared by every job with the same cron and zone: 100,000 jobs usually
 * use a few dozen schedules, so the plan holds one compiled matcher per distinct pair
 * instead of one per job.
 */
export class ScheduleCache {
  private readonly compiled = new Map<string, CronSchedule>();

  /** Throws InvalidScheduleError for a schedule that does not compile. */
  get(cron: string, timezone: string): CronSchedule {
    const key = `${timezone}\u0000${cron}`;
    let schedule = this.compiled.get(key);
    if (!schedule) {
      schedule = CronSchedule.compile({ cron, timezone });
      this.compiled.set(key, schedule);
    }
    return schedule;
  }

  get size(): number {
    return this.compiled.size;
  }
}
