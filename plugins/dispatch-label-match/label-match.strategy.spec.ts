import {
  assignTo,
  DISPATCH_STRATEGY_METADATA,
  DispatchDecision,
  DispatchWorker,
  getForestPluginInfo,
  noWorker,
} from '@forest/plugin-api';
import { dispatchContext, validationContext, worker } from '@forest/plugin-api/testing';
import { LabelMatchDispatchPlugin } from './index';
import { LabelMatchOptions, LabelMatchStrategy } from './label-match.strategy';

const eu = worker('eu-1', { labels: { region: 'eu', tier: 'gpu' } });
const euFull = worker('eu-2', { labels: { region: 'eu', tier: 'gpu', zone: 'b' }, load: 4 });
const euCpu = worker('eu-3', { labels: { region: 'eu', tier: 'cpu' } });
const us = worker('us-1', { labels: { region: 'us', tier: 'gpu' } });
const bare = worker('x-1');
const ALL = [eu, euFull, euCpu, us, bare];

describe('LabelMatchStrategy', () => {
  const strategy = new LabelMatchStrategy();

  /** Runs select with a delegate that records its call and picks the first worker. */
  async function select(options: LabelMatchOptions, workers: DispatchWorker[] = ALL) {
    const delegate = jest.fn(
      (_strategy: string, _options: Record<string, unknown>, ws: readonly DispatchWorker[]) =>
        Promise.resolve<DispatchDecision>(assignTo(ws[0])),
    );
    const decision = await strategy.select(dispatchContext({ workers, options, delegate }));
    return { decision, delegate };
  }

  it('is the strategy "label-match" of plugin dispatch-label-match', () => {
    expect(Reflect.getMetadata(DISPATCH_STRATEGY_METADATA, LabelMatchStrategy)).toBe('label-match');
    expect(getForestPluginInfo(LabelMatchDispatchPlugin)?.name).toBe('dispatch-label-match');
  });

  it('delegates to round-robin among the workers having every label, full ones included', async () => {
    const { decision, delegate } = await select({ labels: { region: 'eu', tier: 'gpu' } });
    expect(delegate).toHaveBeenCalledTimes(1);
    expect(delegate).toHaveBeenCalledWith('round-robin', {}, [eu, euFull]);
    expect(decision).toEqual(assignTo('eu-1'));
  });

  it('delegates to the strategy and options it is given', async () => {
    const { delegate } = await select({
      labels: { tier: 'gpu' },
      strategy: 'consistent-hash',
      options: { replicas: 10 },
    });
    expect(delegate).toHaveBeenCalledWith('consistent-hash', { replicas: 10 }, [eu, euFull, us]);
  });

  it('passes on the inner strategy answer, none included', async () => {
    const ctx = dispatchContext<LabelMatchOptions>({
      workers: [euFull],
      options: { labels: { region: 'eu' } },
      delegate: () => Promise.resolve(noWorker('all 1 eligible workers are full')),
    });
    await expect(strategy.select(ctx)).resolves.toEqual(
      noWorker('all 1 eligible workers are full'),
    );
  });

  it('matches values exactly, and needs the label to be there', async () => {
    expect((await select({ labels: { region: 'EU' } })).decision).toEqual(
      noWorker('no live worker has labels region=EU (5 eligible workers checked)'),
    );
    const inherited = worker('proto-1', {
      labels: Object.create({ region: 'eu' }) as Record<string, string>,
    });
    expect((await select({ labels: { region: 'eu' } }, [inherited])).decision.type).toBe('none');
  });

  it('answers none naming the labels when no worker has them all', async () => {
    const { decision, delegate } = await select({ labels: { region: 'us', tier: 'cpu' } });
    expect(decision).toEqual(
      noWorker('no live worker has labels region=us,tier=cpu (5 eligible workers checked)'),
    );
    expect(delegate).not.toHaveBeenCalled();
    expect((await select({ labels: { region: 'eu' } }, [])).decision).toEqual(
      noWorker('no live worker of group g runs target t'),
    );
  });

  it('answers as synchronously as its inner strategy (so the fire txn can place it)', () => {
    const sync = dispatchContext<LabelMatchOptions>({
      workers: ALL,
      options: { labels: { region: 'eu' } },
      delegate: (_name, _options, matching) => assignTo(matching[0]),
    });
    expect(strategy.select(sync)).toEqual(assignTo(ALL.find((w) => w.labels.region === 'eu')!));
    const later = dispatchContext<LabelMatchOptions>({
      workers: ALL,
      options: { labels: { region: 'eu' } },
      delegate: (_name, _options, matching) => Promise.resolve(assignTo(matching[0])),
    });
    expect(strategy.select(later)).toBeInstanceOf(Promise);
  });

  it('places a shard again through the inner strategy, among matching workers only', async () => {
    const delegate = jest.fn(() => Promise.resolve(assignTo('us-1')));
    const ctx = dispatchContext<LabelMatchOptions>({
      workers: ALL,
      options: { labels: { region: 'us' }, strategy: 'least-busy' },
      execution: { shard: { index: 0, total: 2 } },
      delegate,
    });
    await expect(strategy.select(ctx)).resolves.toEqual(assignTo('us-1'));
    expect(delegate).toHaveBeenCalledWith('least-busy', {}, [us]);
  });

  describe('validateOptions', () => {
    const validate = (options: Record<string, unknown>, ctx = validationContext()) =>
      strategy.validateOptions(options, ctx);

    it('accepts a selector, with or without a strategy and its options', async () => {
      await expect(validate({ labels: { region: 'eu' } })).resolves.toEqual([]);
      await expect(
        validate({ labels: { region: 'eu', tier: 'gpu' }, strategy: 'failover', options: {} }),
      ).resolves.toEqual([]);
    });

    it('checks the inner options with the inner strategy, naming them where they are', async () => {
      const validateStrategy = jest.fn(() =>
        Promise.resolve(['dispatch.options.order must be "registration" or "id" (got "age")']),
      );
      const ctx = validationContext({ validateStrategy });
      await expect(
        validate({ labels: { a: 'b' }, strategy: 'failover', options: { order: 'age' } }, ctx),
      ).resolves.toEqual([
        'dispatch.options.options.order must be "registration" or "id" (got "age")',
      ]);
      expect(validateStrategy).toHaveBeenCalledWith('failover', { order: 'age' });
      await validate({ labels: { a: 'b' } }, ctx);
      expect(validateStrategy).toHaveBeenLastCalledWith('round-robin', {});
    });

    it('rejects a missing, empty or malformed selector', async () => {
      await expect(validate({})).resolves.toEqual([
        'dispatch.options.labels is required: the labels a worker must have, e.g. {"region": "eu"}',
      ]);
      await expect(validate({ labels: ['region=eu'] })).resolves.toEqual([
        'dispatch.options.labels must be an object of label names to values, e.g. {"region": "eu"} (got an array)',
      ]);
      await expect(validate({ labels: 'region=eu' })).resolves.toEqual([
        'dispatch.options.labels must be an object of label names to values, e.g. {"region": "eu"} (got "region=eu")',
      ]);
      await expect(validate({ labels: {} })).resolves.toEqual([
        'dispatch.options.labels must name at least one label, e.g. {"region": "eu"}',
      ]);
      await expect(validate({ labels: { region: '', tier: 2, '': 'x' } })).resolves.toEqual([
        'dispatch.options.labels.region must be a non-empty string (got "")',
        'dispatch.options.labels.tier must be a non-empty string (got 2)',
        'dispatch.options.labels has an empty label name',
      ]);
    });

    it('rejects unknown options, a bad inner strategy and non-object inner options', async () => {
      const validateStrategy = jest.fn(() => Promise.resolve([]));
      const ctx = validationContext({ validateStrategy });
      const labels = { region: 'eu' };
      await expect(validate({ labels, selector: {} }, ctx)).resolves.toEqual([
        'dispatch.options.selector is not an option of the label-match strategy (allowed: labels, strategy, options)',
      ]);
      await expect(validate({ labels, strategy: 'label-match' }, ctx)).resolves.toEqual([
        'dispatch.options.strategy cannot be label-match (put all the labels in one selector instead)',
      ]);
      await expect(validate({ labels, strategy: 7 }, ctx)).resolves.toEqual([
        'dispatch.options.strategy must be a strategy name (got 7)',
      ]);
      await expect(
        validate(
          { labels, strategy: 'nearest' },
          validationContext({ strategies: ['label-match', 'random'] }),
        ),
      ).resolves.toEqual([
        'dispatch.options.strategy "nearest" is not a loaded dispatch strategy; available: random',
      ]);
      await expect(validate({ labels, options: [] }, ctx)).resolves.toEqual([
        'dispatch.options.options must be an object (got an array)',
      ]);
      await expect(validate({ labels, options: null }, ctx)).resolves.toEqual([
        'dispatch.options.options must be an object (got null)',
      ]);
      // The inner strategy is only asked about options that can be its options.
      expect(validateStrategy).toHaveBeenCalledTimes(1);
      expect(validateStrategy).toHaveBeenCalledWith('round-robin', {});
    });
  });
});
