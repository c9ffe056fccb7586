import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import {
  ALERT_CHANNEL_METADATA,
  AlertChannel,
  DISPATCH_STRATEGY_METADATA,
  DispatchStrategy,
  ForestPlugin,
} from '@forest/plugin-api';
import { configHelp } from '../config/forest.config';
import { LoadedPlugin, loadPlugins, PluginLoadResult } from './plugin-loader';
import { alertChannelNames, defaultChannelsProblem, providedNames } from './plugin-provides';
import { PluginLoadError } from './plugin.errors';

@AlertChannel('pager')
class PagerChannel {
  send() {}
}

@AlertChannel('sms')
class SmsChannel {
  send() {}
}

@DispatchStrategy('nearest')
class NearestStrategy {
  select() {}
}

@Module({ providers: [{ provide: 'SMS', useClass: SmsChannel }] })
class SmsModule {}

class ChannelsModule {
  static forRoot() {
    return { module: ChannelsModule, providers: [PagerChannel], imports: [SmsModule] };
  }
}

@ForestPlugin({
  name: 'paging',
  version: '1.0.0',
  compatibility: '^1.0.0',
  imports: [ChannelsModule.forRoot()],
  providers: [NearestStrategy],
  settings: [{ env: 'FOREST_PAGER_KEY', description: 'API key of the pager service' }],
})
class PagingPlugin {}

function loaded(
  plugins: Partial<LoadedPlugin>[],
  skipped: PluginLoadResult['skipped'] = [],
): PluginLoadResult {
  return { plugins: plugins as LoadedPlugin[], skipped, onError: 'fail' };
}

const paging = {
  module: PagingPlugin,
  info: { name: 'paging', version: '1.0.0', compatibility: '^1.0.0' },
};

describe('what plugins provide, before Nest starts', () => {
  it('finds channels and strategies in providers, imported and dynamic modules, useClass', () => {
    expect(providedNames(paging as LoadedPlugin, ALERT_CHANNEL_METADATA)).toEqual(['pager', 'sms']);
    expect(providedNames(paging as LoadedPlugin, DISPATCH_STRATEGY_METADATA)).toEqual(['nearest']);
    expect(alertChannelNames(loaded([paging]))).toEqual(['pager', 'sms']);
  });

  it('FOREST_ALERT_DEFAULT_CHANNELS must name loaded channels', () => {
    expect(defaultChannelsProblem(['pager', 'sms'], loaded([paging]))).toBeUndefined();
    expect(defaultChannelsProblem([], loaded([paging]))).toBeUndefined();
    expect(defaultChannelsProblem(['nope', 'pager', 'gone'], loaded([paging]))).toBe(
      'FOREST_ALERT_DEFAULT_CHANNELS: "nope", "gone" are not alert channels: the loaded plugins provide pager, sms',
    );
    expect(defaultChannelsProblem(['log'], loaded([]))).toBe(
      'FOREST_ALERT_DEFAULT_CHANNELS: "log" is not an alert channel: the loaded plugins provide none',
    );
  });

  it('does not stop the boot over a channel a skipped plugin may have provided', () => {
    const skipped = [{ source: 'path' as const, location: '/x', reason: 'broken' }];
    expect(defaultChannelsProblem(['nope'], loaded([paging], skipped))).toBeUndefined();
  });
});

describe('declared plugin settings', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'forest-settings-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function load(name: string, settings: unknown) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'index.js'),
      `const { ForestPlugin } = require('@forest/plugin-api');
       class ThePlugin {}
       ForestPlugin(${JSON.stringify({ name, version: '1.0.0', compatibility: '^1.0.0', settings })})(ThePlugin);
       module.exports = { ThePlugin };`,
    );
    return loadPlugins({
      builtinDir: join(root, 'none'),
      paths: [dir],
      packages: [],
      onError: 'fail',
    });
  }

  it('are kept in the plugin info and listed by --help under the plugin', () => {
    const settings = [
      { env: 'FOREST_PAGER_KEY', description: 'API key of the pager service' },
      { env: 'FOREST_PAGER_RETRIES', description: 'extra attempts', default: '2' },
    ];
    const [plugin] = load('pager-plugin', settings).plugins;
    expect(plugin.info.settings).toEqual(settings);
    const help = configHelp([{ plugin: plugin.info.name, settings: plugin.info.settings! }]);
    expect(help).toMatch(/\nPlugin settings .*:\n {2}pager-plugin:\n {4}FOREST_PAGER_KEY +API key/);
    expect(help).toMatch(/ {4}FOREST_PAGER_RETRIES +extra attempts \(default: 2\)\n/);
    expect(configHelp()).not.toContain('Plugin settings');
  });

  it.each([
    ['not an array', { env: 'FOREST_X' }, 'settings is not an array'],
    [
      'a variable PluginSettings never sees',
      [{ env: 'PAGER_KEY', description: 'd' }],
      'env "PAGER_KEY" is not FOREST_',
    ],
    ['no description', [{ env: 'FOREST_X' }], 'FOREST_X has no description'],
    [
      'a default that is not text',
      [{ env: 'FOREST_X', description: 'd', default: 3 }],
      'FOREST_X: default must be a string',
    ],
  ])('with %s stop the boot naming the plugin', (what, settings, problem) => {
    const name = `bad-${what.toLowerCase().replace(/[^a-z]+/g, '-')}`;
    expect(() => load(name, settings)).toThrow(PluginLoadError);
    expect(() => load(name, settings)).toThrow(
      `plugin "${name}" declares a setting that is not valid: ${problem}`,
    );
  });
});
