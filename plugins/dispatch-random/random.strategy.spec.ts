import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, NO_WORKER, tally, worker, workers } from '@forest/plugin-api/testing';
import { RandomDispatchPlugin } from './index';
import { RandomStrategy } from './random.strategy';

describe('RandomStrategy', () => {
  const strategy = new RandomStrategy();

  afterEach(() => jest.restoreAllMocks());

  it('is the strategy "random" of plugin dispatch-random', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, RandomStrategy)).toBe('random');
    expect(getForestPluginInfo(RandomDispatchPlugin)).toMatchObject({
      name: 'dispatch-random',
      compatibility: '^1.0.0',
    });
  });

  it('spreads executions uniformly (10k picks over 4 workers, each within 15%)', () => {
    const counts = tally(strategy, dispatchContext({ workers: workers(4) }), 10_000);
    expect(Object.keys(counts).sort()).toEqual(['w-1', 'w-2', 'w-3', 'w-4']);
    for (const count of Object.values(counts)) {
      expect(count).toBeGreaterThan(2500 * 0.85);
      expect(count).toBeLessThan(2500 * 1.15);
    }
  });

  it('never chooses a full worker, and spreads over the others', () => {
    const ctx = dispatchContext({
      workers: [
        worker('w-1', { load: 4 }),
        worker('w-2'),
        worker('w-3', { free: 0 }),
        worker('w-4', { load: 3 }),
      ],
    });
    const counts = tally(strategy, ctx, 2000);
    expect(Object.keys(counts).sort()).toEqual(['w-2', 'w-4']);
    expect(counts['w-2']).toBeGreaterThan(800);
    expect(counts['w-4']).toBeGreaterThan(800);
  });

  it('answers none when every worker is full, or none runs the target', () => {
    const full = dispatchContext({ workers: workers(3, { load: 4 }) });
    expect(strategy.select(full)).toEqual(noWorker('all 3 eligible workers are full'));
    expect(tally(strategy, full, 10)).toEqual({ [NO_WORKER]: 10 });
    const empty = dispatchContext({ workers: [], job: { target: 'resize' } });
    expect(strategy.select(empty)).toEqual(
      noWorker('no live worker of group g runs target resize'),
    );
  });

  it('maps the whole range of Math.random onto the free workers', () => {
    const ctx = dispatchContext({ workers: [worker('a'), worker('b', { load: 4 }), worker('c')] });
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(strategy.select(ctx)).toEqual(assignTo('a'));
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(strategy.select(ctx)).toEqual(assignTo('c'));
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const ctx = dispatchContext({
      workers: workers(3),
      execution: { shard: { index: 1, total: 3 } },
    });
    const decision = strategy.select(ctx);
    expect(decision).not.toBeInstanceOf(Promise);
    expect(decision.type).toBe('worker');
  });

  it('takes no options', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ foo: 1 })).toEqual([
      'dispatch.options.foo is not an option of the random strategy (allowed: none)',
    ]);
  });
});
