import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  getForestPluginInfo,
  noWorker,
  shardAcross,
} from '@forest/plugin-api';
import { dispatchContext, worker, workers } from '@forest/plugin-api/testing';
import { MAX_SHARDS } from '@forest/plugin-api';
import { BroadcastStrategy } from './broadcast.strategy';
import { BroadcastDispatchPlugin } from './index';

describe('BroadcastStrategy', () => {
  const strategy = new BroadcastStrategy();
  const shard = { index: 2, total: 5 };

  it('is the strategy "broadcast" of plugin dispatch-broadcast', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, BroadcastStrategy)).toBe('broadcast');
    expect(getForestPluginInfo(BroadcastDispatchPlugin)?.name).toBe('dispatch-broadcast');
  });

  it('runs one shard on every worker, numbered in id order', () => {
    const ws = [worker('w-3'), worker('w-1', { load: 3 }), worker('w-2')];
    expect(strategy.select(dispatchContext({ workers: ws }))).toEqual(
      shardAcross(['w-1', 'w-2', 'w-3']),
    );
    expect(strategy.select(dispatchContext({ workers: [worker('solo')] }))).toEqual(
      shardAcross(['solo']),
    );
  });

  it('waits while any worker is full, so all shards start together', () => {
    const ws = workers(5).map((w) =>
      w.id === 'w-3' || w.id === 'w-5' ? worker(w.id, { load: 4 }) : w,
    );
    expect(strategy.select(dispatchContext({ workers: ws }))).toEqual(
      noWorker('waiting for a free slot on every worker: 2 of 5 are full (e.g. w-3)'),
    );
  });

  it('answers none when no worker runs the target', () => {
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
  });

  it(`shards across the first ${MAX_SHARDS} workers by id when there are more`, () => {
    const ws = workers(75).map((w, i) => (i >= MAX_SHARDS ? worker(w.id, { free: 0 }) : w));
    const decision = strategy.select(dispatchContext({ workers: ws }));
    expect(decision).toEqual(shardAcross(ws.slice(0, MAX_SHARDS)));
  });

  it('places a shard again on one worker: the least busy with a free slot', () => {
    const ws = [
      worker('a', { capacity: 4, load: 2 }),
      worker('b', { capacity: 8, load: 2 }),
      worker('c', { capacity: 2, load: 0, free: 0 }),
      worker('d', { capacity: 4, load: 1 }),
    ];
    // b and d tie on load/capacity (1/4); d runs as many (none) with the lower load.
    expect(strategy.select(dispatchContext({ workers: ws, execution: { shard } }))).toEqual(
      assignTo('d'),
    );
    // Then fewer running wins.
    const running = [worker('b', { load: 2, running: 1 }), worker('d', { load: 2, running: 0 })];
    expect(strategy.select(dispatchContext({ workers: running, execution: { shard } }))).toEqual(
      assignTo('d'),
    );
    // Full ties go to the lower id; a full worker among them does not hold the shard back.
    const tied = [worker('b', { load: 1 }), worker('a', { load: 1 }), worker('c', { load: 4 })];
    expect(strategy.select(dispatchContext({ workers: tied, execution: { shard } }))).toEqual(
      assignTo('a'),
    );
    expect(
      strategy.select(dispatchContext({ workers: workers(3, { load: 4 }), execution: { shard } })),
    ).toEqual(noWorker('all 3 eligible workers are full'));
  });

  it('answers synchronously', () => {
    expect(strategy.select(dispatchContext({ workers: workers(2) }))).not.toBeInstanceOf(Promise);
  });

  it('takes no options', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ max: 10 })).toEqual([
      'dispatch.options.max is not an option of the broadcast strategy (allowed: none)',
    ]);
  });
});
