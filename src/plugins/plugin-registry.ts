import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import {
  ALERT_CHANNEL_METADATA,
  DISPATCH_STRATEGY_METADATA,
  FOREST_PLUGIN_API_VERSION,
  ForestAlertChannel,
  ForestDispatchStrategy,
  PLUGIN_NAME_PATTERN,
} from '@forest/plugin-api';
import { relative } from 'node:path';
import { BUILTIN_PLUGINS_DIR, LoadedPlugin, PluginLoadResult } from './plugin-loader';
import { PluginLoadError, PluginMessages } from './plugin.errors';

export const PLUGIN_LOAD_RESULT = Symbol('PLUGIN_LOAD_RESULT');

export type PluginKind = 'dispatch-strategy' | 'alert-channel';

export interface Registered<T> {
  readonly name: string;
  readonly kind: PluginKind;
  readonly instance: T;
  /** The plugin that provides it; undefined for a provider of the host itself. */
  readonly plugin?: LoadedPlugin;
}

interface Found {
  strategies: Map<string, Registered<ForestDispatchStrategy>>;
  channels: Map<string, Registered<ForestAlertChannel>>;
}

/** How messages name a provider's owner. */
function describePlugin(plugin: LoadedPlugin | undefined): string {
  return plugin ? `${plugin.info.name} (${plugin.location})` : 'the host';
}

const KINDS: { kind: PluginKind; key: string; method: 'select' | 'send' }[] = [
  { kind: 'dispatch-strategy', key: DISPATCH_STRATEGY_METADATA, method: 'select' },
  { kind: 'alert-channel', key: ALERT_CHANNEL_METADATA, method: 'send' },
];

/**
 * The strategies and channels of the loaded plugins, by name. Found once through Nest's
 * DiscoveryService (providers carrying the @DispatchStrategy / @AlertChannel metadata);
 * two providers of one kind with the same name stop the boot naming both plugins.
 */
@Injectable()
export class PluginRegistry implements OnModuleInit {
  private readonly logger = new Logger(PluginRegistry.name);
  /** Found once, on first use: the registry is read on every dispatch. */
  private found?: Found;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly modules: ModulesContainer,
    @Inject(PLUGIN_LOAD_RESULT) private readonly loaded: PluginLoadResult,
  ) {}

  onModuleInit(): void {
    this.registered();
    const plugins = this.loaded.plugins.map((p) => `${p.info.name}@${p.info.version}`);
    this.logger.log(
      `${plugins.length} plugin(s): ${plugins.join(', ') || 'none'}; strategies: ` +
        `${this.strategyNames().join(', ') || 'none'}; alert channels: ${this.channelNames().join(', ') || 'none'}`,
    );
  }

  strategy(name: string): Registered<ForestDispatchStrategy> | undefined {
    return this.registered().strategies.get(name);
  }

  channel(name: string): Registered<ForestAlertChannel> | undefined {
    return this.registered().channels.get(name);
  }

  strategyNames(): string[] {
    return [...this.registered().strategies.keys()].sort();
  }

  channelNames(): string[] {
    return [...this.registered().channels.keys()].sort();
  }

  /** What `GET /api/plugins` shows. */
  describe() {
    const { strategies, channels } = this.registered();
    const provided = [...strategies.values(), ...channels.values()];
    return {
      apiVersion: FOREST_PLUGIN_API_VERSION,
      plugins: this.loaded.plugins.map((plugin) => ({
        name: plugin.info.name,
        version: plugin.info.version,
        compatibility: plugin.info.compatibility,
        description: plugin.info.description ?? '',
        source: plugin.source,
        location:
          plugin.source === 'builtin'
            ? `plugins/${relative(BUILTIN_PLUGINS_DIR, plugin.location)}`
            : plugin.location,
        provides: provided
          .filter((r) => r.plugin === plugin)
          .map((r) => ({ kind: r.kind, name: r.name }))
          .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1)),
      })),
      skipped: this.loaded.skipped.map((s) => ({ ...s })),
    };
  }

  private registered(): Found {
    return (this.found ??= this.explore());
  }

  private explore(): Found {
    const owners = this.pluginOfModule();
    const found = new Map<PluginKind, Map<string, Registered<unknown>>>();
    for (const { kind, key, method } of KINDS) {
      const byName = new Map<string, Registered<unknown>>();
      found.set(kind, byName);
      for (const wrapper of this.discovery.getProviders()) {
        const type = wrapper.metatype;
        if (typeof type !== 'function' || !wrapper.instance) continue;
        const name = Reflect.getMetadata(key, type) as string | undefined;
        if (name === undefined) continue;
        const plugin = owners.get(wrapper.host?.metatype as unknown);
        const pluginName = describePlugin(plugin);
        const problem = !PLUGIN_NAME_PATTERN.test(name)
          ? PluginMessages.badProviderName(kind, name, pluginName)
          : typeof (wrapper.instance as Record<string, unknown>)[method] !== 'function'
            ? PluginMessages.notImplemented(kind, name, pluginName, method)
            : undefined;
        const twin = byName.get(name);
        const duplicate =
          twin && twin.instance !== wrapper.instance
            ? PluginMessages.duplicateProvider(kind, name, describePlugin(twin.plugin), pluginName)
            : undefined;
        if (twin && !duplicate) continue; // the same provider exported into several modules
        const reason = problem ?? duplicate;
        if (reason) {
          if (this.loaded.onError === 'fail') throw new PluginLoadError(reason);
          this.logger.warn(`ignored (FOREST_PLUGIN_ON_ERROR=skip): ${reason}`);
          continue;
        }
        byName.set(name, { name, kind, instance: wrapper.instance, plugin });
      }
    }
    return {
      strategies: found.get('dispatch-strategy') as Found['strategies'],
      channels: found.get('alert-channel') as Found['channels'],
    };
  }

  /** Module class -> the plugin whose module is it or (transitively) imports it. */
  private pluginOfModule(): Map<unknown, LoadedPlugin> {
    const owners = new Map<unknown, LoadedPlugin>();
    const all = [...this.modules.values()];
    for (const plugin of this.loaded.plugins) {
      const root = all.find((m) => m.metatype === plugin.module);
      const queue = root ? [root] : [];
      while (queue.length > 0) {
        const current = queue.pop()!;
        if (owners.has(current.metatype) || current.isGlobal) continue;
        owners.set(current.metatype, plugin);
        queue.push(...current.imports);
      }
    }
    return owners;
  }
}
