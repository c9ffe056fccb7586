import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionKeyOf } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import { finishedRecord } from '../../test/history/history-fixtures';
import { MetricsService } from '../metrics/metrics.service';
import { HistoryMover } from './history-mover';
import { ExecutionHistory } from './history.port';

describe('HistoryMover', () => {
  let dataDir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-mover-'));
    store = await EmbeddedStore.open({ dataDir });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves a record in the store while the history database fails, counting it, and moves it after', async () => {
    const record = finishedRecord({ jobId: 'mv-job' });
    const key = executionKeyOf(record.id)!;
    const { revision } = await store.put(key, JSON.stringify(record));
    const append = jest.fn().mockRejectedValueOnce(new Error('connection refused'));
    const database = { kind: 'postgres', append } as unknown as ExecutionHistory;
    const metrics = new MetricsService();
    const mover = new HistoryMover(database, store, metrics);
    const counted = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);

    await expect(mover.move([{ record, modRevision: revision }])).rejects.toThrow('refused');
    expect(await store.get(key)).toBeDefined();
    expect(await counted('forest_history_move_failures_total')).toBe(1);
    expect(await counted('forest_history_moved_total')).toBe(0);

    append.mockResolvedValue(undefined);
    expect(await mover.move([{ record, modRevision: revision }])).toEqual({ moved: 1, skipped: 0 });
    expect(append).toHaveBeenLastCalledWith([record]);
    expect(await store.get(key)).toBeUndefined();
    expect(await counted('forest_history_moved_total')).toBe(1);
    expect(await counted('forest_history_move_failures_total')).toBe(1);
  });
});
