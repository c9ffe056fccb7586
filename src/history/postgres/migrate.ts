import { PoolClient } from 'pg';
import { Migration, MIGRATIONS, pendingMigrations } from './migrations';

/**
 * Key of the advisory lock every node takes to migrate: nodes starting together migrate
 * one after the other, and the later ones find nothing to do. (Any constant that no other
 * application on the database uses; this one is "forest" in ASCII.)
 */
const MIGRATION_LOCK_KEY = 0x666f72657374;

/** Longest the migration transaction may take (waiting for the lock included). */
const MIGRATION_TIMEOUT = '5min';

/**
 * Brings the schema up to date in one transaction under an advisory lock: creates the
 * migrations table if needed, refuses a database newer than this code, applies what is
 * missing and records it. Returns the versions it applied.
 */
export async function migrate(
  client: PoolClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = '${MIGRATION_TIMEOUT}'`);
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS forest_schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const applied = await client.query<{ version: number }>(
      'SELECT version FROM forest_schema_migrations',
    );
    const pending = pendingMigrations(
      applied.rows.map((row) => row.version),
      migrations,
    );
    for (const migration of pending) {
      await client.query(migration.sql);
      await client.query('INSERT INTO forest_schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    await client.query('COMMIT');
    return pending.map((migration) => migration.version);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
