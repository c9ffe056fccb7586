import { Client } from 'pg';
import { HistorySchemaError, HistoryUnavailableError } from '../../src/history/history.errors';
import { MIGRATIONS } from '../../src/history/postgres/migrations';
import { PostgresDatabase } from '../../src/history/postgres/postgres-database';
import { PostgresExecutionLogs } from '../../src/history/postgres/postgres-logs';
import { PostgresHistory } from '../../src/history/postgres/postgres-history';
import { freePort } from '../support/etcd-harness';
import { PostgresHarness } from '../support/postgres-harness';
import { describeHistoryContract } from './history-contract';
import { finishedRecord } from './history-fixtures';

let postgres: PostgresHarness;

beforeAll(async () => {
  postgres = await PostgresHarness.start();
});

afterAll(async () => {
  await postgres?.stop();
});

/** A migrated database of its own (isolation per test). */
async function openDatabase(
  statementTimeoutMs?: number,
): Promise<{ database: PostgresDatabase; url: string }> {
  const url = await postgres.freshDatabase();
  const { database } = await PostgresDatabase.open({
    url,
    tls: 'off',
    poolSize: 4,
    statementTimeoutMs,
  });
  return { database, url };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describeHistoryContract(
  'PostgresHistory',
  async () => {
    const { database } = await openDatabase();
    const history = new PostgresHistory(database);
    return { history, dispose: () => history.close() };
  },
  { sizeBudget: false },
);

describe('PostgresHistory schema', () => {
  it('migrates a new database once, recording each version', async () => {
    const url = await postgres.freshDatabase();
    const opened = await Promise.all(
      [1, 2, 3].map(() => PostgresDatabase.open({ url, tls: 'off', poolSize: 2 })),
    );
    // Nodes booting together: one applies everything, the others find nothing to do.
    expect(opened.map((o) => o.applied).sort((a, b) => b.length - a.length)).toEqual([
      MIGRATIONS.map((m) => m.version),
      [],
      [],
    ]);
    await Promise.all(opened.map((o) => o.database.end()));
    const versions = await withClient(
      url,
      async (client) =>
        (
          await client.query<{ version: number }>(
            'SELECT version FROM forest_schema_migrations ORDER BY version',
          )
        ).rows,
    );
    expect(versions.map((row) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('refuses a database migrated by a newer Forest, saying so', async () => {
    const { database, url } = await openDatabase();
    await database.end();
    const newer = MIGRATIONS.length + 1;
    await withClient(url, (client) =>
      client.query("INSERT INTO forest_schema_migrations (version, name) VALUES ($1, 'future')", [
        newer,
      ]),
    );
    const open = PostgresDatabase.open({ url, tls: 'off', poolSize: 1 });
    await expect(open).rejects.toBeInstanceOf(HistorySchemaError);
    await expect(open).rejects.toThrow(`schema version ${newer}, newer than this Forest`);
  });

  it('fails the boot with the reason when the database cannot be reached', async () => {
    const url = `postgres://postgres:secret@127.0.0.1:${await freePort()}/nowhere`;
    const open = PostgresDatabase.open({ url, tls: 'off', poolSize: 1 });
    await expect(open).rejects.toBeInstanceOf(HistorySchemaError);
    await expect(open).rejects.toThrow(
      /cannot prepare the history database at postgres:\/\/postgres:\*\*\*@/,
    );
  });
});

describe('PostgresHistory when the database is slow or gone', () => {
  it('gives up on a statement past the timeout with HistoryUnavailableError', async () => {
    const { database, url } = await openDatabase(300);
    const history = new PostgresHistory(database);
    try {
      // Another session holds a lock on the table: the insert waits until the timeout.
      await withClient(url, async (blocker) => {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE forest_executions IN ACCESS EXCLUSIVE MODE');
        await expect(history.append([finishedRecord()])).rejects.toBeInstanceOf(
          HistoryUnavailableError,
        );
        await blocker.query('ROLLBACK');
      });
      // And answers again once the database does.
      await history.append([finishedRecord()]);
      expect(await history.get(finishedRecord().id)).toBeDefined();
    } finally {
      await history.close();
    }
  });

  it('answers HistoryUnavailableError while the server is down', async () => {
    const doomed = await PostgresHarness.start();
    const { database } = await PostgresDatabase.open({ url: doomed.url, tls: 'off', poolSize: 2 });
    const history = new PostgresHistory(database);
    try {
      await history.append([finishedRecord()]);
      await doomed.stop();
      await expect(history.list({ limit: 1 })).rejects.toBeInstanceOf(HistoryUnavailableError);
      await expect(history.get(finishedRecord().id)).rejects.toBeInstanceOf(
        HistoryUnavailableError,
      );
    } finally {
      await history.close();
      await doomed.stop();
    }
  });
});

describe('PostgresHistory retention and logs', () => {
  it('deletes the logs of the executions it prunes', async () => {
    const { database } = await openDatabase();
    const history = new PostgresHistory(database);
    const logs = new PostgresExecutionLogs(database);
    try {
      const old = finishedRecord({ atMs: 0 });
      const young = finishedRecord({ atMs: 10_000 });
      await history.append([old, young]);
      const line = { seq: 1, atMs: 1, level: 'info' as const, text: 'hello' };
      await logs.append(old.id, [line]);
      await logs.append(young.id, [line]);
      await history.prune({ keepPerJob: 1, cutoffMs: 0 });
      expect(await logs.read(old.id, 0, 10)).toEqual([]);
      expect(await logs.read(young.id, 0, 10)).toEqual([line]);
    } finally {
      await logs.close();
      await history.close();
    }
  });

  it('keeps NUL characters out of the database', async () => {
    const { database } = await openDatabase();
    const history = new PostgresHistory(database);
    try {
      const record = finishedRecord({ output: 'a\0b' });
      await history.append([record]);
      expect((await history.get(record.id))?.output).toBe('a\uFFFDb');
    } finally {
      await history.close();
    }
  });
});
