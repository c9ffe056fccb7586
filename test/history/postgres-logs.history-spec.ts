import { PostgresDatabase } from '../../src/history/postgres/postgres-database';
import { PostgresExecutionLogs } from '../../src/history/postgres/postgres-logs';
import { PostgresHarness } from '../support/postgres-harness';
import { describeLogsContract } from './logs-contract';

let postgres: PostgresHarness;

beforeAll(async () => {
  postgres = await PostgresHarness.start();
});

afterAll(async () => {
  await postgres?.stop();
});

describeLogsContract('PostgresExecutionLogs', async (options) => {
  const url = await postgres.freshDatabase();
  const { database } = await PostgresDatabase.open({ url, tls: 'off', poolSize: 4 });
  const logs = new PostgresExecutionLogs(database, options);
  return { logs, dispose: () => logs.close() };
});

describe('PostgresExecutionLogs under concurrent appends', () => {
  it('holds the bound when nodes append lines of one execution at once', async () => {
    const url = await postgres.freshDatabase();
    const { database } = await PostgresDatabase.open({ url, tls: 'off', poolSize: 8 });
    const logs = new PostgresExecutionLogs(database, { maxLinesPerExecution: 50 });
    try {
      const batches = Array.from({ length: 8 }, (_, batch) =>
        Array.from({ length: 10 }, (_, i) => ({
          seq: batch * 10 + i + 1,
          atMs: 1,
          level: 'info' as const,
          text: 'x',
        })),
      );
      const results = await Promise.all(batches.map((lines) => logs.append('job~1', lines)));
      const stored = results.reduce((sum, result) => sum + result.stored, 0);
      const dropped = results.reduce((sum, result) => sum + result.dropped, 0);
      expect(stored).toBe(50);
      expect(dropped).toBe(30);
      expect(await logs.read('job~1', 0, 1000)).toHaveLength(50);
    } finally {
      await logs.close();
    }
  });
});
