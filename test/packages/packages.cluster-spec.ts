import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { FOREST_PLUGIN_API_VERSION } from '@forest/plugin-api';
import { getJson, postJson } from '../support/node-api';
import { NodeProcess } from '../support/node-process';
import { waitFor } from '../support/wait';

/**
 * The installable packages, as a user gets them: `npm run build:packages`, `npm pack` of
 * libs/protocol, libs/worker and libs/plugin-api, then a fresh project outside the repository
 * (os.tmpdir()) that installs the tarballs with typescript and the Nest peers (from the npm
 * cache the repository's `npm ci` filled, at the repository's locked versions), compiles a
 * plain-Node worker and a plugin with `tsc`, and runs them: a node (embedded store) loads the
 * compiled plugin from FOREST_PLUGIN_PATHS and dispatches with its strategy to the compiled
 * worker, whose handler runs a triggered job to `succeeded`.
 */

const root = join(__dirname, '..', '..');
const exec = promisify(execFile);
const LIBS = ['protocol', 'worker', 'plugin-api'] as const;
/** What the fresh project installs next to the tarballs, at the repository's locked versions. */
const PEERS = [
  'typescript',
  '@types/node',
  '@nestjs/common',
  '@nestjs/core',
  'reflect-metadata',
  'rxjs',
];

