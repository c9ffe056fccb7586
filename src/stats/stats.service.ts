import { Injectable } from '@nestjs/common';
import { ExecutionStatus, Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { Principal } from '../auth/access';
import { scopeGroups } from '../auth/scope';
import type { ExecutionHistory, HistoryStatsBucket } from '../history/history.port';
import { InjectHistory } from '../history/history.tokens';
import { InjectStore } from '../store/store.tokens';
import { OverviewBucketDto, OverviewDto, StatusCountsDto } from './dto/overview.dto';
import { statsWindow } from './stats-window';

const FINAL: readonly (keyof StatusCountsDto & ExecutionStatus)[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
  'skipped',
];
/** What the overview counts as failed: the executions that ended without succeeding by fault. */
const FAILED: readonly ExecutionStatus[] = ['failed', 'timed_out', 'lost'];

/**
 * The console's overview: finished executions per bucket from the execution history, and
 * what waits and runs now from count-only reads of `pending/` and `assignments/` (no values
 * read, whatever the backlog). A token limited to groups sees only its groups.
 */
@Injectable()
export class StatsService {
  constructor(
    @InjectHistory() private readonly history: ExecutionHistory,
    @InjectStore() private readonly store: CoordinationStore,
  ) {}

  async overview(minutes: number, principal: Principal, nowMs = Date.now()): Promise<OverviewDto> {
    const groups = scopeGroups(principal);
    const query = { ...statsWindow(minutes, nowMs), ...(groups ? { groups } : {}) };
    const [stored, pending, assignedOrRunning] = await Promise.all([
      this.history.stats(query),
      this.count(Keyspace.pending, groups),
      this.count(Keyspace.assignments, groups),
    ]);
    const byStart = new Map(stored.map((bucket) => [bucket.startMs, bucket]));
    const buckets: OverviewBucketDto[] = [];
    const totals = zeroCounts();
    for (let startMs = query.fromMs; startMs < query.toMs; startMs += query.bucketMs) {
      const bucket = toBucketDto(startMs, byStart.get(startMs));
      for (const status of FINAL) totals[status] += bucket.counts[status];
      buckets.push(bucket);
    }
    return {
      from: new Date(query.fromMs).toISOString(),
      to: new Date(nowMs).toISOString(),
      bucketMs: query.bucketMs,
      buckets,
      totals,
      failed: FAILED.reduce((sum, status) => sum + totals[status as keyof StatusCountsDto], 0),
      pending,
      assignedOrRunning,
    };
  }

  /** Keys under `prefix` (all, or those of `groups`: `{prefix}{group}/...`), counted only. */
  private async count(prefix: string, groups: readonly string[] | undefined): Promise<number> {
    const prefixes = groups ? groups.map((group) => `${prefix}${group}/`) : [prefix];
    const counts = await Promise.all(
      prefixes.map(async (p) => (await this.store.range(p, { countOnly: true })).count),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

function zeroCounts(): StatusCountsDto {
  return { succeeded: 0, failed: 0, timed_out: 0, cancelled: 0, lost: 0, skipped: 0 };
}

function toBucketDto(startMs: number, stored: HistoryStatsBucket | undefined): OverviewBucketDto {
  const counts = zeroCounts();
  for (const status of FINAL) counts[status] = stored?.counts[status] ?? 0;
  return {
    start: new Date(startMs).toISOString(),
    counts,
    ...(stored?.lagMs ? { lagMs: stored.lagMs } : {}),
  };
}
