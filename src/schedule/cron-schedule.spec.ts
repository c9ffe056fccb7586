import { CronExpressionParser } from 'cron-parser';
import {
  CronSchedule,
  describeFireTime,
  InvalidScheduleError,
  isValidTimeZone,
  validateSchedule,
  type ScheduleSpec,
} from './cron-schedule';

const HOUR_MS = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

function compile(cron: string, timezone = 'UTC'): CronSchedule {
  return CronSchedule.compile({ cron, timezone });
}

/** Fire times as "UTC instant local-wall-time offset", which reads well in failures. */
function fires(schedule: CronSchedule, afterIso: string, count: number): string[] {
  return schedule.nextN(at(afterIso), count).map((ms) => {
    const view = describeFireTime(ms, schedule.spec.timezone);
    return `${view.utc} ${view.local}${view.offset}`;
  });
}

function rejection(spec: ScheduleSpec): InvalidScheduleError {
  try {
    validateSchedule(spec);
  } catch (error) {
    if (error instanceof InvalidScheduleError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
}

describe('validateSchedule', () => {
  it('normalizes whitespace, macro case and time zone case', () => {
    expect(validateSchedule({ cron: '  0   9\t* *  1-5 ', timezone: ' europe/berlin ' })).toEqual({
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
    });
    expect(validateSchedule({ cron: '@Daily', timezone: 'utc' })).toEqual({
      cron: '@daily',
      timezone: 'UTC',
    });
  });

  it('keeps a zone alias as written', () => {
    expect(validateSchedule({ cron: '* * * * *', timezone: 'Asia/Kolkata' }).timezone).toBe(
      'Asia/Kolkata',
    );
  });

  it.each([
    '* * * * *',
    '*/5 * * * * *',
    '0 0 L * *',
    '0 0 * * 5L',
    '0 0 * * MON#2',
    '0 0 ? * MON-FRI',
    '0 0 * jan,JUL *',
    '5/15 10-20/5 1,15 */2 1-5',
    '0 0 31 2,3 *',
  ])('accepts %s', (cron) => {
    expect(validateSchedule({ cron, timezone: 'UTC' }).cron).toBe(cron);
  });

  it.each([
    [
      '* * *',
      'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 3',
    ],
    [
      '* * * * * * *',
      'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 7',
    ],
    [
      '   ',
      'cron expression is empty: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first',
    ],
    ['0 25 * * *', 'hour 25 is out of range 0-23'],
    ['61 * * * * *', 'second 61 is out of range 0-59'],
    ['* * * 13 *', 'month 13 is out of range 1-12'],
    ['0 0 0 * *', 'day-of-month 0 is out of range 1-31'],
    ['0 0 * * 8', 'day-of-week 8 is out of range 0-7'],
    ['*/0 * * * *', 'minute step must be a whole number of at least 1, got "*/0"'],
    [
      'a b c d e',
      'minute "a" is not valid: use a number 0-59, a range (1-5), a list (1,5), a step (*/15) or *',
    ],
    [
      '0 0 * foo *',
      'month "foo" is not valid: use a month 1-12 or JAN-DEC, a range (1-5), a list (1,5), a step (*/15) or *',
    ],
    ['5-1 * * * *', 'minute range 5-1 runs backwards: put the smaller value first'],
    ['1,,2 * * * *', 'minute "1,,2" has an empty list item'],
    ['*/15/2 * * * *', 'minute "*/15/2" has more than one step: use one /n'],
    ['? * * * *', 'minute does not take "?" (only the day fields do): use *'],
    ['H * * * *', 'minute "H": hashed values (H) are not supported, write the values out'],
    ['0 0 * * 5#6', 'day-of-week occurrence #6 is out of range 1-5'],
    [
      '0 0 * * 5#3,1',
      'day-of-week "5#3,1": # stands alone as weekday#n, e.g. 5#3 for the third Friday of the month',
    ],
    ['1,1 * * * *', 'minute "1,1" selects 1 twice: list each value once'],
    [
      '0 0 * * 0,7',
      'day-of-week "0,7" selects 0 twice (0 and 7 both mean Sunday): list each value once',
    ],
    [
      '0 0 30 2 *',
      'day-of-month 30 never occurs in month 2: pick a day that exists there, or L for the last day',
    ],
    [
      '@reboot',
      '@reboot is not supported: use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, or cron fields (minute hour day-of-month month day-of-week)',
    ],
    ['@every 5m', expect.stringContaining('@every 5m is not supported') as string],
    ['@weekdays', expect.stringContaining('@weekdays is not supported') as string],
    ['* '.repeat(129), 'cron expression is too long (258 characters): at most 256 are allowed'],
  ])('rejects cron %j: %s', (cron, message) => {
    const error = rejection({ cron, timezone: 'UTC' });
    expect(error.field).toBe('cron');
    expect(error.message).toEqual(message);
  });

  it.each([
    [
      'Mars/Phobos',
      'unknown time zone "Mars/Phobos": use an IANA name such as Europe/Berlin or UTC',
    ],
    ['+01:00', 'unknown time zone "+01:00": use an IANA name such as Europe/Berlin or UTC'],
    ['', 'unknown time zone "": use an IANA name such as Europe/Berlin or UTC'],
    ['A'.repeat(65), 'time zone is too long (65 characters): at most 64 are allowed'],
  ])('rejects time zone %j', (timezone, message) => {
    const error = rejection({ cron: '* * * * *', timezone });
    expect(error).toMatchObject({ field: 'timezone', message, name: 'InvalidScheduleError' });
  });

  it('rejects values that are not strings', () => {
    const spec = { cron: 5, timezone: 'UTC' } as unknown as ScheduleSpec;
    expect(rejection(spec).field).toBe('cron');
  });
});

describe('isValidTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT-1'])(
    'accepts %s',
    (tz) => expect(isValidTimeZone(tz)).toBe(true),
  );
  it.each(['Mars/Phobos', '', '+01:00', ' UTC', 'Europe/Berlin'.repeat(6)])('rejects %j', (tz) =>
    expect(isValidTimeZone(tz)).toBe(false),
  );
});

