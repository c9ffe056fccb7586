import { plannerRig } from '../../test/support/planner-rig';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The leader's loop across real DST transitions (the rules are in docs/schedules.md):
 * specific hours keep one fire a day, shifted past a spring-forward gap and not repeated
 * in a fall-back; `*` hours stay hourly in UTC. Each scheduled time fires exactly once.
 */
describe('FireLoop across DST transitions', () => {
  async function firesBetween(
    timezone: string,
    cron: string,
    fromIso: string,
    toIso: string,
  ): Promise<string[]> {
    const from = Date.parse(fromIso);
    const rig = plannerRig(from, { maxSleepMs: 3_600_000 });
    rig.put({ id: 'j', cron, timezone });
    rig.loop.start();
    await rig.clock.advanceTo(Date.parse(toIso));
    expect(rig.misfires).toEqual([]);
    return rig.store.fired('j').map(iso);
  }

  describe('Europe/Berlin', () => {
    it('spring forward (2026-03-29, 02:00 -> 03:00): a daily 02:30 runs at 03:30 CEST', async () => {
      expect(
        await firesBetween(
          'Europe/Berlin',
          '0 30 2 * * *',
          '2026-03-27T12:00:00Z',
          '2026-03-31T12:00:00Z',
        ),
      ).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:30:00.000Z', // 03:30 CEST: 02:30 does not exist that day
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
        '2026-03-31T00:30:00.000Z',
      ]);
    });

    it('spring forward: an hourly job stays hourly in UTC (the skipped hour does not run)', async () => {
      expect(
        await firesBetween(
          'Europe/Berlin',
          '0 30 * * * *',
          '2026-03-28T23:00:00Z',
          '2026-03-29T03:00:00Z',
        ),
      ).toEqual([
        '2026-03-28T23:30:00.000Z', // 00:30 CET
        '2026-03-29T00:30:00.000Z', // 01:30 CET
        '2026-03-29T01:30:00.000Z', // 03:30 CEST
        '2026-03-29T02:30:00.000Z', // 04:30 CEST
      ]);
    });

    it('fall back (2026-10-25, 03:00 -> 02:00): a daily 02:30 runs once, on summer time', async () => {
      expect(
        await firesBetween(
          'Europe/Berlin',
          '0 30 2 * * *',
          '2026-10-24T12:00:00Z',
          '2026-10-26T12:00:00Z',
        ),
      ).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    });

    it('fall back: an hourly job runs in both repeated hours', async () => {
      expect(
        await firesBetween(
          'Europe/Berlin',
          '0 30 * * * *',
          '2026-10-24T23:00:00Z',
          '2026-10-25T03:00:00Z',
        ),
      ).toEqual([
        '2026-10-24T23:30:00.000Z', // 01:30 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T01:30:00.000Z', // 02:30 CET, the repeated hour
        '2026-10-25T02:30:00.000Z', // 03:30 CET
      ]);
    });
  });

  describe('America/New_York', () => {
    it('spring forward (2026-03-08, 02:00 -> 03:00): a daily 02:30 runs at 03:30 EDT', async () => {
      expect(
        await firesBetween(
          'America/New_York',
          '0 30 2 * * *',
          '2026-03-07T00:00:00Z',
          '2026-03-09T12:00:00Z',
        ),
      ).toEqual([
        '2026-03-07T07:30:00.000Z', // 02:30 EST
        '2026-03-08T07:30:00.000Z', // 03:30 EDT
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
      ]);
    });

    it('fall back (2026-11-01, 02:00 -> 01:00): a daily 01:30 runs once, on EDT', async () => {
      expect(
        await firesBetween(
          'America/New_York',
          '0 30 1 * * *',
          '2026-10-31T00:00:00Z',
          '2026-11-02T12:00:00Z',
        ),
      ).toEqual([
        '2026-10-31T05:30:00.000Z', // 01:30 EDT
        '2026-11-01T05:30:00.000Z', // 01:30 EDT; not again at 01:30 EST (06:30Z)
        '2026-11-02T06:30:00.000Z', // 01:30 EST
      ]);
    });

    it('fall back: a job every 15 minutes runs through the repeated hour twice', async () => {
      const fires = await firesBetween(
        'America/New_York',
        '0 */15 * * * *',
        '2026-11-01T04:50:00Z',
        '2026-11-01T07:10:00Z',
      );
      // 00:00..02:00 wall time spans 3 real hours that night: every 15 min in UTC.
      expect(fires).toHaveLength(9);
      expect(fires[0]).toBe('2026-11-01T05:00:00.000Z');
      expect(fires[8]).toBe('2026-11-01T07:00:00.000Z');
    });
  });
});
