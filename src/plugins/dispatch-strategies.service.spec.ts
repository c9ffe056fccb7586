import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  assignTo,
  DispatchContext,
  DispatchStrategy,
  ForestPlugin,
  getForestPluginInfo,
  noWorker,
  shardAcross,
} from '@forest/plugin-api';
import { dispatchContext, worker } from '@forest/plugin-api/testing';
import { ForestConfigModule } from '../config/config.module';
import { loadConfig } from '../config/forest.config';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { DecisionInput, DispatchStrategies } from './dispatch-strategies.service';
import { LoadedPlugin } from './plugin-loader';
import { PluginRegistry } from './plugin-registry';
import { PluginsModule } from './plugins.module';

@DispatchStrategy('first')
class FirstStrategy {
  select(ctx: DispatchContext) {
    return assignTo(ctx.workers[0]);
  }
}

@DispatchStrategy('throws')
class ThrowingStrategy {
  select(): never {
    throw new Error('kaboom');
  }
  validateOptions(): never {
    throw new Error('cannot check');
  }
}

@DispatchStrategy('hangs')
class HangingStrategy {
  select() {
    return new Promise(() => undefined);
  }
  validateOptions() {
    return new Promise(() => undefined);
  }
}

@DispatchStrategy('later')
class LaterStrategy {
  async select(ctx: DispatchContext) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return assignTo(ctx.workers[1]);
  }
}

@DispatchStrategy('picks-full')
class PicksFullStrategy {
  select() {
    return assignTo('w-full');
  }
}

@DispatchStrategy('nonsense')
class NonsenseStrategy {
  select() {
    return { go: 'anywhere' };
  }
}

@DispatchStrategy('narrows')
class NarrowingStrategy {
  select(ctx: DispatchContext) {
    return ctx.delegate('first', {}, ctx.workers.slice(1));
  }
  validateOptions(options: Record<string, unknown>) {
    return Object.keys(options).map((key) => `dispatch.options.${key} is not an option`);
  }
}

@DispatchStrategy('fan-out')
class FanOutStrategy {
  select(ctx: DispatchContext) {
    return shardAcross(ctx.workers);
  }
}

@ForestPlugin({
  name: 'test-strategies',
  version: '1.0.0',
  compatibility: '^1.0.0',
  providers: [
    FirstStrategy,
    ThrowingStrategy,
    HangingStrategy,
    LaterStrategy,
    PicksFullStrategy,
    NonsenseStrategy,
    NarrowingStrategy,
    FanOutStrategy,
  ],
})
class TestStrategiesPlugin {}

@DispatchStrategy('first')
class AnotherFirstStrategy {
  select() {
    return noWorker('never');
  }
}

@ForestPlugin({
  name: 'copycat',
  version: '1.0.0',
  compatibility: '^1.0.0',
  providers: [AnotherFirstStrategy],
})
class CopycatPlugin {}

function loaded(module: new () => unknown): LoadedPlugin {
  return {
    info: getForestPluginInfo(module)!,
    module,
    source: 'path',
    location: `/p/${module.name}`,
  };
}

