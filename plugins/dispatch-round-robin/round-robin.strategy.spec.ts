import {
  DISPATCH_STRATEGY_METADATA,
  DispatchDecision,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, tally, worker, workers } from '@forest/plugin-api/testing';
import { RoundRobinDispatchPlugin } from './index';
import { RoundRobinStrategy } from './round-robin.strategy';

/** The worker id chosen, or the none reason. */
function pick(strategy: RoundRobinStrategy, ws: DispatchWorker[], target = 't'): string {
  const decision: DispatchDecision = strategy.select(
    dispatchContext({ workers: ws, job: { target } }),
  );
  return decision.type === 'worker' ? decision.workerId : JSON.stringify(decision);
}

describe('RoundRobinStrategy', () => {
  let strategy: RoundRobinStrategy;
  beforeEach(() => (strategy = new RoundRobinStrategy()));

  it('is the strategy "round-robin" of plugin dispatch-round-robin', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, RoundRobinStrategy)).toBe('round-robin');
    expect(getForestPluginInfo(RoundRobinDispatchPlugin)?.name).toBe('dispatch-round-robin');
  });

  it('takes the workers in turn, in id order, evenly', () => {
    const ws = [worker('c'), worker('a'), worker('b')];
    expect([1, 2, 3, 4, 5].map(() => pick(strategy, ws))).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(tally(new RoundRobinStrategy(), dispatchContext({ workers: workers(3) }), 300)).toEqual({
      'w-1': 100,
      'w-2': 100,
      'w-3': 100,
    });
  });

  it('skips full workers and carries on after them when they have room again', () => {
    const free = [worker('a'), worker('b'), worker('c')];
    const bFull = [worker('a'), worker('b', { load: 4 }), worker('c')];
    expect(pick(strategy, free)).toBe('a');
    expect(pick(strategy, bFull)).toBe('c');
    expect(pick(strategy, bFull)).toBe('a');
    expect(pick(strategy, free)).toBe('b');
    expect(pick(strategy, free)).toBe('c');
  });

  it('keeps its place when workers join or leave', () => {
    expect(pick(strategy, [worker('a'), worker('c')])).toBe('a');
    // b joins right after the last one chosen: its turn comes next.
    expect(pick(strategy, [worker('a'), worker('b'), worker('c')])).toBe('b');
    // b (the last one chosen) leaves: the rotation goes on from where it was.
    expect(pick(strategy, [worker('a'), worker('c'), worker('d')])).toBe('c');
    // c and d leave: wraps around to the first.
    expect(pick(strategy, [worker('a'), worker('b')])).toBe('a');
  });

  it('keeps one rotation per group and target', () => {
    const ws = workers(3);
    expect(pick(strategy, ws, 'x')).toBe('w-1');
    expect(pick(strategy, ws, 'x')).toBe('w-2');
    expect(pick(strategy, ws, 'y')).toBe('w-1');
    const otherGroup = strategy.select(
      dispatchContext({ workers: ws, job: { group: 'h', target: 'x' } }),
    );
    expect(otherGroup).toEqual({ type: 'worker', workerId: 'w-1' });
    expect(pick(strategy, ws, 'x')).toBe('w-3');
  });

  it('answers none when every worker is full, or none runs the target', () => {
    expect(strategy.select(dispatchContext({ workers: workers(2, { free: 0 }) }))).toEqual(
      noWorker('all 2 eligible workers are full'),
    );
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
    // A none does not move the rotation.
    expect(pick(strategy, workers(2))).toBe('w-1');
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const decision = strategy.select(
      dispatchContext({ workers: workers(3), execution: { shard: { index: 0, total: 3 } } }),
    );
    expect(decision).toEqual({ type: 'worker', workerId: 'w-1' });
  });

  it('takes no options', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ foo: true, every: 2 })).toEqual([
      'dispatch.options.foo is not an option of the round-robin strategy (allowed: none)',
      'dispatch.options.every is not an option of the round-robin strategy (allowed: none)',
    ]);
  });
});
