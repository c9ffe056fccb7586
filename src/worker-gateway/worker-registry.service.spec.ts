import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyspace, WorkerRecord } from '@forest/protocol';
import { EmbeddedStore, StoreAccessDeniedError, StoreUnavailableError } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { WorkerRegistry } from './worker-registry.service';

function worker(id: string, lease: string): WorkerRecord {
  return {
    id,
    group: 'g',
    targets: ['t'],
    capacity: 1,
    labels: {},
    host: 'h',
    pid: 1,
    node: 'n1',
    lease,
    registeredAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('WorkerRegistry (reads for the workers API)', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let registry: WorkerRegistry;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-registry-'));
    store = await EmbeddedStore.open({ dataDir });
    registry = new WorkerRegistry(store, { workerTtlS: 10 } as ForestConfig);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the workers whose records decode and leaves out the others', async () => {
    const lease = await store.grantLease(10);
    await store.put(Keyspace.worker('g', 'w1'), JSON.stringify(worker('w1', lease.id)));
    await store.put(Keyspace.worker('g', 'w2'), 'not json');
    await store.put(Keyspace.worker('g', 'w3'), JSON.stringify({ id: 'w3' }));
    await store.put(Keyspace.worker('g', 'w4'), JSON.stringify(worker('w1', lease.id)));

    expect((await registry.list('g')).map((w) => w.id)).toEqual(['w1']);
    expect((await registry.list()).map((w) => w.id)).toEqual(['w1']);
  });

  it('gives no last heartbeat for a lease it cannot read, and passes a store outage on', async () => {
    const lease = await store.grantLease(10);
    const live = worker('w1', lease.id);
    // Just granted: its last refresh is now (the store answers whole seconds left).
    const at = Date.parse((await registry.lastHeartbeatAt(live, 1_000_000)) ?? '');
    expect(at).toBeGreaterThanOrEqual(999_000);
    expect(at).toBeLessThanOrEqual(1_000_000);

    jest.spyOn(store, 'leaseTimeToLive').mockRejectedValueOnce(new Error('not a lease id'));
    expect(await registry.lastHeartbeatAt(live)).toBeUndefined();

    jest
      .spyOn(store, 'leaseTimeToLive')
      .mockRejectedValueOnce(new StoreUnavailableError('etcd is down'));
    await expect(registry.lastHeartbeatAt(live)).rejects.toBeInstanceOf(StoreUnavailableError);
    jest
      .spyOn(store, 'leaseTimeToLive')
      .mockRejectedValueOnce(new StoreAccessDeniedError('permission denied'));
    await expect(registry.lastHeartbeatAt(live)).rejects.toBeInstanceOf(StoreAccessDeniedError);
  });
});
