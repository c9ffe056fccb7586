import { ExecutionRecord, firstAttemptId, scheduledExecKey } from '@forest/protocol';
import { fireLagMs } from '../history-stats';
import { HistoryFilters, HistoryQuery, historySortKey, sortKeyTimeMs } from '../history.port';

/**
 * The SQL pieces of PostgresHistory that are pure functions of their input (so they are
 * unit-tested without a database): the WHERE clause of a query, LIKE escaping, and the
 * row a record is stored as.
 */

/** Sorts after every character of an execution id (`[A-Za-z0-9._~-]`). */
const AFTER_ID = '\x7f';

/** A WHERE clause (`TRUE` when nothing filters) and its parameters ($1, $2, ...). */
export interface SqlCondition {
  where: string;
  params: unknown[];
}

/**
 * `text` as a LIKE pattern that matches it literally anywhere: `%`, `_` and the escape
 * character `\` itself are escaped (backslash is LIKE's default escape character).
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** PostgreSQL text cannot hold NUL: it becomes U+FFFD. */
export function withoutNul(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
}

/**
 * The conditions of a history query, on indexed columns where they can be: time bounds
 * and the cursor as sort_key ranges (the sort key starts with the key time), attemptsOf as
 * the narrow sort_key range every attempt shares plus an exact match.
 */
export function historyCondition(
  filters: HistoryFilters & Pick<HistoryQuery, 'before' | 'order'>,
): SqlCondition {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.jobId !== undefined) clauses.push(`job_id = ${param(filters.jobId)}`);
  if (filters.group !== undefined) clauses.push(`group_name = ${param(filters.group)}`);
  if (filters.groups !== undefined) {
    clauses.push(`group_name = ANY(${param([...filters.groups])}::text[])`);
  }
  if (filters.status !== undefined) clauses.push(`status = ${param(filters.status)}`);
  if (filters.worker !== undefined) clauses.push(`worker = ${param(filters.worker)}`);
  if (filters.trigger !== undefined) clauses.push(`"trigger" = ${param(filters.trigger)}`);
  if (filters.fromMs !== undefined) {
    clauses.push(`sort_key >= ${param(scheduledExecKey(Math.max(0, filters.fromMs)))}`);
  }
  if (filters.toMs !== undefined) {
    clauses.push(
      `sort_key < ${param(`${scheduledExecKey(Math.max(0, filters.toMs))}${AFTER_ID}`)}`,
    );
  }
  if (filters.attemptsOf !== undefined) {
    const prefix = historySortKey(filters.attemptsOf);
    clauses.push(
      `sort_key >= ${param(prefix)}`,
      `sort_key < ${param(`${prefix}${AFTER_ID}`)}`,
      `first_attempt_id = ${param(filters.attemptsOf)}`,
    );
  }
  if (filters.text !== undefined) {
    const pattern = param(containsPattern(withoutNul(filters.text)));
    clauses.push(`(output ILIKE ${pattern} OR error ILIKE ${pattern})`);
  }
  if (filters.before !== undefined) {
    const op = filters.order === 'asc' ? '>' : '<';
    clauses.push(`sort_key ${op} ${param(filters.before)}`);
  }
  return { where: clauses.length > 0 ? clauses.join(' AND ') : 'TRUE', params };
}

/** Columns of forest_executions in the order executionRow fills them, with their types. */
export const EXECUTION_COLUMNS = [
  ['id', 'text'],
  ['sort_key', 'text'],
  ['first_attempt_id', 'text'],
  ['job_id', 'text'],
  ['group_name', 'text'],
  ['status', 'text'],
  ['worker', 'text'],
  ['"trigger"', 'text'],
  ['key_time_ms', 'bigint'],
  ['scheduled_ms', 'bigint'],
  ['started_ms', 'bigint'],
  ['finished_ms', 'bigint'],
  ['lag_ms', 'bigint'],
  ['output', 'text'],
  ['error', 'text'],
  ['record', 'jsonb'],
] as const;

/**
 * Appends rows given column by column (`executionColumns`): one array parameter per
 * column, so the statement is short and the same for any number of rows, where a VALUES
 * list of thousands of parameters had to be parsed and planned for every batch. It is not
 * a named prepared statement: those break behind poolers in transaction mode (PgBouncer).
 * The first copy of an id wins, in the table and within the batch.
 */
export const INSERT_EXECUTIONS = `
  INSERT INTO forest_executions (${EXECUTION_COLUMNS.map(([name]) => name).join(', ')})
  SELECT * FROM unnest(${EXECUTION_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  ON CONFLICT (id) DO NOTHING`;

/** Final records as the column arrays of INSERT_EXECUTIONS (one array per column). */
export function executionColumns(records: readonly ExecutionRecord[]): unknown[][] {
  const columns: unknown[][] = EXECUTION_COLUMNS.map(() => new Array<unknown>(records.length));
  records.forEach((record, row) => {
    executionRow(record).forEach((value, column) => (columns[column][row] = value));
  });
  return columns;
}

/** A final record as the values of one forest_executions row. */
export function executionRow(record: ExecutionRecord): unknown[] {
  const sortKey = historySortKey(record.id);
  const keyTimeMs = sortKeyTimeMs(sortKey);
  const startedMs = parseMs(record.startedAt);
  return [
    record.id,
    sortKey,
    firstAttemptId(record.id),
    record.jobId,
    record.group,
    record.status,
    record.worker ?? null,
    record.trigger,
    keyTimeMs,
    record.scheduledMs,
    startedMs ?? null,
    parseMs(record.finishedAt) ?? keyTimeMs,
    fireLagMs(record) ?? null,
    record.output === undefined ? null : withoutNul(record.output),
    record.error === undefined ? null : withoutNul(record.error),
    jsonWithoutNul(JSON.stringify(record)),
  ];
}

/**
 * JSON text whose strings (keys included: a job's params may have any key) hold no NUL,
 * which jsonb refuses: each `\u0000` escape becomes `\ufffd`. It is an escape only after an
 * even run of backslashes (`\\u0000` is an escaped backslash, then the text "u0000").
 */
export function jsonWithoutNul(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;
}

function parseMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}
