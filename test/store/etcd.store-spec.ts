import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { EtcdStore, StoreCompactedError } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';
import { describeStoreContract, EventRecorder, sleep } from './store-contract';

let etcd: EtcdHarness;

beforeAll(async () => {
  etcd = await EtcdHarness.start();
});

afterAll(async () => {
  await etcd?.stop();
});

/** A store on its own prefix, so tests share one etcd without seeing each other's keys. */
function openEtcdStore(overrides: Partial<ConstructorParameters<typeof EtcdStore>[0]> = {}) {
  return new EtcdStore({
    endpoints: [etcd.endpoint],
    prefix: `/forest-test/${randomUUID()}/`,
    requestTimeoutMs: 3000,
    ...overrides,
  });
}

describeStoreContract('etcd', () => {
  const store = openEtcdStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});

describe('EtcdStore against a restarting etcd', () => {
  it('resumes a running watch after an etcd restart with no lost and no duplicate event', async () => {
    const store = openEtcdStore();
    try {
      const recorder = new EventRecorder();
      const watch = await store.watch('rs/', recorder.handlers);
      const written: string[] = [];
      const write = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const key = `rs/${String(written.length).padStart(4, '0')}`;
          await store.put(key, 'v');
          written.push(key);
        }
      };
      await write(20);
      await recorder.waitForEvents(20);

      // Events written while the watch stream is down must arrive after it resumes.
      await etcd.kill();
      await etcd.restart();
      await write(20);
      await recorder.waitForEvents(40, 20_000);
      await sleep(300);

      expect(recorder.events.map((event) => event.kv.key)).toEqual(written);
      const revisions = recorder.batches.map((batch) => batch[0].revision);
      expect(new Set(revisions).size).toBe(revisions.length);
      expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
      expect(recorder.errors).toEqual([]);
      await watch.cancel();
    } finally {
      await store.close();
    }
  });

  it('replays writes made while etcd was down and the watch was reconnecting', async () => {
    const store = openEtcdStore();
    try {
      const recorder = new EventRecorder();
      await store.watch('gap/', recorder.handlers);
      await store.put('gap/before', '1');
      await recorder.waitForEvents(1);

      // Stop etcd, let the watch notice and back off, write as soon as etcd is back (before
      // the watch reconnects), and expect the write to be delivered exactly once.
      await etcd.kill();
      await sleep(500);
      await etcd.restart();
      await retryUntilUp(() => store.put('gap/after', '2'));
      await recorder.waitForEvents(2, 20_000);
      await sleep(300);
      expect(recorder.events.map((event) => event.kv.key)).toEqual(['gap/before', 'gap/after']);
    } finally {
      await store.close();
    }
  });

  it('rejects a watch whose start revision was compacted, naming the revision', async () => {
    const store = openEtcdStore();
    try {
      const first = await store.put('cp/a', '1');
      await store.put('cp/a', '2');
      const last = await store.put('cp/a', '3');
      await compact(last.revision);
      const failure = store.watch('cp/', new EventRecorder().handlers, {
        fromRevision: first.revision,
      });
      await expect(failure).rejects.toBeInstanceOf(StoreCompactedError);
      await expect(failure).rejects.toMatchObject({
        requestedRevision: first.revision,
        compactedRevision: last.revision,
      });
    } finally {
      await store.close();
    }
  });

  it.each([
    ['by time', { compactionIntervalMs: 200 }],
    // Any database is over one byte: every check compacts to the revision of the one before.
    ['by size, over its bound', { compactionMaxInUseBytes: 1, compactionCheckMs: 200 }],
  ])('compacts old revisions in the background (%s)', async (_how, options) => {
    const store = openEtcdStore(options);
    try {
      const old = await store.put('bg/a', '1');
      // Two compaction checks later the revision of the first write is history.
      await sleep(700);
      await store.put('bg/a', '2');
      await sleep(800);
      await expect(
        store.watch('bg/', new EventRecorder().handlers, { fromRevision: old.revision }),
      ).rejects.toBeInstanceOf(StoreCompactedError);
    } finally {
      await store.close();
    }
  });

  it('turns the size bound off, once, when etcd refuses its status; the other bounds go on', async () => {
    const warnings: string[] = [];
    const store = openEtcdStore({
      compactionRevisions: 1,
      compactionMaxInUseBytes: 1,
      compactionCheckMs: 200,
      logger: { warn: (message: string) => warnings.push(message) },
    });
    // As etcd 3.5.28+ answers a user without the root role.
    const maintenance = (store as unknown as { client: Etcd3 }).client.maintenance;
    const status = jest
      .spyOn(maintenance, 'status')
      .mockRejectedValue(new Error('etcdserver: permission denied'));
    try {
      const old = await store.put('refused/a', '1');
      await store.put('refused/a', '2');
      await store.put('refused/a', '3'); // one revision kept: 2 is the oldest
      await sleep(800);
      await expect(
        store.watch('refused/', new EventRecorder().handlers, { fromRevision: old.revision }),
      ).rejects.toBeInstanceOf(StoreCompactedError);
      expect(status).toHaveBeenCalledTimes(1);
      expect(warnings.filter((w) => w.includes('compaction size bound'))).toHaveLength(1);
    } finally {
      status.mockRestore();
      await store.close();
    }
  });
});

async function compact(revision: number): Promise<void> {
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: [etcd.endpoint] });
  try {
    await client.kv.compact({ revision, physical: true });
  } finally {
    client.close();
  }
}

async function retryUntilUp<T>(operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