describe('CronSchedule', () => {
  it('compiles to a normalized, frozen spec and knows whether it has seconds', () => {
    const schedule = CronSchedule.compile({ cron: ' 0  9 * * * ', timezone: 'utc' });
    expect(schedule.spec).toEqual({ cron: '0 9 * * *', timezone: 'UTC' });
    expect(Object.isFrozen(schedule.spec)).toBe(true);
    expect(schedule.hasSeconds).toBe(false);
    expect(compile('*/5 * * * * *').hasSeconds).toBe(true);
    expect(compile('@hourly').hasSeconds).toBe(false);
  });

  it('throws InvalidScheduleError for a bad spec', () => {
    expect(() => compile('0 25 * * *')).toThrow(InvalidScheduleError);
    expect(() => compile('* * * * *', 'Mars/Phobos')).toThrow('unknown time zone "Mars/Phobos"');
  });

  it.each([
    ['@yearly', ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
    ['@annually', ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
    ['@monthly', ['2026-06-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z']],
    ['@weekly', ['2026-05-17T00:00:00.000Z', '2026-05-24T00:00:00.000Z']], // Sundays
    ['@daily', ['2026-05-14T00:00:00.000Z', '2026-05-15T00:00:00.000Z']],
    ['@midnight', ['2026-05-14T00:00:00.000Z', '2026-05-15T00:00:00.000Z']],
    ['@hourly', ['2026-05-13T11:00:00.000Z', '2026-05-13T12:00:00.000Z']],
  ])('runs %s', (cron, expected) => {
    expect(compile(cron).nextN(at('2026-05-13T10:20:30Z'), 2).map(iso)).toEqual(expected);
  });

  it('reads 5 fields as minutes and 6 fields as seconds first', () => {
    const after = at('2026-05-13T10:20:30Z');
    expect(compile('*/5 * * * *').nextN(after, 2).map(iso)).toEqual([
      '2026-05-13T10:25:00.000Z',
      '2026-05-13T10:30:00.000Z',
    ]);
    expect(compile('*/5 * * * * *').nextN(after, 2).map(iso)).toEqual([
      '2026-05-13T10:20:35.000Z',
      '2026-05-13T10:20:40.000Z',
    ]);
    expect(compile('15 30 10 * * *').nextN(after, 2).map(iso)).toEqual([
      '2026-05-13T10:30:15.000Z',
      '2026-05-14T10:30:15.000Z',
    ]);
  });

  it('returns the first fire strictly after afterMs', () => {
    const schedule = compile('0 * * * *');
    expect(iso(schedule.nextAfter(at('2026-05-13T10:00:00Z'))!)).toBe('2026-05-13T11:00:00.000Z');
    expect(iso(schedule.nextAfter(at('2026-05-13T09:59:59.999Z'))!)).toBe(
      '2026-05-13T10:00:00.000Z',
    );
    expect(iso(schedule.nextAfter(at('2026-05-13T10:00:00Z') + 0.5)!)).toBe(
      '2026-05-13T11:00:00.000Z',
    );
  });

  it('applies the time zone, including half-hour offsets', () => {
    expect(fires(compile('0 9 * * *', 'Asia/Kolkata'), '2026-05-13T00:00:00Z', 1)).toEqual([
      '2026-05-13T03:30:00.000Z 2026-05-13T09:00:00+05:30',
    ]);
    expect(fires(compile('0 9 * * *', 'Europe/Berlin'), '2026-01-13T00:00:00Z', 1)).toEqual([
      '2026-01-13T08:00:00.000Z 2026-01-13T09:00:00+01:00',
    ]);
  });

  it('supports L, nL, n#k and the either-day rule', () => {
    const after = at('2026-01-01T00:00:00Z');
    expect(compile('0 0 L * *').nextN(after, 3).map(iso)).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
    ]);
    expect(compile('0 0 * * 5L').nextN(after, 2).map(iso)).toEqual([
      '2026-01-30T00:00:00.000Z', // last Friday of January
      '2026-02-27T00:00:00.000Z',
    ]);
    expect(compile('0 0 * * 5#3').nextN(after, 2).map(iso)).toEqual([
      '2026-01-16T00:00:00.000Z', // third Friday
      '2026-02-20T00:00:00.000Z',
    ]);
    // Day-of-month and day-of-week both restricted: the 13th OR a Friday.
    expect(compile('0 0 13 * 5').nextN(after, 3).map(iso)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-09T00:00:00.000Z',
      '2026-01-13T00:00:00.000Z',
    ]);
    expect(compile('0 0 29 2 *').nextN(after, 2).map(iso)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });

  it('returns undefined when no fire time is left', () => {
    expect(compile('@yearly').nextAfter(Date.UTC(275760, 0, 1))).toBeUndefined();
    expect(compile('@yearly').nextN(Date.UTC(275759, 0, 1), 5)).toHaveLength(1);
  });

  it('rejects an afterMs that is not an instant', () => {
    expect(() => compile('@daily').nextAfter(Number.NaN)).toThrow(RangeError);
  });

  describe('nextN', () => {
    it('returns up to count fire times', () => {
      const schedule = compile('*/20 * * * *');
      expect(schedule.nextN(at('2026-05-13T10:00:00Z'), 3).map(iso)).toEqual([
        '2026-05-13T10:20:00.000Z',
        '2026-05-13T10:40:00.000Z',
        '2026-05-13T11:00:00.000Z',
      ]);
      expect(schedule.nextN(at('2026-05-13T10:00:00Z'), 0)).toEqual([]);
    });
  });

  describe('between', () => {
    const schedule = compile('*/15 * * * *');

    it('returns fire times in (from, to]', () => {
      expect(
        schedule.between(at('2026-05-13T10:00:00Z'), at('2026-05-13T10:45:00Z'), 10).map(iso),
      ).toEqual([
        '2026-05-13T10:15:00.000Z',
        '2026-05-13T10:30:00.000Z',
        '2026-05-13T10:45:00.000Z',
      ]);
    });

    it('stops at limit', () => {
      expect(
        schedule.between(at('2026-05-13T10:00:00Z'), at('2026-05-14T10:00:00Z'), 2).map(iso),
      ).toEqual(['2026-05-13T10:15:00.000Z', '2026-05-13T10:30:00.000Z']);
    });

    it('is empty when nothing falls in the range', () => {
      expect(schedule.between(at('2026-05-13T10:00:00Z'), at('2026-05-13T10:14:59Z'), 10)).toEqual(
        [],
      );
      expect(schedule.between(at('2026-05-13T10:00:00Z'), at('2026-05-13T11:00:00Z'), 0)).toEqual(
        [],
      );
    });
  });
});

