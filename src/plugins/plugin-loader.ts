import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type } from '@nestjs/common';
import {
  FOREST_PLUGIN_API_VERSION,
  ForestPluginInfo,
  getForestPluginInfo,
  PLUGIN_NAME_PATTERN,
} from '@forest/plugin-api';
import * as semver from 'semver';
import { enableTypeScriptPlugins, shareHostModules } from './host-modules';
import { PluginLoadError, PluginMessages } from './plugin.errors';

/** Where a plugin came from: this repository's plugins/, FOREST_PLUGIN_PATHS, FOREST_PLUGINS. */
export type PluginSource = 'builtin' | 'path' | 'package';

export interface LoadedPlugin {
  readonly info: ForestPluginInfo;
  /** The @ForestPlugin class: a Nest module the host imports. */
  readonly module: Type<unknown>;
  readonly source: PluginSource;
  /** Its folder, or the package name. */
  readonly location: string;
}

export interface SkippedPlugin {
  readonly source: PluginSource;
  readonly location: string;
  readonly reason: string;
}

export interface PluginLoadResult {
  readonly plugins: readonly LoadedPlugin[];
  /** Plugins left out under FOREST_PLUGIN_ON_ERROR=skip, with why. */
  readonly skipped: readonly SkippedPlugin[];
  readonly onError: 'fail' | 'skip';
}

export interface PluginLoadOptions {
  /** The built-in plugins folder; each sub-folder is a plugin. */
  builtinDir: string;
  /** FOREST_PLUGIN_PATHS. */
  paths: readonly string[];
  /** FOREST_PLUGINS. */
  packages: readonly string[];
  /** Where packages are resolved from (default: the working directory). */
  packageRoots?: readonly string[];
  onError: 'fail' | 'skip';
  /** The plugin API version of this host (tests pass others). */
  apiVersion?: string;
  warn?: (message: string) => void;
}

/** This build's built-in plugins (plugins/ in a checkout, dist/plugins when built). */
export const BUILTIN_PLUGINS_DIR = join(__dirname, '..', '..', 'plugins');

interface Candidate {
  source: PluginSource;
  location: string;
  /** Resolves the entry file; throws a PluginLoadError-worthy message. */
  entry: () => string;
}

/**
 * Finds, loads and checks every plugin before Nest starts, so a bad plugin stops the boot
 * with a message naming it instead of failing somewhere inside the DI container.
 * Synchronous: plugin entry points are CommonJS modules loaded with require.
 */
export function loadPlugins(options: PluginLoadOptions): PluginLoadResult {
  const api = options.apiVersion ?? FOREST_PLUGIN_API_VERSION;
  const plugins: LoadedPlugin[] = [];
  const skipped: SkippedPlugin[] = [];
  const reject = (candidate: Pick<Candidate, 'source' | 'location'>, reason: string) => {
    if (options.onError === 'fail') throw new PluginLoadError(reason);
    skipped.push({ source: candidate.source, location: candidate.location, reason });
    options.warn?.(`plugin skipped (FOREST_PLUGIN_ON_ERROR=skip): ${reason}`);
  };

  shareHostModules();
  for (const candidate of candidates(options)) {
    let loaded: LoadedPlugin;
    try {
      loaded = loadOne(candidate, api);
    } catch (error) {
      reject(
        candidate,
        error instanceof PluginLoadError
          ? error.message
          : PluginMessages.failedToLoad(candidate.location, error),
      );
      continue;
    }
    const twin = plugins.find((p) => p.info.name === loaded.info.name);
    if (twin) {
      reject(candidate, PluginMessages.duplicate(loaded.info.name, twin.location, loaded.location));
      continue;
    }
    plugins.push(loaded);
  }
  return { plugins, skipped, onError: options.onError };
}

function* candidates(options: PluginLoadOptions): Generator<Candidate> {
  if (existsSync(options.builtinDir)) {
    for (const dir of subfolders(options.builtinDir)) {
      yield { source: 'builtin', location: dir, entry: () => folderEntry(dir) };
    }
  }
  for (const path of options.paths) {
    // A folder with an entry point is one plugin; otherwise each sub-folder is one.
    const dirs = hasEntry(path) ? [path] : subfolders(path);
    for (const dir of dirs) yield { source: 'path', location: dir, entry: () => folderEntry(dir) };
  }
  const roots = options.packageRoots ?? [process.cwd()];
  for (const name of options.packages) {
    yield {
      source: 'package',
      location: name,
      entry: () => {
        try {
          return require.resolve(name, { paths: [...roots] });
        } catch {
          throw new PluginLoadError(PluginMessages.packageNotFound(name, roots));
        }
      },
    };
  }
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .map((e) => resolve(dir, e.name))
    .sort();
}

