import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ForestConfig } from '../config/forest.config';
import { COORDINATION_STORE } from '../store/store.tokens';
import {
  createExecutionHistory,
  createExecutionLogs,
  openHistoryDatabase,
} from './history.factory';
import { ExecutionHistory, ExecutionLogs } from './history.port';
import { EXECUTION_HISTORY, EXECUTION_LOGS } from './history.tokens';
import { LogArrivals } from './log-arrivals';
import { PostgresDatabase } from './postgres/postgres-database';

/** The history database (FOREST_HISTORY_URL), or null; shared by both adapters. */
const HISTORY_DATABASE = Symbol('HISTORY_DATABASE');

/**
 * Provides the execution history (EXECUTION_HISTORY: PostgreSQL with FOREST_HISTORY_URL,
 * after its migrations; else the coordination store) and the execution logs
 * (EXECUTION_LOGS: PostgreSQL; on the embedded store, memory; on etcd without a history
 * database, null), and LogArrivals, which wakes log follow streams when lines are stored.
 * Global: the mover, the executions API and retention all use them.
 * Closes both on shutdown, after the modules that use them and before the store.
 */
@Global()
@Module({
  providers: [
    {
      provide: HISTORY_DATABASE,
      inject: [ForestConfig],
      useFactory: openHistoryDatabase,
    },
    {
      provide: EXECUTION_HISTORY,
      inject: [ForestConfig, HISTORY_DATABASE, COORDINATION_STORE],
      useFactory: createExecutionHistory,
    },
    {
      provide: EXECUTION_LOGS,
      inject: [ForestConfig, HISTORY_DATABASE],
      useFactory: createExecutionLogs,
    },
    LogArrivals,
  ],
  exports: [EXECUTION_HISTORY, EXECUTION_LOGS, LogArrivals],
})
export class HistoryModule implements OnApplicationShutdown {
  constructor(
    @Inject(EXECUTION_HISTORY) private readonly history: ExecutionHistory,
    @Inject(EXECUTION_LOGS) private readonly logs: ExecutionLogs | null,
    @Inject(HISTORY_DATABASE) private readonly database: PostgresDatabase | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.logs?.close();
    await this.history.close();
    // Ends the pool even if an adapter's close did not get to release it.
    await this.database?.end();
  }
}
