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
  /**
   * The settings (environment variables) the plugin reads through PluginSettings, listed by
   * the node's `--help` under the plugin's name. Documentation only: reading and checking
   * them stays the plugin's job.
   */
  settings?: readonly ForestPluginSetting[];
}

/** One setting a plugin reads: `{ env: 'FOREST_WEBHOOK_URL', description: '…' }`. */
export interface ForestPluginSetting {
  /** The variable, `FOREST_` + uppercase letters, digits, underscores (PluginSettings only sees FOREST_*). */
  env: string;
  /** What it does and what values are allowed, one line. */
  description: string;
  /** The default as shown in --help; omit when unset means "none". */
  default?: string;
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
  const { name, version, compatibility, description, settings, ...moduleMetadata } = metadata;
  return (target) => {
    Module(moduleMetadata)(target);
    const info: ForestPluginInfo = { name, version, compatibility, description, settings };
    Reflect.defineMetadata(FOREST_PLUGIN_METADATA, info, target);
  };
}

/** The plugin info of a class, or undefined when it is not a `@ForestPlugin`. */
export function getForestPluginInfo(target: unknown): ForestPluginInfo | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getOwnMetadata(FOREST_PLUGIN_METADATA, target) as ForestPluginInfo | undefined;
}
