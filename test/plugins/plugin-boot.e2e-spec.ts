import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess, runToExit } from '../support/node-process';

/**
 * Boot-time plugin checks in a real node process (src/main.ts): plugins written in
 * TypeScript in a temp dir outside the repository, loaded through FOREST_PLUGIN_PATHS, the
 * way an operator adds one. A bad plugin stops the boot with exit code 2 and a message
 * naming it; FOREST_PLUGIN_ON_ERROR=skip boots without it.
 */
function plugin(name: string, version: string, compatibility: string, strategy: string): string {
  return `
import { Injectable } from '@nestjs/common';
import { assignTo, DispatchContext, DispatchStrategy, ForestPlugin } from '@forest/plugin-api';

@DispatchStrategy('${strategy}')
export class TheStrategy {
  select(context: DispatchContext) {
    return assignTo(context.workers[0]);
  }
}

@Injectable()
class Unrelated {}

@ForestPlugin({
  name: '${name}',
  version: '${version}',
  compatibility: '${compatibility}',
  providers: [TheStrategy, Unrelated],
})
export class ThePlugin {}
`;
}

/** The last log line (JSON, like every line the node logs): the fatal start-up failure. */
function failureLine(stdout: string): { level: number; msg: string; err?: unknown } {
  const lines = stdout.trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]) as { level: number; msg: string; err?: unknown };
  expect(last.level).toBe(60);
  return last;
}

describe('plugin checks at boot (node process)', () => {
  let root: string;
  const nodes: NodeProcess[] = [];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'forest-plugin-boot-'));
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  function pluginDir(folder: string, source: string): void {
    mkdirSync(join(root, 'plugins', folder), { recursive: true });
    writeFileSync(join(root, 'plugins', folder, 'index.ts'), source);
  }

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      FOREST_DATA_DIR: join(root, 'data'),
      FOREST_PLUGIN_PATHS: join(root, 'plugins'),
      ...extra,
    };
  }

  it('refuses a plugin built for another plugin API version', async () => {
    pluginDir('old', plugin('old-plugin', '0.3.0', '^0.9.0', 'old-way'));
    const { code, stdout } = await runToExit(NodeProcess.run([], env({ FOREST_HTTP_PORT: '0' })));
    expect(code).toBe(2);
    const failure = failureLine(stdout);
    expect(failure.msg).toBe(
      `Forest failed to start: plugin "old-plugin" 0.3.0 supports plugin API ^0.9.0, but this Forest implements plugin API 1.0.0; use a plugin version built for this Forest (${join(root, 'plugins', 'old')})`,
    );
    expect(failure.err).toBeUndefined(); // a message, not a stack
  }, 60_000);

  it('refuses a plugin whose name another plugin has', async () => {
    pluginDir('my-random', plugin('dispatch-random', '1.0.0', '^1.0.0', 'random-2'));
    const { code, stdout } = await runToExit(NodeProcess.run([], env({ FOREST_HTTP_PORT: '0' })));
    expect(code).toBe(2);
    expect(failureLine(stdout).msg).toMatch(
      /Forest failed to start: two plugins are named "dispatch-random": \S*plugins\/dispatch-random and \S*my-random; remove one, or rename it/,
    );
  }, 60_000);

  it('refuses a strategy name another plugin registers', async () => {
    pluginDir('shadow', plugin('shadow-random', '1.0.0', '^1.0.0', 'random'));
    const { code, stdout } = await runToExit(NodeProcess.run([], env({ FOREST_HTTP_PORT: '0' })));
    expect(code).toBe(2);
    expect(failureLine(stdout).msg).toMatch(
      /Forest failed to start: the dispatch-strategy "random" is registered by two plugins, dispatch-random \(\S+\) and shadow-random \(\S*shadow\); names must be unique/,
    );
  }, 60_000);

  it('boots without bad plugins under FOREST_PLUGIN_ON_ERROR=skip and lists them', async () => {
    pluginDir('good', plugin('good-plugin', '1.2.3', '^1.0.0', 'first-worker'));
    pluginDir('old', plugin('old-plugin', '0.3.0', '^0.9.0', 'old-way'));
    const node = await NodeProcess.start(env({ FOREST_PLUGIN_ON_ERROR: 'skip' }), 45_000);
    nodes.push(node);
    const body = (await (await fetch(`${node.baseUrl}/api/plugins`)).json()) as {
      plugins: { name: string; version: string; source: string; provides: unknown[] }[];
      skipped: { location: string; reason: string }[];
    };
    expect(body.plugins.find((p) => p.name === 'good-plugin')).toEqual(
      expect.objectContaining({
        version: '1.2.3',
        source: 'path',
        provides: [{ kind: 'dispatch-strategy', name: 'first-worker' }],
      }),
    );
    expect(body.skipped).toEqual([
      {
        source: 'path',
        location: join(root, 'plugins', 'old'),
        reason: expect.stringContaining('supports plugin API ^0.9.0'),
      },
    ]);
    expect(node.log).toMatch(/plugin skipped \(FOREST_PLUGIN_ON_ERROR=skip\)/);
  }, 60_000);
});
