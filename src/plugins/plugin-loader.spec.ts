import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugins, PluginLoadOptions } from './plugin-loader';
import { PluginLoadError } from './plugin.errors';

/**
 * Plugins written as plain JavaScript files in temp dirs (the decorator applied as a
 * function), loaded exactly as a node loads FOREST_PLUGIN_PATHS folders.
 */
function pluginSource(name: string, version = '1.0.0', compatibility = '^1.0.0'): string {
  return `
    const { ForestPlugin } = require('@forest/plugin-api');
    class ThePlugin {}
    ForestPlugin(${JSON.stringify({ name, version, compatibility })})(ThePlugin);
    module.exports = { ThePlugin };
  `;
}

describe('loadPlugins', () => {
  let root: string;
  let counter = 0;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'forest-loader-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** A plugin folder `<dir>/<folder>` whose index.js is `source`. */
  function folder(dir: string, name: string, source: string, file = 'index.js'): string {
    const path = join(root, dir, name);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, file), source);
    return path;
  }

  function options(overrides: Partial<PluginLoadOptions> = {}): PluginLoadOptions {
    // A fresh builtin dir per test keeps require's module cache from mixing tests.
    return {
      builtinDir: join(root, `builtin-${counter++}`),
      paths: [],
      packages: [],
      onError: 'fail',
      ...overrides,
    };
  }

  it('loads every sub-folder of the built-in dir and of each plugin path, in name order', () => {
    const opts = options();
    folder(opts.builtinDir.slice(root.length + 1), 'b-plugin', pluginSource('b-plugin'));
    folder(opts.builtinDir.slice(root.length + 1), 'a-plugin', pluginSource('a-plugin'));
    const extra = folder('extra', 'my-plugin', pluginSource('my-plugin', '2.1.0'));
    const result = loadPlugins({ ...opts, paths: [join(root, 'extra')] });
    expect(result.plugins.map((p) => [p.info.name, p.source, p.info.version])).toEqual([
      ['a-plugin', 'builtin', '1.0.0'],
      ['b-plugin', 'builtin', '1.0.0'],
      ['my-plugin', 'path', '2.1.0'],
    ]);
    expect(result.plugins[2].location).toBe(extra);
    expect(typeof result.plugins[2].module).toBe('function');
    expect(result.skipped).toEqual([]);
  });

  it('takes a plugin path that has its own entry point as one plugin', () => {
    const single = folder('x', 'single', pluginSource('single-one'));
    const result = loadPlugins(options({ paths: [single] }));
    expect(result.plugins.map((p) => p.info.name)).toEqual(['single-one']);
  });

  it('follows package.json main', () => {
    const dir = folder('pkgs', 'with-main', pluginSource('with-main'), 'lib.js');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', main: 'lib.js' }));
    expect(loadPlugins(options({ paths: [join(root, 'pkgs')] })).plugins[0].info.name).toBe(
      'with-main',
    );
  });

  it('resolves FOREST_PLUGINS packages from the package roots', () => {
    folder('app/node_modules', 'forest-plugin-acme', pluginSource('acme'));
    const result = loadPlugins(
      options({ packages: ['forest-plugin-acme'], packageRoots: [join(root, 'app')] }),
    );
    expect(result.plugins.map((p) => [p.info.name, p.source, p.location])).toEqual([
      ['acme', 'package', 'forest-plugin-acme'],
    ]);
    expect(() =>
      loadPlugins(options({ packages: ['forest-plugin-nope'], packageRoots: [root] })),
    ).toThrow(/npm package "forest-plugin-nope" \(FOREST_PLUGINS\) is not installed/);
  });

  it('refuses two plugins with the same name, naming both places', () => {
    const first = folder('p1', 'one', pluginSource('twin'));
    const second = folder('p2', 'two', pluginSource('twin'));
    const run = () => loadPlugins(options({ paths: [join(root, 'p1'), join(root, 'p2')] }));
    expect(run).toThrow(PluginLoadError);
    expect(run).toThrow(`two plugins are named "twin": ${first} and ${second}`);
  });

  it('refuses a plugin built for another plugin API version', () => {
    folder('p', 'old', pluginSource('old-plugin', '0.3.0', '^0.9.0'));
    expect(() => loadPlugins(options({ paths: [join(root, 'p')] }))).toThrow(
      'plugin "old-plugin" 0.3.0 supports plugin API ^0.9.0, but this Forest implements plugin API 1.0.0',
    );
    // The same plugin is fine for a host whose API it supports.
    folder('q', 'newer', pluginSource('newer', '1.0.0', '>=1.0.0 <3'));
    expect(
      loadPlugins(options({ paths: [join(root, 'q')], apiVersion: '2.4.0' })).plugins,
    ).toHaveLength(1);
  });

  it.each([
    ['a bad name', pluginSource('Bad_Name'), /plugin name "Bad_Name" is not allowed/],
    ['a bad version', pluginSource('v', 'one'), /has version "one", which is not a semver/],
    ['a bad range', pluginSource('r', '1.0.0', 'soon'), /compatibility "soon", which is not/],
    ['no plugin class', 'module.exports = { nothing: 1 };', /exports no @ForestPlugin class/],
    ['a throwing module', 'throw new Error("kaput");', /failed to load: kaput/],
  ])('refuses %s with a message naming the plugin folder', (_case, source, message) => {
    const dir = folder('p', 'the-folder', source);
    const run = () => loadPlugins(options({ paths: [join(root, 'p')] }));
    expect(run).toThrow(message);
    expect(run).toThrow(dir);
  });

  it('refuses a folder without an entry point', () => {
    mkdirSync(join(root, 'p', 'empty'), { recursive: true });
    expect(() => loadPlugins(options({ paths: [join(root, 'p')] }))).toThrow(
      /empty has no entry point: add index.ts, index.js, or a package.json "main"/,
    );
  });

  it('skips bad plugins with a warning under onError=skip and loads the rest', () => {
    folder('p', 'a-good', pluginSource('good'));
    folder('p', 'b-twin', pluginSource('good'));
    folder('p', 'c-old', pluginSource('old', '1.0.0', '^0.1.0'));
    folder('p', 'd-broken', 'throw new Error("kaput");');
    const warnings: string[] = [];
    const result = loadPlugins(
      options({ paths: [join(root, 'p')], onError: 'skip', warn: (m) => warnings.push(m) }),
    );
    expect(result.plugins.map((p) => p.info.name)).toEqual(['good']);
    expect(result.skipped.map((s) => s.location.split('/').pop())).toEqual([
      'b-twin',
      'c-old',
      'd-broken',
    ]);
    expect(result.skipped[1].reason).toMatch(/supports plugin API \^0.1.0/);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^plugin skipped \(FOREST_PLUGIN_ON_ERROR=skip\): two plugins/);
  });
});
