import { ExecutionRecord, FINAL_EXECUTION_STATUSES, ExecutionStatus } from '@forest/protocol';
import { matchesNothing } from '../history-filters';
import { checkStatsQuery, emptyBuckets } from '../history-stats';
import {
  ExecutionHistory,
  HistoryPage,
  HistoryQuery,
  HistoryRetention,
  historySortKey,
  HistoryStatsBucket,
  HistoryStatsQuery,
  PruneReport,
} from '../history.port';
import { executionColumns, historyCondition, INSERT_EXECUTIONS } from './history-sql';
import { PostgresDatabase } from './postgres-database';

/** Rows per INSERT (one array parameter per column). */
const ROWS_PER_INSERT = 1_000;
/** Rows one retention statement deletes: each batch is a short transaction of its own. */
const PRUNE_BATCH = 5_000;
/** Batches per reason and pass: a pass is bounded; what is left goes in the next one. */
const PRUNE_MAX_BATCHES = 200;
/** A retention batch may scan a large table (the per-job window): it gets longer. */
const PRUNE_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Deletes the rows `doomed` selects (a CTE yielding `id`) and the logs of those
 * executions, in one statement; answers how many records went.
 */
function deleteWithLogs(doomed: string): string {
  return `
    WITH doomed AS (${doomed}),
    gone AS (
      DELETE FROM forest_executions e USING doomed WHERE e.id = doomed.id RETURNING e.id
    ),
    gone_lines AS (
      DELETE FROM forest_execution_logs l USING gone WHERE l.execution_id = gone.id
    ),
    gone_totals AS (
      DELETE FROM forest_execution_log_totals t USING gone WHERE t.execution_id = gone.id
    )
    SELECT count(*)::int AS deleted FROM gone`;
}

const PRUNE_BY_AGE = deleteWithLogs(
  'SELECT id FROM forest_executions WHERE finished_ms < $1 ORDER BY finished_ms LIMIT $2',
);

const PRUNE_BY_COUNT = deleteWithLogs(`
  SELECT id FROM (
    SELECT id, row_number() OVER (PARTITION BY job_id ORDER BY sort_key DESC) AS newer
    FROM forest_executions
  ) ranked
  WHERE newer > $1
  LIMIT $2`);

/**
 * Execution history in PostgreSQL (FOREST_HISTORY_URL): one row per final execution in
 * `forest_executions` (the record as jsonb, and the columns the queries filter and sort
 * on). Pages are keyset pages on sort_key, so a page costs the same however deep it is;
 * retention runs in SQL in bounded batches. Every statement runs under the database's
 * statement timeout; a database that cannot answer raises HistoryUnavailableError.
 */
export class PostgresHistory implements ExecutionHistory {
  readonly kind = 'postgres';

  constructor(private readonly database: PostgresDatabase) {
    database.retain();
  }

  async append(records: readonly ExecutionRecord[]): Promise<void> {
    for (const record of records) {
      if (!FINAL_EXECUTION_STATUSES.includes(record.status)) {
        throw new Error(
          `execution ${record.id} is ${record.status}: only final records go to history`,
        );
      }
    }
    // One id twice in a statement is one row; the first copy wins, as for stored ids.
    const firstCopies = new Map<string, ExecutionRecord>();
    for (const record of records)
      if (!firstCopies.has(record.id)) firstCopies.set(record.id, record);
    const unique = [...firstCopies.values()];
    for (let start = 0; start < unique.length; start += ROWS_PER_INSERT) {
      const chunk = unique.slice(start, start + ROWS_PER_INSERT);
      await this.database.query(INSERT_EXECUTIONS, executionColumns(chunk));
    }
  }

  async get(id: string): Promise<ExecutionRecord | undefined> {
    const rows = await this.database.query<{ record: ExecutionRecord }>(
      'SELECT record FROM forest_executions WHERE id = $1',
      [id],
    );
    return rows[0]?.record;
  }

  async getMany(ids: readonly string[]): Promise<ExecutionRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.database.query<{ id: string; record: ExecutionRecord }>(
      'SELECT id, record FROM forest_executions WHERE id = ANY($1::text[])',
      [[...ids]],
    );
    const byId = new Map(rows.map((row) => [row.id, row.record]));
    return ids.flatMap((id) => {
      const record = byId.get(id);
      return record ? [record] : [];
    });
  }

  async list(query: HistoryQuery): Promise<HistoryPage> {
    if (matchesNothing(query)) return { items: [] };
    const { where, params } = historyCondition(query);
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    params.push(query.limit + 1);
    const rows = await this.database.query<{ record: ExecutionRecord }>(
      `SELECT record FROM forest_executions WHERE ${where}
       ORDER BY sort_key ${direction} LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, query.limit).map((row) => row.record);
    return rows.length > query.limit
      ? { items, next: historySortKey(items[items.length - 1].id) }
      : { items };
  }

  /** By age and per-job count; the size budget does not apply (deleted.size is 0). */
  async prune(policy: HistoryRetention): Promise<PruneReport> {
    const age = await this.deleteInBatches(PRUNE_BY_AGE, policy.cutoffMs);
    const count = await this.deleteInBatches(PRUNE_BY_COUNT, policy.keepPerJob);
    const [{ records }] = await this.database.query<{ records: number }>(
      'SELECT count(*)::int AS records FROM forest_executions',
    );
    return { deleted: { age, count, size: 0 }, records };
  }

  async stats(query: HistoryStatsQuery): Promise<HistoryStatsBucket[]> {
    checkStatsQuery(query);
    const params: unknown[] = [query.fromMs, query.toMs, query.bucketMs];
    let scope = '';
    if (query.groups !== undefined) {
      params.push([...query.groups]);
      scope = 'AND group_name = ANY($4::text[])';
    }
    const window = `FROM forest_executions
      WHERE finished_ms >= $1 AND finished_ms < $2 ${scope}`;
    const bucket = '((finished_ms - $1::bigint) / $3::bigint)::int';
    const [counts, lags] = await Promise.all([
      this.database.query<{ bucket: number; status: ExecutionStatus; n: number }>(
        `SELECT ${bucket} AS bucket, status, count(*)::int AS n ${window} GROUP BY 1, 2`,
        params,
      ),
      this.database.query<{ bucket: number; p50: number; p99: number; max: string }>(
        `SELECT ${bucket} AS bucket,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY lag_ms) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY lag_ms) AS p99,
           max(lag_ms) AS max
         ${window} AND lag_ms IS NOT NULL GROUP BY 1`,
        params,
      ),
    ]);
    const buckets = emptyBuckets(query);
    for (const row of counts) buckets[row.bucket].counts[row.status] = row.n;
    for (const row of lags) {
      buckets[row.bucket].lagMs = { p50: row.p50, p99: row.p99, max: Number(row.max) };
    }
    return buckets;
  }

  close(): Promise<void> {
    return this.database.release();
  }

  /** Runs a retention statement batch after batch until one deletes less than a batch. */
  private async deleteInBatches(statement: string, bound: number): Promise<number> {
    let deleted = 0;
    for (let batch = 0; batch < PRUNE_MAX_BATCHES; batch++) {
      const [{ deleted: now }] = await this.database.transaction(async (sql) => {
        return (await sql.query<{ deleted: number }>(statement, [bound, PRUNE_BATCH])).rows;
      }, PRUNE_STATEMENT_TIMEOUT_MS);
      deleted += now;
      if (now < PRUNE_BATCH) break;
    }
    return deleted;
  }
}
