import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, tally, worker, workers } from '@forest/plugin-api/testing';
import { FailoverOptions, FailoverStrategy } from './failover.strategy';
import { FailoverDispatchPlugin } from './index';

const at = (minute: number) => `2025-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('FailoverStrategy', () => {
  const strategy = new FailoverStrategy();
  const select = (ws: DispatchWorker[], options: FailoverOptions = {}) =>
    strategy.select(dispatchContext({ workers: ws, options }));

  // Registered: c first, then a, then b.
  const a = worker('a', { registeredAt: at(5) });
  const b = worker('b', { registeredAt: at(9) });
  const c = worker('c', { registeredAt: at(1) });
  const full = (w: DispatchWorker) => worker(w.id, { registeredAt: w.registeredAt, load: 4 });

  it('is the strategy "failover" of plugin dispatch-failover', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, FailoverStrategy)).toBe('failover');
    expect(getForestPluginInfo(FailoverDispatchPlugin)?.name).toBe('dispatch-failover');
  });

  it('sends everything to the oldest live worker', () => {
    expect(tally(strategy, dispatchContext({ workers: [a, b, c] }), 50)).toEqual({ c: 50 });
  });

  it('fails over in registration order when the primary is full or gone, and back', () => {
    expect(select([a, b, full(c)])).toEqual(assignTo('a'));
    expect(select([full(a), b, full(c)])).toEqual(assignTo('b'));
    expect(select([a, b])).toEqual(assignTo('a'));
    expect(select([a, b, c])).toEqual(assignTo('c'));
  });

  it('breaks registration ties by id, and puts unreadable times last', () => {
    const same = [worker('y', { registeredAt: at(1) }), worker('x', { registeredAt: at(1) })];
    expect(select(same)).toEqual(assignTo('x'));
    // Equal instants written differently are still equal.
    expect(
      select([
        worker('x', { registeredAt: at(1) }),
        worker('w', { registeredAt: '2025-03-01T11:01:00+01:00' }),
      ]),
    ).toEqual(assignTo('w'));
    expect(select([worker('a', { registeredAt: 'soon' }), b])).toEqual(assignTo('b'));
    expect(
      select([worker('b', { registeredAt: 'soon' }), worker('a', { registeredAt: '' })]),
    ).toEqual(assignTo('a'));
  });

  it('with order: "id", prefers the lowest id', () => {
    expect(select([a, b, c], { order: 'id' })).toEqual(assignTo('a'));
    expect(select([full(a), b, c], { order: 'id' })).toEqual(assignTo('b'));
    expect(select([a, b, c], { order: 'registration' })).toEqual(assignTo('c'));
  });

  it('answers none when every worker is full, or none runs the target', () => {
    expect(select([full(a), full(b), full(c)])).toEqual(
      noWorker('all 3 eligible workers are full'),
    );
    expect(select(workers(2, { free: 0 }), { order: 'id' })).toEqual(
      noWorker('all 2 eligible workers are full'),
    );
    expect(strategy.select(dispatchContext({ workers: [], job: { target: 'x' } }))).toEqual(
      noWorker('no live worker of group g runs target x'),
    );
  });

  it('answers synchronously, with one worker for a shard placed again', () => {
    const decision = strategy.select(
      dispatchContext({ workers: [a, b, c], execution: { shard: { index: 1, total: 2 } } }),
    );
    expect(decision).toEqual(assignTo('c'));
  });

  it('validates its options', () => {
    expect(strategy.validateOptions({})).toEqual([]);
    expect(strategy.validateOptions({ order: 'id' })).toEqual([]);
    expect(strategy.validateOptions({ order: 'registration' })).toEqual([]);
    expect(strategy.validateOptions({ order: 'age' })).toEqual([
      'dispatch.options.order must be "registration" or "id" (got "age")',
    ]);
    expect(strategy.validateOptions({ order: 1 })).toEqual([
      'dispatch.options.order must be "registration" or "id" (got 1)',
    ]);
    expect(strategy.validateOptions({ primary: 'a' })).toEqual([
      'dispatch.options.primary is not an option of the failover strategy (allowed: order)',
    ]);
  });
});
