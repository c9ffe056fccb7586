import { ExecutionRecord, ExecutionStatus } from '@forest/protocol';
import { HistoryStatsBucket, HistoryStatsQuery } from './history.port';

/** More buckets than this in one stats query is a caller's mistake, not a chart. */
export const MAX_STATS_BUCKETS = 10_000;

/** Throws RangeError for a window or bucket size no chart asks for. */
export function checkStatsQuery(query: HistoryStatsQuery): void {
  const { fromMs, toMs, bucketMs } = query;
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || toMs <= fromMs) {
    throw new RangeError(`stats window [${fromMs}, ${toMs}) is empty or not whole ms`);
  }
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) {
    throw new RangeError(`stats bucket of ${bucketMs} ms is not a positive whole number`);
  }
  if (Math.ceil((toMs - fromMs) / bucketMs) > MAX_STATS_BUCKETS) {
    throw new RangeError(`stats query asks for more than ${MAX_STATS_BUCKETS} buckets`);
  }
}

/** The start of the bucket `atMs` falls in. */
export function bucketStartMs(query: HistoryStatsQuery, atMs: number): number {
  return query.fromMs + Math.floor((atMs - query.fromMs) / query.bucketMs) * query.bucketMs;
}

/** Every bucket of the window, oldest first, empty: the adapters fill them in. */
export function emptyBuckets(query: HistoryStatsQuery): HistoryStatsBucket[] {
  const buckets: HistoryStatsBucket[] = [];
  for (let startMs = query.fromMs; startMs < query.toMs; startMs += query.bucketMs) {
    buckets.push({ startMs, counts: {} });
  }
  return buckets;
}

/**
 * The percentile of sorted values with linear interpolation between the closest ranks,
 * as PostgreSQL's percentile_cont computes it, so both adapters report the same figure.
 */
export function percentileCont(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  const position = fraction * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Fire lag of an execution that ran: startedAt - scheduled time (ms). */
export function fireLagMs(record: ExecutionRecord): number | undefined {
  if (record.startedAt === undefined) return undefined;
  const startedMs = Date.parse(record.startedAt);
  return Number.isNaN(startedMs) ? undefined : startedMs - record.scheduledMs;
}

/**
 * Buckets records by finish time (records outside the window, unfinished or outside the
 * groups are left out), counting statuses and fire lag per bucket. Used by the adapters
 * that compute stats in memory.
 */
export class StatsAccumulator {
  private readonly buckets: HistoryStatsBucket[];
  private readonly lags: number[][];

  constructor(private readonly query: HistoryStatsQuery) {
    checkStatsQuery(query);
    this.buckets = emptyBuckets(query);
    this.lags = this.buckets.map(() => []);
  }

  add(record: ExecutionRecord): void {
    const { fromMs, toMs, bucketMs, groups } = this.query;
    if (groups !== undefined && !groups.includes(record.group)) return;
    const finishedMs = Date.parse(record.finishedAt ?? '');
    if (Number.isNaN(finishedMs) || finishedMs < fromMs || finishedMs >= toMs) return;
    const index = Math.floor((finishedMs - fromMs) / bucketMs);
    const counts = this.buckets[index].counts;
    const status: ExecutionStatus = record.status;
    counts[status] = (counts[status] ?? 0) + 1;
    const lag = fireLagMs(record);
    if (lag !== undefined) this.lags[index].push(lag);
  }

  result(): HistoryStatsBucket[] {
    return this.buckets.map((bucket, index) => {
      const lags = this.lags[index].sort((a, b) => a - b);
      if (lags.length === 0) return bucket;
      return {
        ...bucket,
        lagMs: {
          p50: percentileCont(lags, 0.5),
          p99: percentileCont(lags, 0.99),
          max: lags[lags.length - 1],
        },
      };
    });
  }
}
