import { Module, ModuleMetadata } from '@nestjs/common';

/** What a plugin says about itself, next to the Nest module metadata. */
export interface ForestPluginInfo {
  /** Unique among loaded plugins: lowercase letters, digits and dashes (`dispatch-random`). */
  name: string;
  /** The plugin's own version (semver). */
  version: string;
  /** The plugin API versions it supports, as a semver range (`^1.0.0`). */
  compatibility: string;
  /** One line for `GET /api/plugins`. */
  description?: string;
}

export type ForestPluginMetadata = ForestPluginInfo & ModuleMetadata;

/** Metadata key the loader reads; a string so two copies of this file still agree. */
export const FOREST_PLUGIN_METADATA = 'forest:plugin';

/**
 * Marks a class as a Forest plugin: a Nest module (imports, providers, exports as in
 * `@Module`) plus its name, version and the plugin API range it supports. Its providers
 * decorated with `@DispatchStrategy(name)` or `@AlertChannel(name)` are registered by
 * name when the host boots.
 */
export function ForestPlugin(metadata: ForestPluginMetadata): ClassDecorator {
  const { name, version, compatibility, description, ...moduleMetadata } = metadata;
  return (target) => {
    Module(moduleMetadata)(target);
    const info: ForestPluginInfo = { name, version, compatibility, description };
    Reflect.defineMetadata(FOREST_PLUGIN_METADATA, info, target);
  };
}

/** The plugin info of a class, or undefined when it is not a `@ForestPlugin`. */
export function getForestPluginInfo(target: unknown): ForestPluginInfo | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getOwnMetadata(FOREST_PLUGIN_METADATA, target) as ForestPluginInfo | undefined;
}
