/**
 * A plugin could not be loaded or registered. The message names the plugin and where it
 * came from, and says what to change; main.ts prints it without a stack and exits.
 */
export class PluginLoadError extends Error {}

/** Messages, in one place so tests and docs quote the same words. */
export const PluginMessages = {
  noEntry: (location: string) =>
    `${location} has no entry point: add index.ts, index.js, or a package.json "main"`,
  notAPlugin: (location: string) =>
    `${location} exports no @ForestPlugin class (export the class decorated with @ForestPlugin from its entry point)`,
  severalPlugins: (location: string, names: string[]) =>
    `${location} exports ${names.length} @ForestPlugin classes (${names.join(', ')}); export one per plugin`,
  badName: (name: string) =>
    `plugin name "${name}" is not allowed: use lowercase letters, digits and dashes (1-64 characters)`,
  badVersion: (name: string, version: string) =>
    `plugin "${name}" has version "${version}", which is not a semver version (e.g. 1.0.0)`,
  badRange: (name: string, range: string) =>
    `plugin "${name}" declares compatibility "${range}", which is not a semver range (e.g. ^1.0.0)`,
  incompatible: (name: string, version: string, range: string, api: string) =>
    `plugin "${name}" ${version} supports plugin API ${range}, but this Forest implements plugin API ${api}; ` +
    'use a plugin version built for this Forest',
  duplicate: (name: string, first: string, second: string) =>
    `two plugins are named "${name}": ${first} and ${second}; remove one, or rename it`,
  badSetting: (name: string, problem: string) =>
    `plugin "${name}" declares a setting that is not valid: ${problem} ` +
    '(settings: [{ env: "FOREST_…", description: "…", default?: "…" }])',
  failedToLoad: (location: string, error: unknown) =>
    `${location} failed to load: ${error instanceof Error ? error.message : String(error)}`,
  typeScriptUnavailable: (location: string) =>
    `${location} is TypeScript, and the typescript package is not installed here; compile the plugin to JavaScript (package.json "main")`,
  packageNotFound: (name: string, roots: readonly string[]) =>
    `npm package "${name}" (FOREST_PLUGINS) is not installed in ${roots.join(' or ')}; npm install it there`,
  duplicateProvider: (kind: string, name: string, first: string, second: string) =>
    `the ${kind} "${name}" is registered by two plugins, ${first} and ${second}; names must be unique`,
  badProviderName: (kind: string, name: string, plugin: string) =>
    `plugin ${plugin} registers the ${kind} "${name}": use lowercase letters, digits and dashes (1-64 characters)`,
  notImplemented: (kind: string, name: string, plugin: string, method: string) =>
    `the ${kind} "${name}" of plugin ${plugin} has no ${method}() method`,
} as const;
