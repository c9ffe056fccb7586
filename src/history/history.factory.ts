import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { CoordinationStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { ExecutionHistory, ExecutionLogs } from './history.port';
import { LogBounds } from './log-bounds';
import { MemoryExecutionLogs } from './memory-logs';
import { describePostgresUrl, PostgresDatabase } from './postgres/postgres-database';
import { PostgresExecutionLogs } from './postgres/postgres-logs';
import { PostgresHistory } from './postgres/postgres-history';
import { StoreHistory } from './store-history';

const logger = new Logger('ExecutionHistory');

/**
 * With FOREST_HISTORY_URL: the history database, connected and migrated (a database that
 * cannot be reached or is newer than this code fails the boot, saying why). Without: null.
 */
export async function openHistoryDatabase(config: ForestConfig): Promise<PostgresDatabase | null> {
  if (config.historyUrl === undefined) return null;
  const { database, applied } = await PostgresDatabase.open(
    {
      url: config.historyUrl,
      tls: config.historyTls,
      ca: config.historyTlsCa !== undefined ? readFileSync(config.historyTlsCa) : undefined,
      poolSize: config.historyPoolSize,
    },
    (error) => logger.warn(`history database connection failed while idle: ${error.message}`),
  );
  logger.log(
    `execution history in PostgreSQL at ${describePostgresUrl(config.historyUrl)} ` +
      `tls=${config.historyTls} pool=${config.historyPoolSize}` +
      (applied.length > 0 ? `; applied schema migrations ${applied.join(', ')}` : ''),
  );
  return database;
}

/** PostgreSQL when a history database is configured, else the coordination store. */
export function createExecutionHistory(
  config: ForestConfig,
  database: PostgresDatabase | null,
  store: CoordinationStore,
): ExecutionHistory {
  if (database) return new PostgresHistory(database);
  if (config.etcdEndpoints.length > 0) {
    logger.warn(
      `execution history is kept in etcd, bounded by FOREST_HISTORY_STORE_MAX_MB ` +
        `(${config.historyStoreMaxMb}); set FOREST_HISTORY_URL for PostgreSQL`,
    );
  } else {
    logger.log(`execution history in the embedded store (at most ${config.historyStoreMaxMb} MiB)`);
  }
  return new StoreHistory(store);
}

/**
 * Where execution logs go: the history database; else, on the embedded store (one node),
 * this node's memory; else (etcd without a history database) nowhere: logs are never kept
 * in etcd.
 */
export function createExecutionLogs(
  config: ForestConfig,
  database: PostgresDatabase | null,
): ExecutionLogs | null {
  const bounds: LogBounds = {
    maxBytesPerExecution: config.logMaxBytesPerExecution,
    maxLinesPerExecution: config.logMaxLinesPerExecution,
  };
  if (database) return new PostgresExecutionLogs(database, bounds);
  if (config.etcdEndpoints.length === 0) return new MemoryExecutionLogs(bounds);
  logger.log('execution logs are not kept: set FOREST_HISTORY_URL to keep them');
  return null;
}
