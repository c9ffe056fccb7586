import { CronSchedule } from '../schedule/cron-schedule';
import { decideDue, DueJob, latestFires } from './due-fires';

const T = Date.parse('2026-06-01T12:00:00.000Z');
const everySecond = CronSchedule.compile({ cron: '* * * * * *', timezone: 'UTC' });
const everyMinute = CronSchedule.compile({ cron: '* * * * *', timezone: 'UTC' });
const limits = { misfireThresholdMs: 1000, maxCatchUpFires: 1000 };

function job(overrides: Partial<DueJob>): DueJob {
  return {
    schedule: everySecond,
    policy: 'fire_all',
    catchUpWindowMs: 3_600_000,
    dueMs: T,
    ...overrides,
  };
}

const times = (decision: { fires: { scheduledMs: number }[] }) =>
  decision.fires.map((fire) => (fire.scheduledMs - T) / 1000);

describe('decideDue', () => {
  it('fires a due time as a regular fire, on time or late within the threshold', () => {
    for (const now of [T, T + 7, T + 999]) {
      const decision = decideDue(job({ policy: 'skip' }), now, limits);
      expect(decision.misfired).toBe(false);
      expect(decision.fires).toEqual([{ scheduledMs: T, catchUp: false }]);
      expect(decision.nextMs).toBe(T + 1000);
    }
  });

  it('fires every time within the threshold when a stall made several due', () => {
    const decision = decideDue(job({}), T + 1500, { ...limits, misfireThresholdMs: 2000 });
    expect(times(decision)).toEqual([0, 1]);
    expect(decision.misfired).toBe(false);
  });

  it('skip: drops the misfired times and resumes with those within the threshold', () => {
    const decision = decideDue(job({ policy: 'skip' }), T + 10_000, limits);
    expect(decision.misfired).toBe(true);
    expect(times(decision)).toEqual([9, 10]);
    expect(decision.fires.every((fire) => !fire.catchUp)).toBe(true);
    expect(decision.nextMs).toBe(T + 11_000);
  });

  it('fire_once: one catch-up for the latest misfired time', () => {
    const decision = decideDue(job({ policy: 'fire_once' }), T + 10_000, limits);
    expect(decision.fires).toEqual([
      { scheduledMs: T + 8000, catchUp: true },
      { scheduledMs: T + 9000, catchUp: false },
      { scheduledMs: T + 10_000, catchUp: false },
    ]);
  });

  it('fire_all: every misfired time, in order, then the regular ones', () => {
    const decision = decideDue(job({ policy: 'fire_all' }), T + 10_000, limits);
    expect(times(decision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(decision.fires.filter((fire) => fire.catchUp)).toHaveLength(9);
  });

  it('fire_all: only times inside the catch-up window, and at most the cap (the latest)', () => {
    const windowed = decideDue(job({ catchUpWindowMs: 5000 }), T + 10_000, limits);
    expect(times(windowed)).toEqual([5, 6, 7, 8, 9, 10]);
    const capped = decideDue(job({}), T + 10_000, { ...limits, maxCatchUpFires: 3 });
    expect(times(capped)).toEqual([6, 7, 8, 9, 10]);
  });

  it('fire_once: nothing to catch up when the window is shorter than the lateness', () => {
    const decision = decideDue(
      job({ schedule: everyMinute, policy: 'fire_once', catchUpWindowMs: 30_000 }),
      T + 45_000,
      limits,
    );
    expect(decision.misfired).toBe(true);
    expect(decision.fires).toEqual([]);
    expect(decision.nextMs).toBe(T + 60_000);
  });

  it('a day-long outage of a per-second job costs a bounded number of steps', () => {
    let calls = 0;
    const counting = Object.create(everySecond) as CronSchedule;
    counting.nextAfter = (ms: number) => {
      calls++;
      return everySecond.nextAfter(ms);
    };
    const dayLater = T + 86_400_000;
    const decision = decideDue(
      job({ schedule: counting, policy: 'fire_once', catchUpWindowMs: 86_400_000 }),
      dayLater,
      limits,
    );
    expect(decision.fires.map((fire) => fire.scheduledMs)).toEqual([
      dayLater - 2000,
      dayLater - 1000,
      dayLater,
    ]);
    expect(calls).toBeLessThan(50);
  });
});

describe('latestFires', () => {
  it('finds the latest fires of sparse and dense schedules in a range', () => {
    const daily = CronSchedule.compile({ cron: '0 30 2 * * *', timezone: 'Europe/Berlin' });
    const from = Date.parse('2026-01-01T00:00:00Z');
    const to = Date.parse('2026-01-10T00:00:00Z');
    expect(latestFires(daily, from, to, 2).map((ms) => new Date(ms).toISOString())).toEqual([
      '2026-01-08T01:30:00.000Z',
      '2026-01-09T01:30:00.000Z',
    ]);
    expect(latestFires(daily, from, to, 100)).toHaveLength(9);
    expect(latestFires(everySecond, T, T + 4000, 10)).toEqual([
      T,
      T + 1000,
      T + 2000,
      T + 3000,
      T + 4000,
    ]);
    expect(latestFires(everySecond, T + 1, T + 999, 1)).toEqual([]);
  });
});