const ENTRY_FILES = ['index.js', 'index.ts'];

function hasEntry(dir: string): boolean {
  return existsSync(join(dir, 'package.json')) || ENTRY_FILES.some((f) => isFile(join(dir, f)));
}

function folderEntry(dir: string): string {
  const manifest = join(dir, 'package.json');
  if (isFile(manifest)) {
    const main = (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown }).main;
    if (typeof main === 'string' && main) return require.resolve(resolve(dir, main));
  }
  const file = ENTRY_FILES.map((f) => join(dir, f)).find(isFile);
  if (!file) throw new PluginLoadError(PluginMessages.noEntry(dir));
  return file;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function loadOne(candidate: Candidate, api: string): LoadedPlugin {
  const entry = candidate.entry();
  if (entry.endsWith('.ts') && !enableTypeScriptPlugins()) {
    throw new PluginLoadError(PluginMessages.typeScriptUnavailable(candidate.location));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- plugins are found at run time
  const exported = require(entry) as unknown;
  const found = pluginClasses(exported);
  if (found.length === 0) throw new PluginLoadError(PluginMessages.notAPlugin(candidate.location));
  if (found.length > 1) {
    throw new PluginLoadError(
      PluginMessages.severalPlugins(
        candidate.location,
        found.map((c) => c.name),
      ),
    );
  }
  const module = found[0];
  const info = getForestPluginInfo(module)!;
  try {
    checkInfo(info, api);
  } catch (error) {
    throw new PluginLoadError(`${(error as Error).message} (${candidate.location})`);
  }
  return { info, module, source: candidate.source, location: candidate.location };
}

function pluginClasses(exported: unknown): Type<unknown>[] {
  const values =
    typeof exported === 'function'
      ? [exported]
      : exported && typeof exported === 'object'
        ? Object.values(exported)
        : [];
  return [...new Set(values)].filter((v): v is Type<unknown> => !!getForestPluginInfo(v));
}

/** The plugin's declared name, version and API range, checked against this host. */
function checkInfo(info: ForestPluginInfo, api: string): void {
  if (typeof info.name !== 'string' || !PLUGIN_NAME_PATTERN.test(info.name)) {
    throw new PluginLoadError(PluginMessages.badName(String(info.name)));
  }
  if (typeof info.version !== 'string' || !semver.valid(info.version)) {
    throw new PluginLoadError(PluginMessages.badVersion(info.name, String(info.version)));
  }
  if (typeof info.compatibility !== 'string' || !semver.validRange(info.compatibility)) {
    throw new PluginLoadError(PluginMessages.badRange(info.name, String(info.compatibility)));
  }
  if (!semver.satisfies(api, info.compatibility, { includePrerelease: true })) {
    throw new PluginLoadError(
      PluginMessages.incompatible(info.name, info.version, info.compatibility, api),
    );
  }
  checkSettings(info);
}

/** Plugin settings are FOREST_* variables (the only ones PluginSettings sees), described. */
const SETTING_ENV = /^FOREST_[A-Z0-9_]{1,100}$/;

function checkSettings(info: ForestPluginInfo): void {
  const settings: unknown = info.settings;
  if (settings === undefined) return;
  if (!Array.isArray(settings)) {
    throw new PluginLoadError(PluginMessages.badSetting(info.name, 'settings is not an array'));
  }
  for (const setting of settings as unknown[]) {
    const { env, description, default: fallback } = (setting ?? {}) as Record<string, unknown>;
    const problem =
      typeof env !== 'string' || !SETTING_ENV.test(env)
        ? `env ${JSON.stringify(env)} is not FOREST_ followed by A-Z, 0-9 or _`
        : typeof description !== 'string' || description.trim() === ''
          ? `${env} has no description`
          : fallback !== undefined && typeof fallback !== 'string'
            ? `${env}: default must be a string`
            : undefined;
    if (problem) throw new PluginLoadError(PluginMessages.badSetting(info.name, problem));
  }
}
