import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyspace } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import { ANY_GROUP } from '../auth/scope';
import { TokenPrincipal } from '../auth/access';
import type {
  ExecutionHistory,
  HistoryStatsBucket,
  HistoryStatsQuery,
} from '../history/history.port';
import { StatsService } from './stats.service';
import { statsWindow } from './stats-window';

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-24T02:00:30.000Z');

/** The port's stats() over fixed buckets per group; nothing else is used by the overview. */
class BucketHistory {
  readonly kind = 'store' as const;
  queries: HistoryStatsQuery[] = [];
  constructor(private readonly byGroup: Record<string, HistoryStatsBucket[]>) {}
  stats(query: HistoryStatsQuery): Promise<HistoryStatsBucket[]> {
    this.queries.push(query);
    const groups = query.groups ?? Object.keys(this.byGroup);
    const merged = new Map<number, HistoryStatsBucket>();
    for (const group of groups) {
      for (const bucket of this.byGroup[group] ?? []) {
        if (bucket.startMs < query.fromMs || bucket.startMs >= query.toMs) continue;
        const into = merged.get(bucket.startMs) ?? { startMs: bucket.startMs, counts: {} };
        for (const [status, n] of Object.entries(bucket.counts)) {
          const key = status as keyof HistoryStatsBucket['counts'];
          into.counts[key] = (into.counts[key] ?? 0) + (n ?? 0);
        }
        into.lagMs = bucket.lagMs ?? into.lagMs;
        merged.set(bucket.startMs, into);
      }
    }
    return Promise.resolve([...merged.values()]);
  }
}

const scoped = (groups: string[]): TokenPrincipal => ({
  kind: 'token',
  tokenId: 't',
  name: 't',
  role: 'viewer',
  groups,
  revealData: false,
});

describe('statsWindow', () => {
  it('uses 1-minute buckets up to two hours, coarser ones beyond, never more than 121', () => {
    expect(statsWindow(60, NOW).bucketMs).toBe(MINUTE);
    expect(statsWindow(120, NOW).bucketMs).toBe(MINUTE);
    expect(statsWindow(600, NOW).bucketMs).toBe(5 * MINUTE);
    expect(statsWindow(1440, NOW).bucketMs).toBe(15 * MINUTE);
    for (const minutes of [1, 59, 60, 121, 599, 601, 1439, 1440]) {
      const { fromMs, toMs, bucketMs } = statsWindow(minutes, NOW);
      expect(fromMs % bucketMs).toBe(0);
      expect(fromMs).toBeLessThanOrEqual(NOW - minutes * MINUTE);
      expect(toMs).toBeGreaterThan(NOW);
      expect(Math.ceil((toMs - fromMs) / bucketMs)).toBeLessThanOrEqual(121);
    }
  });
});

describe('StatsService', () => {
  let dataDir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-stats-'));
    store = await EmbeddedStore.open({ dataDir });
    await store.put(Keyspace.pendingExecution('a', 'j~1'), '{}');
    await store.put(Keyspace.pendingExecution('a', 'j~2'), '{}');
    await store.put(Keyspace.pendingExecution('b', 'k~1'), '{}');
    await store.put(Keyspace.assignment('a', 'w1', 'j~3'), '{}');
    await store.put(Keyspace.assignment('b', 'w2', 'k~2'), '{}');
    await store.put(Keyspace.assignment('b', 'w2', 'k~3'), '{}');
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const at = (minutesAgo: number) => Math.floor((NOW - minutesAgo * MINUTE) / MINUTE) * MINUTE;
  const history = () =>
    new BucketHistory({
      a: [
        {
          startMs: at(1),
          counts: { succeeded: 5, failed: 1 },
          lagMs: { p50: 10, p99: 90, max: 120 },
        },
        { startMs: at(30), counts: { timed_out: 1, lost: 1, cancelled: 2 } },
      ],
      b: [{ startMs: at(2), counts: { succeeded: 7, failed: 2 } }],
    });

  it('answers every bucket of the window, totals, failed, and what waits and runs now', async () => {
    const source = history();
    const service = new StatsService(source as unknown as ExecutionHistory, store);
    const overview = await service.overview(60, ANY_GROUP, NOW);
    expect(source.queries).toEqual([{ fromMs: at(60), toMs: NOW + 1, bucketMs: MINUTE }]);
    expect(overview.buckets).toHaveLength(61);
    expect(overview.buckets[0].start).toBe(new Date(at(60)).toISOString());
    const last = overview.buckets.at(-2)!;
    expect(last).toEqual({
      start: new Date(at(1)).toISOString(),
      counts: { succeeded: 5, failed: 1, timed_out: 0, cancelled: 0, lost: 0, skipped: 0 },
      lagMs: { p50: 10, p99: 90, max: 120 },
    });
    expect(overview.buckets.at(-1)!.counts.succeeded).toBe(0);
    expect(overview.totals).toEqual({
      succeeded: 12,
      failed: 3,
      timed_out: 1,
      cancelled: 2,
      lost: 1,
      skipped: 0,
    });
    expect(overview.failed).toBe(5);
    expect(overview.pending).toBe(3);
    expect(overview.assignedOrRunning).toBe(3);
  });

  it('shows a group-limited token only its groups, in the history and in the live counts', async () => {
    const source = history();
    const service = new StatsService(source as unknown as ExecutionHistory, store);
    const overview = await service.overview(60, scoped(['b']), NOW);
    expect(source.queries[0].groups).toEqual(['b']);
    expect(overview.totals.succeeded).toBe(7);
    expect(overview.failed).toBe(2);
    expect(overview.pending).toBe(1);
    expect(overview.assignedOrRunning).toBe(2);
    const none = await service.overview(60, scoped(['c']), NOW);
    expect([none.pending, none.assignedOrRunning, none.totals.succeeded]).toEqual([0, 0, 0]);
  });
});
