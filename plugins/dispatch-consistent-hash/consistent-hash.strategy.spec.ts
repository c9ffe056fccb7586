import {
  DISPATCH_STRATEGY_METADATA,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, tally, worker, workers } from '@forest/plugin-api/testing';
import { ConsistentHashOptions, ConsistentHashStrategy, hash32 } from './consistent-hash.strategy';
import { ConsistentHashDispatchPlugin } from './index';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `job-${i}`);

/** The worker each job id goes to (or the none reason). */
function placement(
  strategy: ConsistentHashStrategy,
  ws: readonly DispatchWorker[],
  options: ConsistentHashOptions = {},
  keys: readonly string[] = KEYS,
): Map<string, string> {
  return new Map(
    keys.map((id) => {
      const decision = strategy.select(dispatchContext({ workers: ws, options, job: { id } }));
      return [
        id,
        decision.type === 'worker' ? decision.workerId : `none: ${JSON.stringify(decision)}`,
      ];
    }),
  );
}

describe('ConsistentHashStrategy', () => {
  let strategy: ConsistentHashStrategy;
  beforeEach(() => (strategy = new ConsistentHashStrategy()));

  it('is the strategy "consistent-hash" of plugin dispatch-consistent-hash', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, ConsistentHashStrategy)).toBe(
      'consistent-hash',
    );
    expect(getForestPluginInfo(ConsistentHashDispatchPlugin)?.name).toBe(
      'dispatch-consistent-hash',
    );
  });

  it('sends every execution of a job to the same worker', () => {
    const ctx = (attempt: number) =>
      dispatchContext({ workers: workers(5), execution: { id: `job-1~${attempt}`, attempt } });
    const counts = tally(strategy, ctx, 50);
    expect(Object.values(counts)).toEqual([50]);
  });

  it('spreads 10k jobs over 10 workers, each between 5% and 15%', () => {
    const counts = new Map<string, number>();
    for (const id of placement(strategy, workers(10)).values()) {
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(workers(10).map((w) => w.id));
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(500);
      expect(count).toBeLessThan(1500);
    }
  });

  it('moves about 1/11 of the keys to an 11th worker, and only to it', () => {
    const ten = workers(10);
    const before = placement(strategy, ten);
    const after = placement(strategy, [...ten, worker('w-new')]);
    const moved = KEYS.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length / KEYS.length).toBeGreaterThan(0.04);
    expect(moved.length / KEYS.length).toBeLessThan(0.15);
    expect(new Set(moved.map((k) => after.get(k)))).toEqual(new Set(['w-new']));
  });

  it('moves only the keys of a worker that leaves', () => {
    const ten = workers(10);
    const before = placement(strategy, ten);
    const after = placement(
      strategy,
      ten.filter((w) => w.id !== 'w-04'),
    );
    const moved = KEYS.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved).toEqual(KEYS.filter((k) => before.get(k) === 'w-04'));
  });

  it('sends the overflow of a full worker where its keys would go if it left', () => {
    const ten = workers(10);
    const keys = KEYS.slice(0, 2000);
    const withFull = ten.map((w) => (w.id === 'w-07' ? worker('w-07', { load: 4 }) : w));
    const overflow = placement(strategy, withFull, {}, keys);
    const without = placement(
      strategy,
      ten.filter((w) => w.id !== 'w-07'),
      {},
      keys,
    );
    expect(overflow).toEqual(without);
    // Once it has room again its keys come back.
    expect(placement(strategy, ten, {}, keys)).toEqual(
      placement(new ConsistentHashStrategy(), ten, {}, keys),
    );
  });

  it('never chooses a full worker; none when all are full or none runs the target', () => {
    const ws = [worker('a', { load: 4 }), worker('b', { free: 0 }), worker('c')];
    expect(new Set(placement(strategy, ws, {}, KEYS.slice(0, 500)).values())).toEqual(
      new Set(['c']),
    );
    expect(strategy.select(dispatchContext({ workers: workers(4, { load: 4 }) }))).toEqual(
      noWorker('all 4 eligible workers are full'),
    );
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
  });

  it('with by: "param", hashes the params value, falling back to the job id', () => {
    const ws = workers(10);
    const options: ConsistentHashOptions = { by: 'param', param: 'tenant' };
    const byTenant = (jobId: string, params: unknown) =>
      strategy.select(
        dispatchContext({ workers: ws, options, job: { id: jobId }, execution: { params } }),
      );
    // Executions of different jobs with one tenant go together.
    const acme = byTenant('job-1', { tenant: 'acme' });
    for (let i = 2; i < 30; i++)
      expect(byTenant(`job-${i}`, { tenant: 'acme', n: i })).toEqual(acme);
    // Different tenants spread out.
    const tenants = new Set(
      Array.from({ length: 200 }, (_, i) => JSON.stringify(byTenant('job-1', { tenant: `t${i}` }))),
    );
    expect(tenants.size).toBeGreaterThan(5);
    // Without the key (or without an object), the job id decides, as with by: "job".
    for (const params of [{}, null, 'acme', [1, 2], { other: 1 }]) {
      for (const id of ['job-1', 'job-2', 'job-3']) {
        expect(byTenant(id, params)).toEqual(
          strategy.select(dispatchContext({ workers: ws, job: { id } })),
        );
      }
    }
  });

  it('uses `replicas` points per worker', () => {
    // One point per worker: ownership is whole arcs, so the spread is visibly uneven,
    // but still consistent.
    const one = placement(strategy, workers(10), { replicas: 1 }, KEYS.slice(0, 1000));
    expect(placement(strategy, workers(10), { replicas: 1 }, KEYS.slice(0, 1000))).toEqual(one);
    expect(one).not.toEqual(placement(strategy, workers(10), {}, KEYS.slice(0, 1000)));
  });

  it('rebuilds its ring only when the worker ids change', () => {
    const rings = (strategy as unknown as { rings: Map<string, unknown> }).rings;
    strategy.select(dispatchContext({ workers: workers(3) }));
    const ring = [...rings.values()][0];
    strategy.select(dispatchContext({ workers: workers(3, { load: 2 }) }));
    expect([...rings.values()]).toEqual([ring]);
    expect([...rings.values()][0]).toBe(ring);
    strategy.select(dispatchContext({ workers: workers(4) }));
    expect(rings.size).toBe(2);
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const decision = strategy.select(
      dispatchContext({ workers: workers(3), execution: { shard: { index: 2, total: 3 } } }),
    );
    expect(decision).not.toBeInstanceOf(Promise);
    expect(decision.type).toBe('worker');
  });

  it('hashes to unsigned 32-bit values', () => {
    for (const text of ['', 'a', 'w-1#0', 'ü', 'job-123456']) {
      const h = hash32(text);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
    expect(hash32('w-1#0')).not.toBe(hash32('w-1#1'));
  });

  describe('validateOptions', () => {
    it('accepts the documented shapes', () => {
      expect(strategy.validateOptions({})).toEqual([]);
      expect(strategy.validateOptions({ by: 'job', replicas: 1 })).toEqual([]);
      expect(strategy.validateOptions({ by: 'param', param: 'tenant', replicas: 1000 })).toEqual(
        [],
      );
    });

    it('names unknown options and the allowed ones', () => {
      expect(strategy.validateOptions({ key: 'x' })).toEqual([
        'dispatch.options.key is not an option of the consistent-hash strategy (allowed: by, param, replicas)',
      ]);
    });

    it('rejects wrong types and values', () => {
      expect(strategy.validateOptions({ by: 'tenant' })).toEqual([
        'dispatch.options.by must be "job" or "param" (got "tenant")',
      ]);
      expect(strategy.validateOptions({ by: 'param' })).toEqual([
        'dispatch.options.param is required with by: "param" (the params key whose value is hashed)',
      ]);
      expect(strategy.validateOptions({ by: 'param', param: 3 })).toEqual([
        'dispatch.options.param must be a non-empty string (got 3)',
      ]);
      expect(strategy.validateOptions({ param: 'tenant' })).toEqual([
        'dispatch.options.param is only used with by: "param" (add it, or drop param)',
      ]);
      for (const replicas of [0, 1001, 1.5, '10', null]) {
        expect(strategy.validateOptions({ replicas })).toEqual([
          `dispatch.options.replicas must be a whole number in 1..1000 (got ${JSON.stringify(replicas)})`,
        ]);
      }
      for (const problem of strategy.validateOptions({ by: [], param: {}, replicas: 0, x: 1 })) {
        expect(problem).toMatch(/^dispatch\.options\.(by|param|replicas|x) /);
      }
    });
  });
});
