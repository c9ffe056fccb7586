import { HistoryStatsQuery } from '../history/history.port';

export const MIN_WINDOW_MINUTES = 1;
export const MAX_WINDOW_MINUTES = 1440;
/** At most this many buckets per chart: windows past it get coarser buckets. */
export const MAX_BUCKETS = 120;
const BUCKET_MINUTES = [1, 5, 15, 30, 60] as const;

/**
 * The history query of the last `minutes` up to `nowMs`: 1-minute buckets, or the
 * smallest coarser size that keeps the chart within MAX_BUCKETS. Buckets start on whole
 * multiples of their size, so the same minute falls in the same bucket on every refresh;
 * the first one starts at or before the window and the last one is still filling.
 */
export function statsWindow(minutes: number, nowMs: number): HistoryStatsQuery {
  const size = BUCKET_MINUTES.find((m) => minutes / m <= MAX_BUCKETS) ?? 60;
  const bucketMs = size * 60_000;
  const fromMs = Math.floor((nowMs - minutes * 60_000) / bucketMs) * bucketMs;
  return { fromMs, toMs: nowMs + 1, bucketMs };
}
