import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, tally, worker, workers } from '@forest/plugin-api/testing';
import { ExamplePlugin } from './index';
import { WeightedOptions, WeightedStrategy, weightOf } from './weighted.strategy';

/** A worker with a weight label (`weight` unless told). */
function weighted(id: string, weight: string, overrides: Partial<DispatchWorker> = {}) {
  return worker(id, { labels: { weight }, ...overrides });
}

/** The ids chosen by `n` picks among `ws`. */
function picks(strategy: WeightedStrategy, ws: DispatchWorker[], n: number, options = {}) {
  const context = dispatchContext<WeightedOptions>({ workers: ws, options });
  return Array.from({ length: n }, () => {
    const decision = strategy.select(context);
    return decision.type === 'worker' ? decision.workerId : JSON.stringify(decision);
  });
}

describe('WeightedStrategy', () => {
  let strategy: WeightedStrategy;
  beforeEach(() => (strategy = new WeightedStrategy()));

  it('is the strategy "weighted" of plugin forest-plugin-example', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, WeightedStrategy)).toBe('weighted');
    expect(getForestPluginInfo(ExamplePlugin)).toMatchObject({
      name: 'forest-plugin-example',
      version: '1.0.0',
      compatibility: '^1.0.0',
    });
  });

  it('shares executions exactly in proportion to the weights, spread out', () => {
    const ws = [weighted('a', '3'), weighted('b', '1')];
    expect(picks(strategy, ws, 8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
    const context = dispatchContext({ workers: [...ws, weighted('c', '2')] });
    expect(tally(new WeightedStrategy(), context, 600)).toEqual({ a: 300, b: 100, c: 200 });
  });

  it('gives a worker without the label (or with a bad value) weight 1, and 0 no work', () => {
    expect(weightOf(worker('w'), 'weight')).toBe(1);
    expect(weightOf(weighted('w', 'heavy'), 'weight')).toBe(1);
    expect(weightOf(weighted('w', '-2'), 'weight')).toBe(1);
    expect(weightOf(weighted('w', ' 2.5 '), 'weight')).toBe(2.5);
    const ws = [worker('plain'), weighted('heavy', '2'), weighted('drained', '0')];
    expect(tally(strategy, dispatchContext({ workers: ws }), 30)).toEqual({
      plain: 10,
      heavy: 20,
    });
  });

  it('reads the label named by options.label', () => {
    const ws = [worker('a', { labels: { cpu: '1' } }), worker('b', { labels: { cpu: '4' } })];
    const context = dispatchContext<WeightedOptions>({ workers: ws, options: { label: 'cpu' } });
    expect(tally(strategy, context, 50)).toEqual({ a: 10, b: 40 });
  });

  it('skips full workers, and takes them back into the rotation without a catch-up burst', () => {
    const free = [weighted('a', '1'), weighted('b', '1')];
    const aFull = [weighted('a', '1', { load: 4 }), weighted('b', '1')];
    expect(picks(strategy, free, 1)).toEqual(['a']);
    expect(picks(strategy, aFull, 3)).toEqual(['b', 'b', 'b']);
    // a kept its credit while full: the rotation goes on where it was, not a, a, a.
    expect(picks(strategy, free, 4)).toEqual(['b', 'a', 'b', 'a']);
  });

  it('keeps one rotation per group, target and label', () => {
    const ws = [weighted('a', '1'), weighted('b', '1')];
    const pick = (job: { group?: string; target?: string }, options: WeightedOptions = {}) =>
      strategy.select(dispatchContext<WeightedOptions>({ workers: ws, job, options }));
    expect(pick({ target: 'x' })).toEqual(assignTo('a'));
    expect(pick({ target: 'y' })).toEqual(assignTo('a'));
    expect(pick({ group: 'h', target: 'x' })).toEqual(assignTo('a'));
    expect(pick({ target: 'x' }, { label: 'other' })).toEqual(assignTo('a'));
    expect(pick({ target: 'x' })).toEqual(assignTo('b'));
  });

  it('answers none, with the reason, when nobody can take the execution', () => {
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
    expect(strategy.select(dispatchContext({ workers: workers(2, { load: 4 }) }))).toEqual(
      noWorker('all 2 eligible workers are full'),
    );
    expect(
      strategy.select(dispatchContext({ workers: [weighted('a', '0'), weighted('b', '0')] })),
    ).toEqual(noWorker('all 2 workers with a free slot have weight=0'));
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const decision = strategy.select(
      dispatchContext({ workers: workers(3), execution: { shard: { index: 1, total: 3 } } }),
    );
    expect(decision).toEqual(assignTo('w-1'));
  });

  it('accepts only a non-empty string label', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ label: 'cpu' })).toEqual([]);
    const problems = strategy.validateOptions({ label: 3, labels: {} });
    expect(problems).toEqual([
      'dispatch.options.labels is not an option of the weighted strategy (allowed: label)',
      'dispatch.options.label must be a non-empty string, the name of the worker label holding the weight (got 3)',
    ]);
    expect(strategy.validateOptions({ label: '' })[0]).toMatch(/^dispatch\.options\.label /);
  });
});