interface PackedFile {
  path: string;
}
interface Packed {
  name: string;
  version: string;
  filename: string;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  version: string;
  main: string;
  types: string;
  exports: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/**
 * The environment for npm in the fresh project: the caller's, without the `npm_*` variables
 * an enclosing `npm test` sets (package and prefix settings of the repository), but with its
 * cache, registry and user config.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
    'npm_config_globalconfig',
  ]);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.toLowerCase().startsWith('npm_') || keep.has(key.toLowerCase()),
    ),
  );
}

async function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs = 120_000,
): Promise<string> {
  try {
    const { stdout } = await exec(command, args, {
      cwd,
      env: npmEnv(),
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${String(error)}\n${stdout ?? ''}\n${stderr ?? ''}`,
      { cause: error },
    );
  }
}

const WORKER_TS = `import { ForestWorker, type ForestJobContext } from '@forest/worker/client';

const worker = new ForestWorker({
  nodes: (process.env.FOREST_NODES ?? 'http://127.0.0.1:2856').split(','),
  group: 'packaged',
  concurrency: 2,
});
worker.register('hello', async (ctx: ForestJobContext<{ name: string }>) => {
  ctx.logger.info('hello, %s', ctx.params.name);
  console.log(JSON.stringify({ ev: 'ran', executionId: ctx.executionId }));
  return { greeted: ctx.params.name };
});
void worker.start().then(() => console.log(JSON.stringify({ ev: 'ready', id: worker.status.workerId })));
process.on('SIGTERM', () => void worker.stop({ timeoutMs: 5_000 }));
`;

const PLUGIN_TS = `import {
  AlertChannel,
  DispatchStrategy,
  ForestPlugin,
  assignTo,
  delivered,
  noWorker,
  type AlertDelivery,
  type DispatchContext,
  type DispatchDecision,
  type ForestAlert,
  type ForestAlertChannel,
  type ForestDispatchStrategy,
} from '@forest/plugin-api';

@DispatchStrategy('first-free')
export class FirstFreeStrategy implements ForestDispatchStrategy {
  select({ workers }: DispatchContext): DispatchDecision {
    const free = workers.find((w) => w.free > 0);
    return free ? assignTo(free) : noWorker('first-free: no worker has a free slot');
  }
}

@AlertChannel('discard')
export class DiscardChannel implements ForestAlertChannel {
  send(alert: ForestAlert): AlertDelivery {
    return delivered(alert.event);
  }
}

@ForestPlugin({
  name: 'packaged-plugin',
  version: '1.2.3',
  compatibility: '^1.0.0',
  description: 'compiled against the packed @forest/plugin-api',
  providers: [FirstFreeStrategy, DiscardChannel],
})
export class PackagedPlugin {}
`;

/** Every entry point of the packages, type-checked under both module resolutions. */
const TYPES_TS = `import { ForestJob, ForestWorkerModule, ForestWorker as NestSideWorker } from '@forest/worker';
import { ForestWorker, ExecutionRevokedError, MAX_REPORT_TEXT_BYTES } from '@forest/worker/client';
import { FOREST_PLUGIN_API_VERSION, PluginSettings } from '@forest/plugin-api';
import { dispatchContext, tally, worker } from '@forest/plugin-api/testing';
import { EXECUTION_STATUSES, type Assignment } from '@forest/protocol';

export const checks: unknown[] = [
  ForestJob,
  ForestWorkerModule.forRoot,
  NestSideWorker === ForestWorker,
  ExecutionRevokedError,
  MAX_REPORT_TEXT_BYTES satisfies number,
  FOREST_PLUGIN_API_VERSION satisfies string,
  PluginSettings,
  tally,
  dispatchContext({ workers: [worker('a')] }),
  EXECUTION_STATUSES,
];
export type Checked = Assignment['trigger'];
`;

/**
 * A user's tsconfig. skipLibCheck is on, as in most projects (and three times faster); the
 * nodenext type check of every entry point turns it off to check the packages' declarations.
 */
function tsconfig(options: Record<string, unknown>, include: string[]): string {
  const compilerOptions = {
    target: 'ES2022',
    strict: true,
    types: ['node'],
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    ...options,
  };
  return `${JSON.stringify({ compilerOptions, include }, null, 2)}\n`;
}

describe('installable packages: @forest/protocol, @forest/worker, @forest/plugin-api', () => {
  let tmp: string;
  let project: string;
  const packed = new Map<string, Packed>();
  const manifests = new Map<string, Manifest>();
  let node: NodeProcess | undefined;
  let worker: ChildProcess | undefined;
  let workerOut = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'forest-packages-'));
    project = join(tmp, 'project');
    await mkdir(join(tmp, 'tarballs'));
    await run('npm', ['run', '--silent', 'build:packages'], root);
    // One npm for the three folders (each npm start costs a second or two).
    const out = await run(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        join(tmp, 'tarballs'),
        ...LIBS.map((lib) => `./libs/${lib}`),
      ],
      root,
    );
    const infos = JSON.parse(out.slice(out.indexOf('['))) as Packed[];
    for (const lib of LIBS) {
      const text = await readFile(join(root, 'libs', lib, 'package.json'), 'utf8');
      const manifest = JSON.parse(text) as Manifest;
      manifests.set(lib, manifest);
      packed.set(
        lib,
        infos.find((info) => info.name === manifest.name)!,
      );
    }
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null && worker.pid) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      process.kill(worker.pid, 'SIGKILL');
      await exited;
    }
    await node?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('packs compiled JavaScript, declarations, README and package.json, and nothing else', () => {
    for (const lib of LIBS) {
      const info = packed.get(lib)!;
      const files = info.files.map((f) => f.path).sort();
      const stray = files.filter(
        (f) =>
          !['package.json', 'README.md'].includes(f) && !/^dist\/[\w./-]+\.(js|d\.ts)$/.test(f),
      );
      expect({ lib, stray }).toEqual({ lib, stray: [] });
      expect(files.filter((f) => /spec|testing\/fake-node|tsbuildinfo/.test(f))).toEqual([]);
      expect(files).toEqual(
        expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']),
      );
    }
    expect(packed.get('worker')!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'dist/client.js',
        'dist/client.d.ts',
        'dist/nest/forest-worker.module.js',
      ]),
    );
    expect(packed.get('plugin-api')!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['dist/testing/index.js', 'dist/testing/index.d.ts']),
    );
  });

  it('requires only its own files, node built-ins and its declared dependencies and peers', async () => {
    const allowed: Record<(typeof LIBS)[number], string[]> = {
      protocol: [],
      worker: ['@forest/protocol', '@nestjs/common', '@nestjs/core'],
      'plugin-api': ['@nestjs/common'],
    };
    for (const lib of LIBS) {
      const dist = join(root, 'libs', lib, 'dist');
      const offending: string[] = [];
      for (const { path } of packed.get(lib)!.files.filter((f) => f.path.endsWith('.js'))) {
        const file = join(root, 'libs', lib, path);
        const code = await readFile(file, 'utf8');
        for (const [, spec] of code.matchAll(/\brequire\("([^"]+)"\)/g)) {
          const ok = spec.startsWith('.')
            ? !relative(dist, join(dirname(file), spec)).startsWith('..')
            : spec.startsWith('node:') || allowed[lib].includes(spec);
          if (!ok) offending.push(`${path}: ${spec}`);
        }
      }
      expect({ lib, offending }).toEqual({ lib, offending: [] });
    }
  });

  it('declares consistent versions and dependencies, none on the repository', () => {
    const protocol = manifests.get('protocol')!;
    const workerPkg = manifests.get('worker')!;
    const pluginApi = manifests.get('plugin-api')!;
    expect([protocol.name, workerPkg.name, pluginApi.name]).toEqual([
      '@forest/protocol',
      '@forest/worker',
      '@forest/plugin-api',
    ]);
    // The package's version is the plugin API version plugins declare compatibility with.
    expect(pluginApi.version).toBe(FOREST_PLUGIN_API_VERSION);
    expect(workerPkg.dependencies).toEqual({ '@forest/protocol': protocol.version });
    expect(Object.keys(workerPkg.exports).sort()).toEqual(['.', './client', './package.json']);
    expect(Object.keys(pluginApi.exports).sort()).toEqual(['.', './package.json', './testing']);
    // The plain client runs without Nest: every peer of the worker SDK is optional.
    for (const peer of Object.keys(workerPkg.peerDependencies ?? {})) {
      expect({ peer, meta: workerPkg.peerDependenciesMeta?.[peer] }).toEqual({
        peer,
        meta: { optional: true },
      });
    }
    expect(pluginApi.peerDependencies).toHaveProperty(['@nestjs/common']);
    for (const pkg of [protocol, workerPkg, pluginApi]) {
      const specs = { ...pkg.dependencies, ...pkg.peerDependencies };
      expect(Object.values(specs).filter((spec) => /^(file|link):|\bsrc\b/.test(spec))).toEqual([]);
    }
  });

  it('installs into a fresh project outside the repository, where a worker and a plugin compile', async () => {
    expect(relative(root, project).startsWith('..')).toBe(true);
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'forest-packages-check', version: '1.0.0', private: true }, null, 2)}\n`,
    );
    const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const peers = PEERS.map((name) => `${name}@${lock.packages[`node_modules/${name}`].version}`);
    const tarballs = LIBS.map((lib) => join(tmp, 'tarballs', packed.get(lib)!.filename));
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--save-exact',
        ...tarballs,
        ...peers,
      ],
      project,
    );

    await mkdir(join(project, 'worker-src'));
    await mkdir(join(project, 'plugin-src'));
    // The plugin's folder as plugins/README.md describes it: package.json "main" → dist.
    await mkdir(join(project, 'plugins', 'packaged-plugin'), { recursive: true });
    await writeFile(
      join(project, 'plugins', 'packaged-plugin', 'package.json'),
      `${JSON.stringify({ name: 'packaged-plugin', version: '1.2.3', main: 'dist/index.js' })}\n`,
    );
    await writeFile(join(project, 'worker-src', 'main.ts'), WORKER_TS);
    await writeFile(join(project, 'plugin-src', 'index.ts'), PLUGIN_TS);
    await writeFile(join(project, 'types.ts'), TYPES_TS);
    // The worker with classic CommonJS settings (node10 resolution: "typesVersions" serve the
    // subpaths); the plugin with Node's own resolution (package.json "exports").
    await writeFile(
      join(project, 'tsconfig.worker.json'),
      tsconfig({ module: 'commonjs', rootDir: 'worker-src', outDir: 'out/worker' }, [
        'worker-src/*.ts',
      ]),
    );
    await writeFile(
      join(project, 'tsconfig.plugin.json'),
      tsconfig(
        {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          rootDir: 'plugin-src',
          outDir: 'plugins/packaged-plugin/dist',
        },
        ['plugin-src/*.ts'],
      ),
    );
    await writeFile(
      join(project, 'tsconfig.types-node10.json'),
      tsconfig({ module: 'commonjs', noEmit: true }, ['types.ts']),
    );
    await writeFile(
      join(project, 'tsconfig.types-nodenext.json'),
      tsconfig(
        { module: 'nodenext', moduleResolution: 'nodenext', noEmit: true, skipLibCheck: false },
        ['types.ts'],
      ),
    );
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    await Promise.all(
      ['worker', 'plugin', 'types-node10', 'types-nodenext'].map((name) =>
        run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project),
      ),
    );

    // At run time: the entry points resolve through "exports", and the plain client loads
    // no Nest at all.
    const probe = await run(
      process.execPath,
      [
        '-e',
        `require('@forest/worker/client');
         const nest = Object.keys(require.cache).filter((f) => f.includes('@nestjs')).length;
         require('@forest/worker'); require('@forest/plugin-api'); require('@forest/plugin-api/testing');
         console.log(JSON.stringify({ nest, protocol: require.resolve('@forest/protocol') }));`,
      ],
      project,
    );
    expect(JSON.parse(probe)).toEqual({
      nest: 0,
      protocol: join(project, 'node_modules', '@forest', 'protocol', 'dist', 'index.js'),
    });
  }, 120_000);

  it('a node loads the compiled plugin and runs a job on the compiled worker with its strategy', async () => {
    node = await NodeProcess.start({
      FOREST_DATA_DIR: join(tmp, 'data'),
      FOREST_PLUGIN_PATHS: join(project, 'plugins'),
      FOREST_LOG_LEVEL: 'warn',
    });
    const { plugins, skipped } = await getJson<{ plugins: unknown[]; skipped: unknown[] }>(
      node,
      '/api/plugins',
    );
    expect(plugins).toContainEqual({
      name: 'packaged-plugin',
      version: '1.2.3',
      compatibility: '^1.0.0',
      description: 'compiled against the packed @forest/plugin-api',
      source: 'path',
      location: join(project, 'plugins', 'packaged-plugin'),
      provides: [
        { kind: 'alert-channel', name: 'discard' },
        { kind: 'dispatch-strategy', name: 'first-free' },
      ],
    });
    expect(skipped).toEqual([]);

    await postJson(node, '/api/groups', { name: 'packaged' });
    await postJson(node, '/api/jobs', {
      id: 'packaged-hello',
      name: 'hello from the packages',
      group: 'packaged',
      target: 'hello',
      // Never fires during the test: it only runs when triggered.
      schedule: { cron: '0 0 0 1 1 *', timezone: 'UTC' },
      params: { name: 'tarball' },
      dispatch: { strategy: 'first-free' },
      alerts: { channels: ['discard'], events: ['failed'] },
    });

    const child = spawn(process.execPath, [join(project, 'out', 'worker', 'main.js')], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', FOREST_NODES: node.baseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = child;
    child.stdout.on('data', (chunk: Buffer) => (workerOut += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (workerOut += chunk.toString()));
    await waitFor(
      () => Promise.resolve(workerOut),
      (out) => out.includes('"ev":"ready"') || child.exitCode !== null,
      20_000,
    );
    expect(workerOut).toContain('"ev":"ready"');

    const { id } = await postJson<{ id: string }>(node, '/api/jobs/packaged-hello/trigger', {});
    const execution = await waitFor(
      () =>
        getJson<{ status: string; worker?: string; output?: string }>(
          node!,
          `/api/executions/${encodeURIComponent(id)}`,
        ),
      (record) => !['pending', 'assigned', 'running'].includes(record.status),
      20_000,
    );
    expect(execution).toMatchObject({ status: 'succeeded' });
    expect(execution.output).toContain('INFO hello, tarball');
    expect(execution.output).toContain('{"greeted":"tarball"}');
    expect(workerOut).toContain(JSON.stringify({ ev: 'ran', executionId: id }));

    // A graceful stop: the worker leaves the group, and with nothing left open the process
    // ends by itself (exit 0).
    const exited = new Promise<number | string | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      setTimeout(() => resolve('still running 10 s after SIGTERM'), 10_000).unref();
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
