import { ExecutionLogs, LogAppendResult, LogLevel, LogLine } from '../history.port';
import { admitLogLines, DEFAULT_LOG_BOUNDS, LogBounds } from '../log-bounds';
import { withoutNul } from './history-sql';
import { PostgresDatabase } from './postgres-database';

export interface PostgresExecutionLogsOptions extends Partial<LogBounds> {
  /** Clock of the last append (for prune); tests inject one. */
  now?: () => number;
}

/** Executions whose logs one prune statement deletes. */
const PRUNE_BATCH = 1_000;
const PRUNE_MAX_BATCHES = 100;

const PRUNE_OLD_LOGS = `
  WITH doomed AS (
    SELECT execution_id FROM forest_execution_log_totals WHERE updated_ms < $1 LIMIT $2
  ),
  gone_lines AS (
    DELETE FROM forest_execution_logs l USING doomed
    WHERE l.execution_id = doomed.execution_id RETURNING 1
  ),
  gone_totals AS (
    DELETE FROM forest_execution_log_totals t USING doomed
    WHERE t.execution_id = doomed.execution_id RETURNING 1
  )
  SELECT (SELECT count(*) FROM gone_lines)::int AS lines,
         (SELECT count(*) FROM gone_totals)::int AS executions`;

/**
 * Execution logs in the history database: one row per line, keyed (execution_id, seq) so
 * a resent batch inserts nothing twice, and one totals row per execution that each append
 * locks and updates in the same transaction, so the per-execution bound holds however
 * many nodes append lines of one execution at once. Lines past the bound are counted in
 * the totals row (`dropped`). Logs of executions that history retention deletes are
 * deleted with them (PostgresHistory.prune); `prune` here removes logs nobody appended to
 * since the cutoff.
 */
export class PostgresExecutionLogs implements ExecutionLogs {
  readonly kind = 'postgres';
  private readonly bounds: LogBounds;
  private readonly now: () => number;

  constructor(
    private readonly database: PostgresDatabase,
    options: PostgresExecutionLogsOptions = {},
  ) {
    database.retain();
    this.bounds = {
      maxBytesPerExecution: options.maxBytesPerExecution ?? DEFAULT_LOG_BOUNDS.maxBytesPerExecution,
      maxLinesPerExecution: options.maxLinesPerExecution ?? DEFAULT_LOG_BOUNDS.maxLinesPerExecution,
    };
    this.now = options.now ?? Date.now;
  }

  append(executionId: string, lines: readonly LogLine[]): Promise<LogAppendResult> {
    if (lines.length === 0) return Promise.resolve({ stored: 0, dropped: 0 });
    const nowMs = this.now();
    const clean = lines.map((line) => ({ ...line, text: withoutNul(line.text) }));
    return this.database.transaction(async (sql) => {
      await sql.query(
        `INSERT INTO forest_execution_log_totals (execution_id, lines, bytes, dropped, updated_ms)
         VALUES ($1, 0, 0, 0, $2) ON CONFLICT (execution_id) DO NOTHING`,
        [executionId, nowMs],
      );
      // The lock serialises appends of one execution: the bound is checked against totals
      // no other append changes until this one commits.
      const [totals] = (
        await sql.query<{ lines: number; bytes: string; dropped: number }>(
          `SELECT lines, bytes, dropped FROM forest_execution_log_totals
           WHERE execution_id = $1 FOR UPDATE`,
          [executionId],
        )
      ).rows;
      const stored = new Set(
        (
          await sql.query<{ seq: number }>(
            `SELECT seq FROM forest_execution_logs
             WHERE execution_id = $1 AND seq = ANY($2::int[])`,
            [executionId, clean.map((line) => line.seq)],
          )
        ).rows.map((row) => row.seq),
      );
      const admitted = admitLogLines(
        clean,
        (seq) => stored.has(seq),
        { lines: totals.lines, bytes: Number(totals.bytes), dropped: totals.dropped },
        this.bounds,
      );
      if (admitted.store.length > 0) {
        await sql.query(
          `INSERT INTO forest_execution_logs (execution_id, seq, at_ms, level, text)
           SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[])
           ON CONFLICT (execution_id, seq) DO NOTHING`,
          [
            executionId,
            admitted.store.map((line) => line.seq),
            admitted.store.map((line) => line.atMs),
            admitted.store.map((line) => line.level),
            admitted.store.map((line) => line.text),
          ],
        );
      }
      await sql.query(
        `UPDATE forest_execution_log_totals
         SET lines = lines + $2, bytes = bytes + $3, dropped = dropped + $4, updated_ms = $5
         WHERE execution_id = $1`,
        [executionId, admitted.store.length, admitted.bytes, admitted.dropped, nowMs],
      );
      return { stored: admitted.store.length, dropped: admitted.dropped };
    });
  }

  async read(executionId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    if (limit <= 0) return [];
    const rows = await this.database.query<{
      seq: number;
      at_ms: string;
      level: LogLevel;
      text: string;
    }>(
      `SELECT seq, at_ms, level, text FROM forest_execution_logs
       WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [executionId, afterSeq, limit],
    );
    return rows.map((row) => ({
      seq: row.seq,
      atMs: Number(row.at_ms),
      level: row.level,
      text: row.text,
    }));
  }

  /** Deletes the logs of executions nobody appended to since `cutoffMs`; answers lines. */
  async prune(cutoffMs: number): Promise<number> {
    let lines = 0;
    for (let batch = 0; batch < PRUNE_MAX_BATCHES; batch++) {
      const [result] = await this.database.query<{ lines: number; executions: number }>(
        PRUNE_OLD_LOGS,
        [cutoffMs, PRUNE_BATCH],
      );
      lines += result.lines;
      if (result.executions < PRUNE_BATCH) break;
    }
    return lines;
  }

  close(): Promise<void> {
    return this.database.release();
  }
}
