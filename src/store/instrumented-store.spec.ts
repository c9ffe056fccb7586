import {
  CoordinationStore,
  LeaseNotFoundError,
  StoreClosedError,
  StoreCompactedError,
  StoreUnavailableError,
  WatchHandlers,
} from '@forest/store';
import { MetricsService } from '../metrics/metrics.service';
import { InstrumentedStore, keyspaceOf, storeErrorKind } from './instrumented-store';

describe('InstrumentedStore', () => {
  let metrics: MetricsService;
  let inner: jest.Mocked<CoordinationStore>;
  let store: InstrumentedStore;

  beforeEach(() => {
    metrics = new MetricsService();
    inner = {
      kind: 'fake',
      get: jest.fn().mockResolvedValue(undefined),
      range: jest.fn(),
      put: jest.fn().mockResolvedValue({ revision: 2 }),
      delete: jest.fn(),
      deletePrefix: jest.fn(),
      txn: jest.fn().mockResolvedValue({ succeeded: false, revision: 2, results: [] }),
      revision: jest.fn(),
      grantLease: jest.fn(),
      keepAliveOnce: jest.fn().mockRejectedValue(new LeaseNotFoundError('7')),
      revokeLease: jest.fn(),
      leaseTimeToLive: jest.fn(),
      watch: jest.fn().mockResolvedValue({ lastRevision: 1, cancel: jest.fn() }),
      close: jest.fn().mockResolvedValue(undefined),
    };
    store = new InstrumentedStore(inner, metrics.store);
  });

  async function durations(): Promise<Record<string, number>> {
    const { values } = await metrics.store.duration.get();
    return Object.fromEntries(
      values
        .filter((v) => v.metricName === 'forest_store_request_duration_seconds_count')
        .map((v) => [String(v.labels.op), v.value]),
    );
  }

  async function errors(): Promise<Record<string, number>> {
    const { values } = await metrics.store.errors.get();
    return Object.fromEntries(values.map((v) => [`${v.labels.op}/${v.labels.error}`, v.value]));
  }

  it('passes calls and answers through, and times each request by operation', async () => {
    expect(store.kind).toBe('fake');
    await expect(store.put('a', 'b', { lease: '1' })).resolves.toEqual({ revision: 2 });
    expect(inner.put).toHaveBeenCalledWith('a', 'b', { lease: '1' });
    await store.get('a');
    await store.get('b');
    // A txn whose compare failed is an answer, not an error.
    await expect(store.txn({ compare: [], success: [] })).resolves.toMatchObject({
      succeeded: false,
    });
    expect(await durations()).toEqual({ put: 1, get: 2, txn: 1 });
    expect(await errors()).toEqual({});
  });

  it('counts failures by operation and kind, and still rethrows them', async () => {
    inner.get.mockRejectedValueOnce(new StoreUnavailableError('down'));
    inner.range.mockRejectedValueOnce(new Error('surprise'));
    await expect(store.get('a')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.range('a/')).rejects.toThrow('surprise');
    await expect(store.keepAliveOnce('7')).rejects.toBeInstanceOf(LeaseNotFoundError);
    expect(await errors()).toEqual({
      'get/unavailable': 1,
      'range/other': 1,
      'keep_alive/lease_not_found': 1,
    });
    // Failed requests are timed too.
    expect(await durations()).toEqual({ get: 1, range: 1, keep_alive: 1 });
  });

  it('counts a watch that ends as a restart of its keyspace, but not the end of a closed store', async () => {
    const onEvents = jest.fn();
    const onError = jest.fn();
    await store.watch('assignments/g/', { onEvents, onError }, { fromRevision: 3 });
    const [prefix, handlers, options] = inner.watch.mock.calls[0] as [
      string,
      WatchHandlers,
      unknown,
    ];
    expect([prefix, options]).toEqual(['assignments/g/', { fromRevision: 3 }]);
    // Events go straight to the caller's handler.
    expect(handlers.onEvents).toBe(onEvents);
    const compacted = new StoreCompactedError(3, 9);
    handlers.onError!(compacted);
    handlers.onError!(new StoreClosedError());
    expect(onError.mock.calls).toEqual([[compacted], [expect.any(StoreClosedError)]]);
    const { values } = await metrics.store.watchRestarts.get();
    expect(values.map((v) => [v.labels.keyspace, v.value])).toEqual([['assignments', 1]]);
  });

  it('names error kinds and keyspaces', () => {
    expect(storeErrorKind(new StoreCompactedError(1, 2))).toBe('compacted');
    expect(storeErrorKind(new StoreClosedError())).toBe('closed');
    expect(storeErrorKind('text')).toBe('other');
    expect(keyspaceOf('jobs/')).toBe('jobs');
    expect(keyspaceOf('election/')).toBe('election');
    expect(keyspaceOf('')).toBe('all');
  });
});
