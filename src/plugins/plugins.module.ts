import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PluginSettings } from '@forest/plugin-api';
import { ForestConfig } from '../config/forest.config';
import { DispatchStrategies } from './dispatch-strategies.service';
import { PluginLoadResult } from './plugin-loader';
import { PLUGIN_LOAD_RESULT, PluginRegistry } from './plugin-registry';
import { EnvPluginSettings } from './plugin-settings.provider';
import { PluginsController } from './plugins.controller';

/**
 * Imports the plugins loaded before Nest started and registers their strategies and
 * channels. Global, so plugin modules get PluginSettings and the host's modules get the
 * registry and DispatchStrategies without importing this module.
 */
@Module({})
export class PluginsModule {
  static forRoot(loaded: PluginLoadResult): DynamicModule {
    return {
      module: PluginsModule,
      global: true,
      imports: [DiscoveryModule, ...loaded.plugins.map((plugin) => plugin.module)],
      controllers: [PluginsController],
      providers: [
        { provide: PLUGIN_LOAD_RESULT, useValue: loaded },
        {
          provide: PluginSettings,
          inject: [ForestConfig],
          useFactory: (config: ForestConfig) => new EnvPluginSettings(config.env),
        },
        PluginRegistry,
        DispatchStrategies,
      ],
      exports: [PluginSettings, PluginRegistry, DispatchStrategies],
    };
  }
}
