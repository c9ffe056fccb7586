import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, tally, worker, workers } from '@forest/plugin-api/testing';
import { LeastBusyDispatchPlugin } from './index';
import { LeastBusyStrategy } from './least-busy.strategy';

describe('LeastBusyStrategy', () => {
  const strategy = new LeastBusyStrategy();
  const select = (ws: DispatchWorker[]) => strategy.select(dispatchContext({ workers: ws }));

  it('is the strategy "least-busy" of plugin dispatch-least-busy', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, LeastBusyStrategy)).toBe('least-busy');
    expect(getForestPluginInfo(LeastBusyDispatchPlugin)?.name).toBe('dispatch-least-busy');
  });

  it('chooses the lowest load for the capacity', () => {
    expect(
      select([worker('a', { capacity: 8, load: 3 }), worker('b', { capacity: 4, load: 1 })]),
    ).toEqual(assignTo('b'));
    expect(
      select([worker('a', { capacity: 8, load: 3 }), worker('b', { capacity: 4, load: 2 })]),
    ).toEqual(assignTo('a'));
  });

  it('breaks ties by fewer running, then lower load, then id', () => {
    expect(
      select([worker('a', { load: 2, running: 2 }), worker('b', { load: 2, running: 1 })]),
    ).toEqual(assignTo('b'));
    expect(
      select([
        worker('a', { capacity: 8, load: 4, running: 1 }),
        worker('b', { capacity: 4, load: 2, running: 1 }),
      ]),
    ).toEqual(assignTo('b'));
    expect(select([worker('b', { load: 1 }), worker('a', { load: 1 })])).toEqual(assignTo('a'));
  });

  it('fills workers in proportion to their capacity', () => {
    const loads = new Map([
      ['a', 0],
      ['b', 0],
      ['c', 0],
    ]);
    const capacity = new Map([
      ['a', 2],
      ['b', 4],
      ['c', 6],
    ]);
    const current = () =>
      dispatchContext({
        workers: [...loads].map(([id, load]) => worker(id, { capacity: capacity.get(id), load })),
      });
    const pickAndLoad = () => {
      const decision = strategy.select(current());
      if (decision.type === 'worker')
        loads.set(decision.workerId, loads.get(decision.workerId)! + 1);
      return decision;
    };
    for (let i = 0; i < 6; i++) pickAndLoad();
    expect(Object.fromEntries(loads)).toEqual({ a: 1, b: 2, c: 3 });
    for (let i = 0; i < 6; i++) pickAndLoad();
    expect(Object.fromEntries(loads)).toEqual({ a: 2, b: 4, c: 6 });
    expect(pickAndLoad()).toEqual(noWorker('all 3 eligible workers are full'));
  });

  it('never chooses a full worker, however idle it looks', () => {
    // free 0 with load 0: dispatches in flight the host already counts against it.
    const ws = [worker('a', { free: 0 }), worker('b', { load: 3 }), worker('c', { load: 4 })];
    expect(tally(strategy, dispatchContext({ workers: ws }), 20)).toEqual({ b: 20 });
  });

  it('answers none when every worker is full, or none runs the target', () => {
    expect(select(workers(2, { load: 4 }))).toEqual(noWorker('all 2 eligible workers are full'));
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const decision = strategy.select(
      dispatchContext({ workers: workers(3), execution: { shard: { index: 0, total: 3 } } }),
    );
    expect(decision).toEqual(assignTo('w-1'));
  });

  it('takes no options', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ by: 'ratio' })).toEqual([
      'dispatch.options.by is not an option of the least-busy strategy (allowed: none)',
    ]);
  });
});
