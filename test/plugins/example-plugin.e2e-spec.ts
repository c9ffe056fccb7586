import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForestWorker } from '@forest/worker';
import { startTestApp, TestApp } from '../support/app-harness';
import { eventually, waitFor } from '../support/wait';
import { injectJson, Json } from '../support/http-inject';

const EXAMPLE_DIR = join(__dirname, '..', '..', 'examples', 'plugin');
const PLUGIN = 'forest-plugin-example';
/** Never fires on its own (1 January, 00:00): only the manual triggers below run the jobs. */
const NEVER = '0 0 1 1 *';

/**
 * The example plugin of plugins/README.md, loaded as an operator would load it: copied to a
 * folder outside the repository, named in FOREST_PLUGIN_PATHS, and used by jobs run on real
 * (in-process) workers over HTTP.
 */
describe('the example plugin (examples/plugin) in a node', () => {
  let root: string;
  let alertFile: string;
  let subject: TestApp;
  let url: string;
  const workers: ForestWorker[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'forest-plugin-'));
    const pluginDir = join(root, PLUGIN);
    mkdirSync(pluginDir);
    // What the plugin needs to load: package.json (main: index.ts) and its sources; not
    // its unit tests, build configs or a dist/ from a local build.
    for (const file of readdirSync(EXAMPLE_DIR)) {
      if (file === 'package.json' || (file.endsWith('.ts') && !file.endsWith('.spec.ts'))) {
        copyFileSync(join(EXAMPLE_DIR, file), join(pluginDir, file));
      }
    }
    alertFile = join(root, 'alerts.jsonl');
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_PLUGIN_PATHS: root,
        FOREST_ALERT_FILE: alertFile,
        FOREST_ALERT_DEFAULT_CHANNELS: 'jsonl-file',
        FOREST_ALERT_NO_WORKER_MS: '1000',
      },
    });
    await subject.app.listen(0, '127.0.0.1');
    const { port } = subject.app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    // Workers first, while the node is up to hear their goodbye.
    await Promise.allSettled(
      workers.map((w) => w.stop({ timeoutMs: 1000, abortGraceMs: 100, flushTimeoutMs: 2000 })),
    );
    // The workers' fetch (undici, in this process) leaves sockets connected that never
    // carried a request; the HTTP server does not count them as idle, and its close() would
    // wait over a minute for them to time out. Nothing uses them any more.
    subject?.app.getHttpServer().closeAllConnections();
    await subject?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function call(method: string, url: string, payload?: unknown) {
    return injectJson(subject.app, method, url, payload);
  }

  async function createGroup(name: string): Promise<void> {
    expect((await call('POST', '/api/groups', { name })).statusCode).toBe(201);
  }

  /** A paused job that only runs when triggered. */
  function job(id: string, group: string, target: string, extra: Json = {}): Json {
    return { id, name: id, group, target, schedule: { cron: NEVER }, state: 'paused', ...extra };
  }

  async function createJob(body: Json): Promise<void> {
    const response = await call('POST', '/api/jobs', body);
    expect(response).toMatchObject({ statusCode: 201 });
  }

  async function startWorker(
    group: string,
    labels: Record<string, string>,
    handlers: ConstructorParameters<typeof ForestWorker>[0]['handlers'],
  ): Promise<ForestWorker> {
    const worker = new ForestWorker({
      nodes: [url],
      group,
      handlers,
      concurrency: 50, // more than the executions in flight: never full, so shares stay exact
      labels,
      pollWaitMs: 500,
      logger: false,
      retry: { initialMs: 50, maxMs: 500 },
    });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  /** Every execution of the job, once `done` accepts the list (or the wait runs out). */
  async function executionsOf(jobId: string, done: (items: Json[]) => boolean): Promise<Json[]> {
    return waitFor(
      async () =>
        (await call('GET', `/api/executions?jobId=${jobId}&order=asc&limit=500`)).body.items,
      done,
      20_000,
    );
  }

  function alertLines(): Json[] {
    if (!existsSync(alertFile)) return [];
    return readFileSync(alertFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Json);
  }

  it('is loaded from FOREST_PLUGIN_PATHS with its strategy and channel', async () => {
    const { statusCode, body } = await call('GET', '/api/plugins');
    expect(statusCode).toBe(200);
    expect(body.plugins).toContainEqual({
      name: PLUGIN,
      version: '1.0.0',
      compatibility: '^1.0.0',
      description: expect.stringContaining('weighted'),
      source: 'path',
      location: join(root, PLUGIN),
      provides: [
        { kind: 'alert-channel', name: 'jsonl-file' },
        { kind: 'dispatch-strategy', name: 'weighted' },
      ],
    });
    expect(body.skipped).toEqual([]);
  });

  it('checks jobs against the loaded strategies, their options and the channels', async () => {
    await createGroup('checks');
    await createJob(
      job('weighted-ok', 'checks', 't', {
        dispatch: { strategy: 'weighted', options: { label: 'weight' } },
        alerts: { channels: ['jsonl-file'], events: ['failed'] },
      }),
    );

    const badOption = await call(
      'POST',
      '/api/jobs',
      job('bad-option', 'checks', 't', {
        dispatch: { strategy: 'weighted', options: { label: 7 } },
      }),
    );
    expect(badOption.statusCode).toBe(400);
    expect(badOption.body.code).toBe('INVALID_DISPATCH_OPTIONS');
    expect(badOption.body.message).toContain('dispatch.options.label must be a non-empty string');

    const unknownStrategy = await call(
      'POST',
      '/api/jobs',
      job('bad-strategy', 'checks', 't', { dispatch: { strategy: 'heaviest' } }),
    );
    expect(unknownStrategy.statusCode).toBe(400);
    expect(unknownStrategy.body.code).toBe('UNKNOWN_DISPATCH_STRATEGY');
    expect(unknownStrategy.body.message).toMatch(/"heaviest".*available: .*\bweighted\b/);

    const unknownChannel = await call(
      'POST',
      '/api/jobs',
      job('bad-channel', 'checks', 't', { alerts: { channels: ['jsonl'], events: ['failed'] } }),
    );
    expect(unknownChannel.statusCode).toBe(400);
    expect(unknownChannel.body.code).toBe('UNKNOWN_ALERT_CHANNEL');
    expect(unknownChannel.body.message).toMatch(/"jsonl".*available: .*\bjsonl-file\b/);
  });

  it('dispatches in proportion to the weight labels and alerts through jsonl-file', async () => {
    await createGroup('weighted');
    const handlers = {
      t: () => 'ok',
      boom: () => {
        throw new Error('boom from the example test');
      },
    };
    const heavy = await startWorker('weighted', { weight: '3' }, handlers);
    const light = await startWorker('weighted', { weight: '1' }, handlers);
    // The leader offers only workers it has seen register; both must be there first.
    await eventually(async () => {
      const listed = (await call('GET', '/api/workers?group=weighted')).body.items as Json[];
      expect(listed.map((w) => w.id).sort()).toEqual(
        [heavy.status.workerId, light.status.workerId].sort(),
      );
    }, 10_000);

    await createJob(
      job('spread', 'weighted', 't', {
        dispatch: { strategy: 'weighted', options: { label: 'weight' } },
      }),
    );
    for (let i = 0; i < 40; i++) {
      expect((await call('POST', '/api/jobs/spread/trigger')).statusCode).toBe(201);
    }
    const runs = await executionsOf(
      'spread',
      (items) => items.filter((e) => e.status === 'succeeded').length === 40,
    );
    expect(runs.map((e) => e.status)).toEqual(Array(40).fill('succeeded'));

    const listed = (await call('GET', '/api/workers?group=weighted')).body.items as Json[];
    const weightOf = new Map(listed.map((w) => [w.id as string, w.labels.weight as string]));
    const byWeight: Record<string, number> = {};
    for (const run of runs) {
      const weight = weightOf.get(run.worker) ?? `unknown worker ${run.worker}`;
      byWeight[weight] = (byWeight[weight] ?? 0) + 1;
    }
    // Smooth weighted round-robin is exact (3 of every 4); one step of slack for a
    // placement the host decides again (a dispatch txn that lost a race).
    expect(Object.keys(byWeight).sort()).toEqual(['1', '3']);
    expect(byWeight['3']).toBeGreaterThanOrEqual(29);
    expect(byWeight['3']).toBeLessThanOrEqual(31);
    expect(byWeight['3'] + byWeight['1']).toBe(40);

    // A failing job whose alerts go to the plugin's channel.
    await createJob(
      job('explodes', 'weighted', 'boom', {
        dispatch: { strategy: 'weighted' },
        alerts: { channels: ['jsonl-file'], events: ['failed'] },
      }),
    );
    expect((await call('POST', '/api/jobs/explodes/trigger')).statusCode).toBe(201);
    const lines = await waitFor(
      () => Promise.resolve(alertLines()),
      (all) => all.some((a) => a.event === 'failed' && a.job?.id === 'explodes'),
    );
    const failed = lines.find((a) => a.event === 'failed' && a.job?.id === 'explodes');
    expect(failed).toMatchObject({
      severity: 'critical',
      node: 'test-node',
      job: { id: 'explodes', name: 'explodes', group: 'weighted' },
      execution: { status: 'failed', error: expect.stringContaining('boom from the example test') },
    });
    // The node records the outcome once send() returns, just after the line is written.
    await eventually(async () => {
      const recent = (await call('GET', '/api/alerts?limit=500')).body.items as Json[];
      expect(recent.find((r) => r.alert.id === failed!.id)).toMatchObject({
        deliveries: [
          { channel: 'jsonl-file', delivery: { status: 'delivered', detail: alertFile } },
        ],
      });
    }, 5_000);
  });

  it("passes the strategy's reason for not dispatching on to the no_worker alert", async () => {
    // A worker labelled weight=0 is drained: `weighted` declines, saying why, and after
    // FOREST_ALERT_NO_WORKER_MS the leader raises no_worker, which reaches the default
    // channels (jsonl-file here) whatever the job's own alert settings.
    await createGroup('drained');
    await startWorker('drained', { weight: '0' }, { t: () => 'never runs' });
    await createJob(job('waits', 'drained', 't', { dispatch: { strategy: 'weighted' } }));
    expect((await call('POST', '/api/jobs/waits/trigger')).statusCode).toBe(201);
    const lines = await waitFor(
      () => Promise.resolve(alertLines()),
      (all) => all.some((a) => a.event === 'no_worker' && a.job?.id === 'waits'),
      15_000,
    );
    expect(lines.find((a) => a.event === 'no_worker' && a.job?.id === 'waits')).toMatchObject({
      severity: 'warning',
      message: expect.stringContaining('all 1 workers with a free slot have weight=0'),
    });
    const [waiting] = await executionsOf('waits', (items) => items.length === 1);
    expect(waiting).toMatchObject({ status: 'pending' });
  });
});
