import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForestWorker } from '@forest/worker';
import { startTestApp, TestApp } from '../support/app-harness';
import { eventually, sleep } from '../support/wait';
import { injectJson, Json } from '../support/http-inject';

/**
 * A misbehaving plugin at run time: strategies and channels that throw or never answer.
 * They are cut off by the plugin timeouts, their executions wait in pending/, their
 * deliveries fail with the plugin named — and everything else keeps firing and running.
 */
const MISBEHAVING_PLUGIN = `
const { AlertChannel, DispatchStrategy, ForestPlugin } = require('@forest/plugin-api');

class ThrowingStrategy { select() { throw new Error('strategy exploded'); } }
DispatchStrategy('throws')(ThrowingStrategy);

class HangingStrategy { select() { return new Promise(() => {}); } }
DispatchStrategy('hangs')(HangingStrategy);

class ThrowingChannel { send() { throw new Error('channel exploded'); } }
AlertChannel('throws')(ThrowingChannel);

class HangingChannel { send() { return new Promise(() => {}); } }
AlertChannel('hangs')(HangingChannel);

class MisbehavingPlugin {}
ForestPlugin({
  name: 'misbehaving',
  version: '1.0.0',
  compatibility: '^1.0.0',
  providers: [ThrowingStrategy, HangingStrategy, ThrowingChannel, HangingChannel],
})(MisbehavingPlugin);

module.exports = { MisbehavingPlugin };
`;

const NEVER = '0 0 1 1 *';

describe('misbehaving plugins at run time', () => {
  let dir: string;
  let subject: TestApp;
  let worker: ForestWorker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forest-misbehaving-'));
    mkdirSync(join(dir, 'misbehaving'));
    writeFileSync(join(dir, 'misbehaving', 'index.js'), MISBEHAVING_PLUGIN);
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_PLUGIN_PATHS: dir,
        FOREST_PLUGIN_TIMEOUT_MS: '200',
        FOREST_ALERT_TIMEOUT_MS: '300',
        FOREST_ALERT_DEFAULT_CHANNELS: 'log',
        FOREST_LEASE_TTL_S: '2',
      },
    });
    await subject.app.listen(0, '127.0.0.1');
    const { port } = subject.app.getHttpServer().address() as AddressInfo;
    expect((await call('POST', '/api/groups', { name: 'g' })).statusCode).toBe(201);
    worker = new ForestWorker({
      nodes: [`http://127.0.0.1:${port}`],
      group: 'g',
      concurrency: 8,
      pollWaitMs: 1000,
      handlers: {
        ok: () => 'fine',
        fail: () => {
          throw new Error('handler failed');
        },
      },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop({ timeoutMs: 1000 });
    await subject?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function call(method: string, url: string, payload?: unknown) {
    return injectJson(subject.app, method, url, payload);
  }

  async function job(id: string, fields: Json): Promise<void> {
    const response = await call('POST', '/api/jobs', {
      id,
      name: id,
      group: 'g',
      schedule: { cron: NEVER },
      target: 'ok',
      state: 'paused',
      ...fields,
    });
    expect(response.statusCode).toBe(201);
  }

  async function trigger(jobId: string): Promise<string> {
    const response = await call('POST', `/api/jobs/${jobId}/trigger`, {});
    expect(response.statusCode).toBe(201);
    return response.body.id as string;
  }

  async function status(executionId: string): Promise<string> {
    return (await call('GET', `/api/executions/${executionId}`)).body.status as string;
  }

  it('keeps executions of a throwing or hanging strategy pending while others run', async () => {
    await job('j-throws', { dispatch: { strategy: 'throws', options: {} } });
    await job('j-hangs', { dispatch: { strategy: 'hangs', options: {} } });
    await job('j-ok', {});
    // A job firing every second: the planner must not stall either.
    await job('j-tick', { schedule: { cron: '* * * * * *' }, state: 'active' });
    const stuck: string[] = [];
    for (let i = 0; i < 3; i++) stuck.push(await trigger('j-throws'), await trigger('j-hangs'));
    const fine: string[] = [];
    for (let i = 0; i < 5; i++) fine.push(await trigger('j-ok'));
    await eventually(async () => {
      for (const id of fine) expect(await status(id)).toBe('succeeded');
    }, 10_000);
    await eventually(async () => {
      const ticks = await call('GET', '/api/executions?jobId=j-tick&status=succeeded');
      expect(ticks.body.items.length).toBeGreaterThanOrEqual(2);
    }, 10_000);
    // Offered again and again (each offer of a hanging one waits out the timeout): still pending.
    await sleep(600);
    for (const id of stuck) expect(await status(id)).toBe('pending');
    // A well-behaved trigger after all that still goes through at once.
    const late = await trigger('j-ok');
    await eventually(async () => expect(await status(late)).toBe('succeeded'), 5000);
  }, 30_000);

  it('contains a throwing and a hanging alert channel; the others still deliver', async () => {
    await job('j-fail', {
      target: 'fail',
      alerts: { channels: ['throws', 'hangs'], events: ['failed'] },
    });
    const id = await trigger('j-fail');
    await eventually(async () => expect(await status(id)).toBe('failed'), 10_000);
    await eventually(async () => {
      const alerts = (await call('GET', '/api/alerts?limit=500')).body.items as Json[];
      const alert = alerts.find((a) => a.alert.execution?.id === id);
      expect(alert).toBeDefined();
      const byChannel = Object.fromEntries(
        (alert!.deliveries as Json[]).map((d) => [d.channel, d.delivery]),
      );
      expect(byChannel).toEqual({
        log: { status: 'delivered' },
        throws: {
          status: 'failed',
          error: 'alert channel "throws" of plugin misbehaving failed: channel exploded',
        },
        hangs: {
          status: 'failed',
          error: 'alert channel "hangs" of plugin misbehaving did not answer within 300ms',
        },
      });
    }, 5000);
    // The node is still healthy and answering.
    expect((await call('GET', '/api/plugins')).statusCode).toBe(200);
  }, 20_000);
});
