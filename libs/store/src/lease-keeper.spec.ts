import { LeaseKeeper } from './lease-keeper';
import { LeaseNotFoundError, StoreUnavailableError } from './store.errors';
import { CoordinationStore } from './store.port';

/** Just the lease calls LeaseKeeper makes, scripted per test. */
function fakeStore(keepAlive: () => Promise<number>) {
  const calls = { keepAlive: 0, revoked: [] as string[] };
  const store = {
    grantLease: (ttlSeconds: number) => Promise.resolve({ id: '42', ttlSeconds }),
    keepAliveOnce: () => {
      calls.keepAlive++;
      return keepAlive();
    },
    revokeLease: (id: string) => {
      calls.revoked.push(id);
      return Promise.resolve();
    },
  } as unknown as CoordinationStore;
  return { store, calls };
}

describe('LeaseKeeper', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('renews every third of the TTL and never reports a healthy lease lost', async () => {
    const { store, calls } = fakeStore(() => Promise.resolve(3));
    const onLost = jest.fn();
    const keeper = await LeaseKeeper.grant(store, 3, { onLost });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls.keepAlive).toBe(10);
    expect(onLost).not.toHaveBeenCalled();
    keeper.stop();
  });

  it('reports lost at once when the store no longer has the lease', async () => {
    const { store } = fakeStore(() => Promise.reject(new LeaseNotFoundError('42')));
    const onLost = jest.fn();
    const keeper = await LeaseKeeper.grant(store, 3, { onLost });
    await jest.advanceTimersByTimeAsync(1000);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onLost.mock.calls[0][0]).toMatch(/lease 42 lost: the store no longer has the lease/);
    expect(keeper.isLost).toBe(true);
  });

  it('presumes the lease lost before its TTL runs out while the store is unreachable', async () => {
    const { store, calls } = fakeStore(() => Promise.reject(new StoreUnavailableError('down')));
    const onLost = jest.fn();
    await LeaseKeeper.grant(store, 3, { onLost });
    // Granted at t=0 with TTL 3 s: lost must be declared before t=3 s (margin 500 ms).
    await jest.advanceTimersByTimeAsync(2400);
    expect(onLost).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(200);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(calls.keepAlive).toBeGreaterThan(3); // it retried quickly meanwhile
    await jest.advanceTimersByTimeAsync(10_000);
    expect(onLost).toHaveBeenCalledTimes(1);
  });

  it('revoke stops renewing and revokes; a stopped keeper never reports lost', async () => {
    const { store, calls } = fakeStore(() => Promise.reject(new LeaseNotFoundError('42')));
    const onLost = jest.fn();
    const keeper = await LeaseKeeper.grant(store, 3, { onLost });
    await keeper.revoke();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls.revoked).toEqual(['42']);
    expect(calls.keepAlive).toBe(0);
    expect(onLost).not.toHaveBeenCalled();
  });
});
