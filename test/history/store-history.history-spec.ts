import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executionKeyOf, Keyspace } from '@forest/protocol';
import { CoordinationStore, EmbeddedStore, EtcdStore } from '@forest/store';
import { historySortKey } from '../../src/history/history.port';
import { HISTORY_SCAN_BUDGET, StoreHistory } from '../../src/history/store-history';
import { EtcdHarness, removeOnExit } from '../support/etcd-harness';
import { describeHistoryContract, listAll } from './history-contract';
import { BASE_MS, finishedRecord } from './history-fixtures';

interface StoreUnderTest {
  store: CoordinationStore;
  dispose(): Promise<void>;
}

async function openEmbedded(): Promise<StoreUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'forest-history-'));
  removeOnExit.add(dataDir);
  const store = await EmbeddedStore.open({ dataDir });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
      removeOnExit.delete(dataDir);
    },
  };
}

let etcd: EtcdHarness;

beforeAll(async () => {
  etcd = await EtcdHarness.start();
});

afterAll(async () => {
  await etcd?.stop();
});

/** A store on its own prefix, so tests share one etcd without seeing each other's keys. */
function openEtcd(): Promise<StoreUnderTest> {
  const store = new EtcdStore({
    endpoints: [etcd.endpoint],
    prefix: `/forest-history-test/${randomUUID()}/`,
    requestTimeoutMs: 5000,
  });
  return Promise.resolve({ store, dispose: () => store.close() });
}

const stores: [string, () => Promise<StoreUnderTest>][] = [
  ['embedded store', openEmbedded],
  ['etcd', openEtcd],
];

for (const [name, openStore] of stores) {
  describeHistoryContract(
    `StoreHistory on the ${name}`,
    async () => {
      const { store, dispose } = await openStore();
      const history = new StoreHistory(store);
      return {
        history,
        dispose: async () => {
          await history.close();
          await dispose();
        },
      };
    },
    { sizeBudget: true },
  );

  describe(`StoreHistory on the ${name}`, () => {
    let subject: StoreUnderTest;
    let history: StoreHistory;

    beforeEach(async () => {
      subject = await openStore();
      history = new StoreHistory(subject.store);
    });

    afterEach(async () => {
      await history.close();
      await subject.dispose();
    });

    it('keeps each record under history/{sortKey}', async () => {
      const record = finishedRecord();
      await history.append([record]);
      const kv = await subject.store.get(Keyspace.historyEntry(historySortKey(record.id)));
      expect(JSON.parse(kv!.value)).toEqual(record);
    });

    it('appendOps moves a live execution in one txn, and only once', async () => {
      const record = finishedRecord();
      const liveKey = executionKeyOf(record.id)!;
      const { revision } = await subject.store.put(liveKey, JSON.stringify(record));
      const move = () => {
        const append = history.appendOps(record);
        return subject.store.txn({
          compare: [
            ...append.compare,
            { key: liveKey, target: 'modRevision', op: '==', value: revision },
          ],
          success: [...append.success, { type: 'delete', key: liveKey }],
        });
      };
      expect((await move()).succeeded).toBe(true);
      expect(await subject.store.get(liveKey)).toBeUndefined();
      expect(await history.get(record.id)).toEqual(record);

      // A second move (the live key written back meanwhile) is refused: already in history.
      await subject.store.put(liveKey, JSON.stringify(record));
      const again = history.appendOps(record);
      const refused = await subject.store.txn({
        compare: again.compare,
        success: again.success,
      });
      expect(refused.succeeded).toBe(false);
    });

    it('reads at most the scan budget per page and carries on from where it stopped', async () => {
      // More non-matching records than one page may scan, and one match older than them.
      const needle = finishedRecord({ jobId: 'job-needle', atMs: 0 });
      const hay = Array.from({ length: HISTORY_SCAN_BUDGET + 300 }, (_, i) =>
        finishedRecord({ jobId: 'job-hay', atMs: 1000 + i }),
      );
      await history.append([needle, ...hay]);

      const first = await history.list({ jobId: 'job-needle', limit: 10 });
      expect(first.items).toEqual([]);
      expect(first.next).toBeDefined();
      expect(Number(first.next!.slice(0, 15))).toBeGreaterThan(BASE_MS);
      expect(await listAll(history, { jobId: 'job-needle', limit: 10 })).toEqual([needle]);

      const oldestFirst = await history.list({ jobId: 'job-needle', limit: 10, order: 'asc' });
      expect(oldestFirst.items).toEqual([needle]);
    });

    it('reports the records and bytes it keeps', async () => {
      const records = [finishedRecord({ atMs: 0 }), finishedRecord({ atMs: 1000 })];
      await history.append(records);
      const report = await history.prune({ keepPerJob: 10, cutoffMs: 0, maxBytes: 1 << 20 });
      expect(report.records).toBe(2);
      expect(report.bytes).toBe(
        records.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)), 0),
      );
    });
  });
}
