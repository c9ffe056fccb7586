import { ALERT_CHANNEL_METADATA } from '@forest/plugin-api';
import { LoadedPlugin, PluginLoadResult } from './plugin-loader';

/**
 * The names a loaded plugin registers under one provider metadata key (@AlertChannel,
 * @DispatchStrategy), read from its module metadata before Nest starts: its providers and
 * those of the modules it imports, including dynamic modules and `useClass` providers —
 * the classes the PluginRegistry later finds through Nest. (A channel made by a factory
 * carries no class metadata and is not registered by name either way.)
 */
export function providedNames(plugin: LoadedPlugin, key: string): string[] {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (entry: unknown): void => {
    const module = unwrap(entry);
    if (!module || seen.has(module)) return;
    seen.add(module);
    const dynamic = typeof module === 'object' ? (module as DynamicLike) : undefined;
    const type = typeof module === 'function' ? module : dynamic?.module;
    const providers = [...metadataList(type, 'providers'), ...(dynamic?.providers ?? [])];
    for (const provider of providers) {
      const cls =
        typeof provider === 'function' ? provider : (provider as { useClass?: unknown })?.useClass;
      const name =
        typeof cls === 'function' ? (Reflect.getMetadata(key, cls) as unknown) : undefined;
      if (typeof name === 'string') names.add(name);
    }
    for (const imported of [...metadataList(type, 'imports'), ...(dynamic?.imports ?? [])]) {
      visit(imported);
    }
  };
  visit(plugin.module);
  return [...names].sort();
}

interface DynamicLike {
  module?: unknown;
  providers?: unknown[];
  imports?: unknown[];
}

/** A module reference: a class, a dynamic module, or a forwardRef to one. */
function unwrap(entry: unknown): unknown {
  if (entry && typeof entry === 'object' && 'forwardRef' in entry) {
    return (entry as { forwardRef: () => unknown }).forwardRef();
  }
  return entry && (typeof entry === 'function' || typeof entry === 'object') ? entry : undefined;
}

function metadataList(type: unknown, key: string): unknown[] {
  if (typeof type !== 'function') return [];
  const list = Reflect.getMetadata(key, type) as unknown;
  return Array.isArray(list) ? (list as unknown[]) : [];
}

/** The alert channel names the loaded plugins provide. */
export function alertChannelNames(loaded: PluginLoadResult): string[] {
  return [
    ...new Set(loaded.plugins.flatMap((p) => providedNames(p, ALERT_CHANNEL_METADATA))),
  ].sort();
}

/**
 * FOREST_ALERT_DEFAULT_CHANNELS checked against the loaded plugins' channels: a problem
 * naming the variable and the known channels, or undefined. When plugins were skipped
 * (FOREST_PLUGIN_ON_ERROR=skip) an unknown name may be one of theirs: the node boots and
 * AlertService warns instead, as that setting asks.
 */
export function defaultChannelsProblem(
  channels: readonly string[],
  loaded: PluginLoadResult,
): string | undefined {
  if (loaded.skipped.length > 0) return undefined;
  const known = alertChannelNames(loaded);
  const unknown = channels.filter((name) => !known.includes(name));
  if (unknown.length === 0) return undefined;
  return (
    `FOREST_ALERT_DEFAULT_CHANNELS: ${unknown.map((n) => `"${n}"`).join(', ')} ` +
    `${unknown.length === 1 ? 'is not an alert channel' : 'are not alert channels'}: ` +
    `the loaded plugins provide ${known.join(', ') || 'none'}`
  );
}
