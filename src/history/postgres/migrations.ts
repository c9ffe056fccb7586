import { HistorySchemaError } from '../history.errors';

/**
 * One step of the history database's schema. Versions ascend with no gaps; a released
 * migration is never edited (a change is a new migration), because databases record only
 * the versions they applied. Kept as TypeScript, not .sql files, so `nest build` ships them.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'execution history',
    // sort_key is `{15-digit key time}-{id}` in byte order (COLLATE "C"): newest first is
    // descending sort_key, the same order the coordination store pages in. The indexes
    // serve newest-first paging overall and per job, group and status, and retention.
    sql: `
      CREATE TABLE forest_executions (
        id text PRIMARY KEY,
        sort_key text COLLATE "C" NOT NULL,
        first_attempt_id text NOT NULL,
        job_id text NOT NULL,
        group_name text NOT NULL,
        status text NOT NULL,
        worker text,
        "trigger" text NOT NULL,
        key_time_ms bigint NOT NULL,
        scheduled_ms bigint NOT NULL,
        started_ms bigint,
        finished_ms bigint NOT NULL,
        lag_ms bigint,
        output text,
        error text,
        record jsonb NOT NULL
      );
      CREATE UNIQUE INDEX forest_executions_sort_key ON forest_executions (sort_key);
      CREATE INDEX forest_executions_job ON forest_executions (job_id, sort_key);
      CREATE INDEX forest_executions_group ON forest_executions (group_name, sort_key);
      CREATE INDEX forest_executions_status ON forest_executions (status, sort_key);
      CREATE INDEX forest_executions_finished ON forest_executions (finished_ms);
    `,
  },
  {
    version: 2,
    name: 'execution logs',
    // One row per line; the totals row per execution holds the bound's running counts and
    // is locked by each append, so concurrent appends of one execution cannot both pass it.
    sql: `
      CREATE TABLE forest_execution_logs (
        execution_id text NOT NULL,
        seq integer NOT NULL,
        at_ms bigint NOT NULL,
        level text NOT NULL,
        text text NOT NULL,
        PRIMARY KEY (execution_id, seq)
      );
      CREATE TABLE forest_execution_log_totals (
        execution_id text PRIMARY KEY,
        lines integer NOT NULL,
        bytes bigint NOT NULL,
        dropped integer NOT NULL,
        updated_ms bigint NOT NULL
      );
      CREATE INDEX forest_execution_log_totals_updated ON forest_execution_log_totals (updated_ms);
    `,
  },
];

/** Throws unless versions are 1, 2, 3, ... in order (a mistake in MIGRATIONS). */
export function checkMigrationOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migration "${migration.name}" has version ${migration.version}; expected ${index + 1}`,
      );
    }
  });
}

/**
 * The migrations a database that applied `applied` still needs, in order. A version this
 * code does not know means a newer Forest migrated the database: refused, since this code
 * would write rows that schema may not accept or read them wrongly.
 */
export function pendingMigrations(
  applied: readonly number[],
  migrations: readonly Migration[] = MIGRATIONS,
): Migration[] {
  checkMigrationOrder(migrations);
  const known = new Set(migrations.map((migration) => migration.version));
  const unknown = applied.filter((version) => !known.has(version)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    throw new HistorySchemaError(
      `the history database has schema version ${unknown.at(-1)}, newer than this Forest ` +
        `knows (up to ${migrations.length}): upgrade Forest, or point FOREST_HISTORY_URL at ` +
        'another database',
    );
  }
  const done = new Set(applied);
  return migrations.filter((migration) => !done.has(migration.version));
}
