import { assignTo, DispatchContext, ForestDispatchStrategy, noWorker, shardAcross } from '..';
import {
  dispatchContext,
  NO_WORKER,
  TEST_REGISTERED_AT,
  tally,
  validationContext,
  worker,
  workers,
} from '.';

describe('@forest/plugin-api/testing', () => {
  it('builds workers with free = capacity - load unless told', () => {
    expect(worker('w-1')).toEqual({
      id: 'w-1',
      group: 'g',
      host: 'h',
      labels: {},
      capacity: 4,
      load: 0,
      running: 0,
      free: 4,
      registeredAt: TEST_REGISTERED_AT,
    });
    expect(worker('w-1', { capacity: 2, load: 2 }).free).toBe(0);
    expect(worker('w-1', { load: 1, free: 0 }).free).toBe(0);
    expect(workers(12).map((w) => w.id)).toEqual([
      'w-01', 'w-02', 'w-03', 'w-04', 'w-05', 'w-06', 'w-07', 'w-08', 'w-09', 'w-10', 'w-11', 'w-12',
    ]); // prettier-ignore
  });

  it('builds a context with workers sorted by id and a delegate that throws', () => {
    const ctx = dispatchContext({
      workers: [worker('b'), worker('a')],
      job: { id: 'nightly', params: { n: 1 } },
    });
    expect(ctx.workers.map((w) => w.id)).toEqual(['a', 'b']);
    expect(ctx.options).toEqual({});
    expect(ctx.job).toMatchObject({ id: 'nightly', group: 'g', target: 't' });
    expect(ctx.execution).toMatchObject({ id: 'nightly~1', jobId: 'nightly', params: { n: 1 } });
    expect(() => ctx.delegate('random', {}, [])).toThrow('no delegate in this test');
  });

  it('tallies worker, shard and none decisions', () => {
    const decisions = [assignTo('a'), shardAcross(['a', 'b']), noWorker('full')];
    const strategy: ForestDispatchStrategy = {
      select: (ctx: DispatchContext) => decisions[ctx.execution.attempt % decisions.length],
    };
    const ctx = (call: number) => dispatchContext({ workers: [], execution: { attempt: call } });
    expect(tally(strategy, ctx, 6)).toEqual({ a: 4, b: 2, [NO_WORKER]: 2 });
    const async: ForestDispatchStrategy = { select: () => Promise.resolve(assignTo('a')) };
    expect(() => tally(async, dispatchContext({ workers: [] }), 1)).toThrow(/synchronous/);
  });

  it('validates inner strategies against the built-ins by default', async () => {
    const ctx = validationContext();
    expect(ctx.strategies).toContain('round-robin');
    await expect(ctx.validateStrategy('round-robin', {})).resolves.toEqual([]);
    await expect(ctx.validateStrategy('nope', {})).resolves.toEqual([
      'dispatch.strategy "nope" is not a loaded dispatch strategy',
    ]);
  });
});
