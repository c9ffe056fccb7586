import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { CONSOLE_DIR } from '../../src/http/console-static';

/**
 * The build layout, checked from the build configs (no build needed): `npm start` runs
 * `nest build`, which empties the node's outDir (deleteOutDir). The example worker's output
 * must live outside it, or `npm start` deletes the worker's build and its documented
 * `node …/main.js` command fails with MODULE_NOT_FOUND.
 */
const root = join(__dirname, '..', '..');

interface NestProject {
  root: string;
  compilerOptions?: { tsConfigPath?: string; deleteOutDir?: boolean };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

/** The outDir a tsconfig compiles to (following `extends`), as an absolute path. */
function outDir(tsconfigPath: string): string {
  const file = resolve(root, tsconfigPath);
  const config = JSON.parse(readFileSync(file, 'utf8')) as {
    extends?: string;
    compilerOptions?: { outDir?: string };
  };
  if (config.compilerOptions?.outDir) return resolve(dirname(file), config.compilerOptions.outDir);
  if (!config.extends) throw new Error(`${tsconfigPath} has no outDir`);
  return outDir(relative(root, resolve(dirname(file), config.extends)));
}

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

describe('build layout', () => {
  const nest = readJson<{
    compilerOptions: { tsConfigPath: string; deleteOutDir?: boolean };
    projects: Record<string, NestProject>;
  }>('nest-cli.json');
  const scripts = readJson<{ scripts: Record<string, string> }>('package.json').scripts;
  const nodeOut = outDir(
    nest.projects.forest.compilerOptions?.tsConfigPath ?? nest.compilerOptions.tsConfigPath,
  );
  const workerOut = outDir(nest.projects['example-worker'].compilerOptions!.tsConfigPath!);

  it('npm start builds the node and runs it from its outDir', () => {
    expect(scripts.start).toBe('npm run build && node dist/src/main.js');
    expect(inside(nodeOut, join(root, 'dist/src/main.js'))).toBe(true);
  });

  it('npm run build builds the web console after the node, into dist/console', () => {
    // nest build empties dist/ first: the console is built after it, or it is deleted.
    expect(scripts.build).toBe('nest build && npm run build:console');
    const vite = readFileSync(join(root, 'console/vite.config.mts'), 'utf8');
    expect(vite).toContain("outDir: '../dist/console'");
    expect(resolve(root, 'console', '../dist/console')).toBe(CONSOLE_DIR);
    expect(inside(nodeOut, CONSOLE_DIR)).toBe(true);
  });

  it("the example worker's output is outside the node's (which nest build empties)", () => {
    expect(inside(nodeOut, workerOut)).toBe(false);
    expect(inside(workerOut, nodeOut)).toBe(false);
  });

  it('npm run example:worker runs the entry file its own build writes', () => {
    const match = /^nest build example-worker && node (\S+)$/.exec(scripts['example:worker']);
    expect(match).not.toBeNull();
    const entry = resolve(root, match![1]);
    expect(entry).toBe(join(workerOut, 'examples/worker/main.js'));
  });

  it('build outputs are not committed', () => {
    const ignored = readFileSync(join(root, '.gitignore'), 'utf8').split('\n');
    // "dist/" matches a dist folder at any depth: the node's and examples/worker/dist.
    expect(ignored).toContain('dist/');
    expect(existsSync(join(root, 'examples/worker/tsconfig.app.json'))).toBe(true);
    expect(relative(root, workerOut).split('/')).toContain('dist');
  });
});