async function boot(modules: (new () => unknown)[], onError: 'fail' | 'skip' = 'fail') {
  const config = loadConfig({ FOREST_PLUGIN_TIMEOUT_MS: '50', FOREST_LOG_LEVEL: 'silent' });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ForestConfigModule.forRoot(config),
      PluginsModule.forRoot({ plugins: modules.map(loaded), skipped: [], onError }),
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

function input(overrides: Partial<DecisionInput> = {}): DecisionInput {
  const { delegate: _delegate, ...context } = dispatchContext({
    workers: [worker('w-a'), worker('w-b'), worker('w-full', { load: 4 })],
  });
  return { ...context, ...overrides };
}

describe('DispatchStrategies (plugin calls guarded)', () => {
  let strategies: DispatchStrategies;
  let warnings: string[];

  beforeAll(async () => {
    strategies = (await boot([TestStrategiesPlugin])).get(DispatchStrategies);
  });

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('returns a synchronous answer synchronously', () => {
    expect(strategies.decide('first', input())).toEqual(assignTo('w-a'));
    expect(strategies.answersSynchronously('first')).toBe(true);
  });

  it('awaits an asynchronous answer, and marks the strategy for the pending path', async () => {
    const answer = strategies.decide('later', input());
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toEqual(assignTo('w-b'));
    expect(strategies.answersSynchronously('later')).toBe(false);
  });

  it('contains a throwing strategy: none, logged with the strategy and plugin names', () => {
    const answer = strategies.decide('throws', input());
    expect(answer).toEqual({
      type: 'none',
      reason: 'dispatch strategy "throws" of plugin test-strategies failed: kaboom',
    });
    expect(warnings.join('\n')).toMatch(
      /dispatch strategy "throws" of plugin test-strategies failed: kaboom \(execution .*\); it stays pending/,
    );
  });

  it('contains a hanging strategy: none after the plugin timeout', async () => {
    const started = Date.now();
    await expect(strategies.decide('hangs', input())).resolves.toEqual({
      type: 'none',
      reason: 'dispatch strategy "hangs" of plugin test-strategies did not answer within 50ms',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(warnings.join('\n')).toMatch(/"hangs" of plugin test-strategies did not answer/);
  });

  it('refuses answers the host cannot apply', () => {
    expect(strategies.decide('picks-full', input())).toEqual({
      type: 'none',
      reason:
        'dispatch strategy "picks-full" of plugin test-strategies chose worker w-full, which has no free slot',
    });
    expect(strategies.decide('nonsense', input())).toMatchObject({
      type: 'none',
      reason: expect.stringMatching(/answered \{"go":"anywhere"\}, which is not a decision/),
    });
    // Shards across a full worker, and shards for an execution that is itself a shard.
    expect(strategies.decide('fan-out', input())).toMatchObject({ type: 'none' });
    const twoFree = input({ workers: [worker('w-a'), worker('w-b')] });
    expect(strategies.decide('fan-out', twoFree)).toEqual(shardAcross(['w-a', 'w-b']));
    const shard = {
      ...twoFree,
      execution: { ...twoFree.execution, shard: { index: 1, total: 2 } },
    };
    expect(strategies.decide('fan-out', shard)).toMatchObject({
      type: 'none',
      reason: expect.stringMatching(/shards for an execution that is one shard/),
    });
  });

  it('lets a strategy delegate to another, synchronously', () => {
    expect(strategies.decide('narrows', input())).toEqual(assignTo('w-b'));
  });

  it('answers none for a strategy that is not loaded, listing the loaded ones', () => {
    expect(strategies.decide('gone', input())).toEqual({
      type: 'none',
      reason: expect.stringMatching(
        /^dispatch strategy "gone" is not loaded \(loaded: fan-out, first,/,
      ),
    });
  });

  it('validates options through the strategy, and contains its failures', async () => {
    await expect(strategies.validate('first', { any: 1 })).resolves.toEqual([]);
    await expect(strategies.validate('narrows', { x: 1 })).resolves.toEqual([
      'dispatch.options.x is not an option',
    ]);
    await expect(strategies.validate('nope', {})).resolves.toEqual([
      expect.stringMatching(
        /^dispatch.strategy "nope" is not a loaded dispatch strategy; available: /,
      ),
    ]);
    await expect(strategies.validate('throws', {})).resolves.toEqual([
      'dispatch.options could not be checked: dispatch strategy "throws" of plugin test-strategies failed: cannot check',
    ]);
    await expect(strategies.validate('hangs', {})).resolves.toEqual([
      expect.stringMatching(/did not answer within 50ms/),
    ]);
  });
});

describe('PluginRegistry at boot', () => {
  afterEach(() => jest.restoreAllMocks());

  it('refuses two plugins registering the same strategy name, naming both', async () => {
    await expect(boot([TestStrategiesPlugin, CopycatPlugin])).rejects.toThrow(
      'the dispatch-strategy "first" is registered by two plugins, test-strategies (/p/TestStrategiesPlugin) and copycat (/p/CopycatPlugin); names must be unique',
    );
  });

  it('keeps the first and warns under onError=skip', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const registry = (await boot([TestStrategiesPlugin, CopycatPlugin], 'skip')).get(
      PluginRegistry,
    );
    expect(registry.strategy('first')?.plugin?.info.name).toBe('test-strategies');
    expect(String(warn.mock.calls[0][0])).toMatch(/^ignored \(FOREST_PLUGIN_ON_ERROR=skip\)/);
    expect(registry.describe().plugins.map((p) => [p.name, p.provides.length])).toEqual([
      ['test-strategies', 8],
      ['copycat', 0],
    ]);
  });
});

describe('DispatchStrategies metrics', () => {
  it('counts failed calls by call, strategy and reason', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const config = loadConfig({ FOREST_PLUGIN_TIMEOUT_MS: '50', FOREST_LOG_LEVEL: 'silent' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ForestConfigModule.forRoot(config),
        MetricsModule,
        PluginsModule.forRoot({
          plugins: [loaded(TestStrategiesPlugin)],
          skipped: [],
          onError: 'fail',
        }),
      ],
    }).compile();
    await moduleRef.init();
    const strategies = moduleRef.get(DispatchStrategies);
    await strategies.decide('first', input());
    await strategies.decide('throws', input());
    await strategies.decide('hangs', input());
    await strategies.decide('nonsense', input());
    await strategies.decide('missing', input());
    await strategies.validate('throws', {});
    const { values } = await moduleRef.get(MetricsService).plugins.callFailures.get();
    expect(values.map((v) => [v.labels.call, v.labels.name, v.labels.reason, v.value])).toEqual([
      ['select', 'throws', 'error', 1],
      ['select', 'hangs', 'timeout', 1],
      ['select', 'nonsense', 'invalid_answer', 1],
      ['select', 'missing', 'not_loaded', 1],
      ['validate_options', 'throws', 'error', 1],
    ]);
    await moduleRef.close();
    jest.restoreAllMocks();
  });
});
