import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '@forest/store';
import { loadConfig } from '../config/forest.config';
import { createExecutionHistory, createExecutionLogs } from './history.factory';
import { MemoryExecutionLogs } from './memory-logs';
import { StoreHistory } from './store-history';

describe('history factory', () => {
  it('keeps logs in memory on the embedded store and nowhere on etcd without a database', () => {
    const embedded = loadConfig({ FOREST_LOG_MAX_LINES_PER_EXECUTION: '5' });
    expect(createExecutionLogs(embedded, null)).toBeInstanceOf(MemoryExecutionLogs);
    const etcd = loadConfig({ FOREST_ETCD_ENDPOINTS: '127.0.0.1:2379' });
    expect(createExecutionLogs(etcd, null)).toBeNull();
  });

  it('keeps history in the store without FOREST_HISTORY_URL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'forest-history-factory-'));
    const store = await EmbeddedStore.open({ dataDir });
    try {
      const history = createExecutionHistory(loadConfig({}), null, store);
      expect(history).toBeInstanceOf(StoreHistory);
      await history.close();
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