describe('daylight saving time', () => {
  describe('a skipped wall time runs shifted forward by the gap', () => {
    it('Europe/Berlin, 2026-03-29 02:00 -> 03:00', () => {
      expect(fires(compile('30 2 * * *', 'Europe/Berlin'), '2026-03-28T00:00:00Z', 3)).toEqual([
        '2026-03-28T01:30:00.000Z 2026-03-28T02:30:00+01:00',
        '2026-03-29T01:30:00.000Z 2026-03-29T03:30:00+02:00',
        '2026-03-30T00:30:00.000Z 2026-03-30T02:30:00+02:00',
      ]);
    });

    it('America/New_York, 2026-03-08 02:00 -> 03:00', () => {
      expect(fires(compile('30 2 * * *', 'America/New_York'), '2026-03-07T00:00:00Z', 3)).toEqual([
        '2026-03-07T07:30:00.000Z 2026-03-07T02:30:00-05:00',
        '2026-03-08T07:30:00.000Z 2026-03-08T03:30:00-04:00',
        '2026-03-09T06:30:00.000Z 2026-03-09T02:30:00-04:00',
      ]);
    });

    it('is found even when asked from inside the new hour', () => {
      // cron-parser's reset()+next() answers 2026-03-30 here: the shifted run would be lost.
      const schedule = compile('30 2 * * *', 'Europe/Berlin');
      expect(iso(schedule.nextAfter(at('2026-03-29T01:10:00Z'))!)).toBe('2026-03-29T01:30:00.000Z');
    });
  });

  describe('a repeated wall time runs once, the first time round', () => {
    it('Europe/Berlin, 2026-10-25 03:00 -> 02:00', () => {
      expect(fires(compile('30 2 * * *', 'Europe/Berlin'), '2026-10-24T00:00:00Z', 3)).toEqual([
        '2026-10-24T00:30:00.000Z 2026-10-24T02:30:00+02:00',
        '2026-10-25T00:30:00.000Z 2026-10-25T02:30:00+02:00',
        '2026-10-26T01:30:00.000Z 2026-10-26T02:30:00+01:00',
      ]);
    });

    it('America/New_York, 2026-11-01 02:00 -> 01:00', () => {
      expect(fires(compile('30 1 * * *', 'America/New_York'), '2026-10-31T00:00:00Z', 3)).toEqual([
        '2026-10-31T05:30:00.000Z 2026-10-31T01:30:00-04:00',
        '2026-11-01T05:30:00.000Z 2026-11-01T01:30:00-04:00',
        '2026-11-02T06:30:00.000Z 2026-11-02T01:30:00-05:00',
      ]);
    });

    it('also for several minutes of a specific hour', () => {
      expect(fires(compile('*/30 1 * * *', 'America/New_York'), '2026-11-01T04:00:00Z', 3)).toEqual(
        [
          '2026-11-01T05:00:00.000Z 2026-11-01T01:00:00-04:00',
          '2026-11-01T05:30:00.000Z 2026-11-01T01:30:00-04:00',
          '2026-11-02T06:00:00.000Z 2026-11-02T01:00:00-05:00',
        ],
      );
    });

    it('is not repeated when asked from inside the second pass', () => {
      // cron-parser's reset()+next() answers 02:30+01:00 here: a second run the same day.
      const schedule = compile('30 2 * * *', 'Europe/Berlin');
      expect(iso(schedule.nextAfter(at('2026-10-25T01:00:00Z'))!)).toBe('2026-10-26T01:30:00.000Z');
    });
  });

  describe('every-hour schedules follow elapsed time', () => {
    const transitions: [string, string][] = [
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
    ];

    it.each(transitions)('0 * * * * in %s around %s: every UTC hour exactly once', (zone, when) => {
      const fireTimes = compile('0 * * * *', zone).between(
        at(when) - 12 * HOUR_MS,
        at(when) + 12 * HOUR_MS,
        100,
      );
      expect(fireTimes).toHaveLength(24);
      fireTimes.slice(1).forEach((ms, i) => expect(ms - fireTimes[i]).toBe(HOUR_MS));
    });

    it.each(transitions)(
      '*/30 * * * * in %s around %s: every UTC half hour exactly once',
      (zone, when) => {
        const fireTimes = compile('*/30 * * * *', zone).between(
          at(when) - 12 * HOUR_MS,
          at(when) + 12 * HOUR_MS,
          100,
        );
        expect(fireTimes).toHaveLength(48);
        fireTimes.slice(1).forEach((ms, i) => expect(ms - fireTimes[i]).toBe(HOUR_MS / 2));
      },
    );

    it('runs both passes of a repeated hour', () => {
      expect(fires(compile('0 * * * *', 'Europe/Berlin'), '2026-10-24T23:30:00Z', 3)).toEqual([
        '2026-10-25T00:00:00.000Z 2026-10-25T02:00:00+02:00',
        '2026-10-25T01:00:00.000Z 2026-10-25T02:00:00+01:00',
        '2026-10-25T02:00:00.000Z 2026-10-25T03:00:00+01:00',
      ]);
    });

    it('skips the missing hour', () => {
      expect(fires(compile('0 * * * *', 'America/New_York'), '2026-03-08T05:30:00Z', 2)).toEqual([
        '2026-03-08T06:00:00.000Z 2026-03-08T01:00:00-05:00',
        '2026-03-08T07:00:00.000Z 2026-03-08T03:00:00-04:00',
      ]);
    });

    it('keeps a seconds schedule gapless across the fall-back', () => {
      const from = at('2026-10-25T00:55:00Z');
      const fireTimes = compile('*/5 * * * * *', 'Europe/Berlin').between(
        from,
        from + 10 * 60_000,
        1000,
      );
      expect(fireTimes).toHaveLength(120);
      fireTimes.slice(1).forEach((ms, i) => expect(ms - fireTimes[i]).toBe(5000));
    });
  });

  /**
   * The fire times must be the ones cron-parser produces when it iterates across the
   * transition, and nextAfter must give the same answer from any instant (no state).
   */
  describe('agrees with cron-parser iterating across the transition', () => {
    const cases: [string, string, string][] = [
      ['30 2 * * *', 'Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['15 */2 * * *', 'Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['30 2,3 * * *', 'Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['*/20 1,2 * * *', 'America/New_York', '2026-03-08T07:00:00Z'],
      ['*/20 1,2 * * *', 'America/New_York', '2026-11-01T06:00:00Z'],
      ['0 0-22 * * *', 'America/New_York', '2026-11-01T06:00:00Z'],
      ['*/30 * * * *', 'Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['0 0 * * *', 'Australia/Sydney', '2026-10-03T16:00:00Z'],
    ];

    it.each(cases)('%s in %s around %s', (cron, timezone, when) => {
      const start = at(when) - 6 * HOUR_MS;
      const end = at(when) + 6 * HOUR_MS;
      const iterator = CronExpressionParser.parse(cron, {
        tz: timezone,
        currentDate: new Date(start - 2 * 24 * HOUR_MS),
      });
      const expected: number[] = [];
      while (expected.length === 0 || expected[expected.length - 1] <= end)
        expected.push(iterator.next().getTime());

      const schedule = compile(cron, timezone);
      for (let afterMs = start; afterMs <= end; afterMs += 7 * 60_000 + 1) {
        const want = expected.find((ms) => ms > afterMs);
        expect([iso(afterMs), iso(schedule.nextAfter(afterMs)!)]).toEqual([
          iso(afterMs),
          iso(want!),
        ]);
      }
    });
  });
});

describe('describeFireTime', () => {
  it.each([
    ['2026-01-15T12:00:00Z', 'Europe/Berlin', '2026-01-15T13:00:00', '+01:00'],
    ['2026-07-15T12:00:00Z', 'Europe/Berlin', '2026-07-15T14:00:00', '+02:00'],
    ['2026-07-15T12:00:00Z', 'Asia/Kolkata', '2026-07-15T17:30:00', '+05:30'],
    ['2026-07-15T12:00:00Z', 'America/New_York', '2026-07-15T08:00:00', '-04:00'],
    ['2026-07-15T12:00:00Z', 'America/St_Johns', '2026-07-15T09:30:00', '-02:30'],
    ['2026-07-15T12:00:00Z', 'UTC', '2026-07-15T12:00:00', '+00:00'],
    ['1880-07-15T12:00:00Z', 'Europe/Berlin', '1880-07-15T12:53:28', '+00:53:28'],
  ])('%s in %s', (utc, timezone, local, offset) => {
    expect(describeFireTime(at(utc), timezone)).toEqual({
      utc: new Date(utc).toISOString(),
      local,
      offset,
    });
  });

  it('shows both passes of a repeated hour apart', () => {
    expect(describeFireTime(at('2026-10-25T00:30:00Z'), 'Europe/Berlin').offset).toBe('+02:00');
    expect(describeFireTime(at('2026-10-25T01:30:00Z'), 'Europe/Berlin').offset).toBe('+01:00');
  });

  it('rejects an unknown zone', () => {
    expect(() => describeFireTime(0, 'Mars/Phobos')).toThrow(InvalidScheduleError);
  });
});
