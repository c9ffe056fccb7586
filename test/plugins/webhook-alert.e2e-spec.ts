import { createHmac, randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, TestApp } from '../support/app-harness';
import { waitFor } from '../support/wait';
import { WorkerFleet } from '../support/worker-fleet';
import { injectJson, Json } from '../support/http-inject';

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const GROUP = 'alerting';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: Json;
  /** The HTTP status the receiver answered with. */
  answered: number;
}

/**
 * A webhook receiver on 127.0.0.1: records every request (raw body included) and answers
 * with the next status of `statuses`, or 200 when none is queued.
 */
class Receiver {
  readonly requests: Received[] = [];
  readonly statuses: number[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const answered = this.statuses.shift() ?? 200;
      let body: Json = {};
      try {
        body = JSON.parse(rawBody) as Json;
      } catch {
        // kept as {}; the test checks the raw body too
      }
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawBody,
        body,
        answered,
      });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'no');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Requests about this job's alerts. */
  of(jobId: string): Received[] {
    return this.requests.filter((r) => r.body.job?.id === jobId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** One app listening on a real port, with a group and one in-process worker whose handlers throw. */
interface Node {
  subject: TestApp;
  fleet: WorkerFleet;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const subject = await startTestApp({ store: 'embedded', env });
  await subject.app.listen(0, '127.0.0.1');
  const { port } = subject.app.getHttpServer().address() as AddressInfo;
  const group = await subject.app.inject({
    method: 'POST',
    url: '/api/groups',
    payload: { name: GROUP },
  });
  expect(group.statusCode).toBe(201);
  const fleet = new WorkerFleet(`http://127.0.0.1:${port}`, GROUP, {
    boom: () => {
      throw new Error('boom');
    },
  });
  await fleet.add({ name: 'w-alert', concurrency: 8 });
  return { subject, fleet };
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node) return;
  await node.fleet.stopAll();
  await node.subject.close();
}

function call(node: Node, method: string, url: string, payload?: unknown) {
  return injectJson(node.subject.app, method, url, payload);
}

async function createJob(node: Node, id: string, events: string[]): Promise<void> {
  const response = await call(node, 'POST', '/api/jobs', {
    id,
    name: `job ${id}`,
    group: GROUP,
    schedule: { cron: NEVER },
    target: 'boom',
    state: 'paused',
    alerts: { channels: ['webhook'], events },
  });
  expect(response).toMatchObject({ statusCode: 201 });
}

async function trigger(node: Node, jobId: string): Promise<string> {
  const response = await call(node, 'POST', `/api/jobs/${jobId}/trigger`);
  expect(response.statusCode).toBe(201);
  return response.body.id as string;
}

/** GET /api/alerts: recent alerts with their deliveries, newest first. */
async function alerts(node: Node): Promise<Json[]> {
  const response = await call(node, 'GET', '/api/alerts?limit=500');
  expect(response.statusCode).toBe(200);
  return response.body.items as Json[];
}

function signatureOf(secret: string, timestamp: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

function webhookEnv(url: string, secret: string): Record<string, string> {
  return {
    FOREST_WEBHOOK_URL: url,
    FOREST_WEBHOOK_SECRET: secret,
    FOREST_WEBHOOK_HEADERS: JSON.stringify({ Authorization: 'Bearer t0k' }),
    FOREST_WEBHOOK_RETRIES: '2',
    FOREST_WEBHOOK_BACKOFF_MS: '50',
  };
}

describe('webhook alert channel', () => {
  const receiver = new Receiver();
  const secret = randomBytes(24).toString('hex');
  let url: string;

  beforeAll(async () => {
    url = await receiver.start();
  });

  afterAll(async () => {
    await receiver.stop();
  });

  describe('delivery (default repeat window)', () => {
    let node: Node;

    beforeAll(async () => {
      node = await startNode(webhookEnv(url, secret));
    }, 20_000);

    afterAll(async () => {
      await stopNode(node);
    });

    it('POSTs a failed execution as a signed JSON alert', async () => {
      await createJob(node, 'sig-job', ['failed']);
      const executionId = await trigger(node, 'sig-job');
      const [request] = await waitFor(
        () => Promise.resolve(receiver.of('sig-job')),
        (list) => list.length > 0,
      );
      expect(request).toBeDefined();
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/hook');

      const alert = request.body;
      expect(alert).toMatchObject({
        id: expect.any(String),
        event: 'failed',
        severity: 'critical',
        node: 'test-node',
        job: { id: 'sig-job', name: 'job sig-job', group: GROUP },
        execution: {
          id: executionId,
          status: 'failed',
          attempt: 1,
          worker: node.fleet.workers[0].id,
          error: expect.stringContaining('boom'),
        },
      });
      expect(alert.message).toContain(executionId);
      expect(alert.message).toContain('boom');
      expect(Math.abs(Date.parse(alert.at as string) - Date.now())).toBeLessThan(60_000);

      const headers = request.headers;
      expect(headers['content-type']).toMatch(/^application\/json/);
      expect(headers['x-forest-event']).toBe('failed');
      expect(headers['x-forest-alert-id']).toBe(alert.id);
      expect(headers['authorization']).toBe('Bearer t0k');

      // The signature covers "<timestamp>.<raw body>" under the shared secret.
      const timestamp = headers['x-forest-timestamp'] as string;
      expect(timestamp).toMatch(/^\d+$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      const signature = headers['x-forest-signature-256'];
      expect(signature).toBe(signatureOf(secret, timestamp, request.rawBody));
      expect(signature).not.toBe(signatureOf(`${secret}x`, timestamp, request.rawBody));
      expect(signature).not.toBe(
        signatureOf(secret, String(Number(timestamp) + 1), request.rawBody),
      );
    });

    it('retries a 500 and delivers the same alert on the next attempt', async () => {
      await createJob(node, 'retry-job', ['failed']);
      receiver.statuses.push(500);
      await trigger(node, 'retry-job');
      const record = await waitFor(
        async () => (await alerts(node)).find((a) => a.alert.job?.id === 'retry-job'),
        (found) => found?.deliveries.some((d: Json) => d.channel === 'webhook') === true,
      );
      expect(record?.deliveries).toContainEqual({
        channel: 'webhook',
        delivery: expect.objectContaining({ status: 'delivered' }),
      });
      const requests = receiver.of('retry-job');
      expect(requests.map((r) => r.answered)).toEqual([500, 200]);
      expect(requests.map((r) => r.headers['x-forest-alert-id'])).toEqual([
        record!.alert.id,
        record!.alert.id,
      ]);
      expect(requests.map((r) => r.body.id)).toEqual([record!.alert.id, record!.alert.id]);
    });

    it('does not send to the webhook an event the job did not select', async () => {
      await createJob(node, 'quiet-job', ['lost']);
      await createJob(node, 'control-job', ['failed']);
      const quietExecution = await trigger(node, 'quiet-job');
      await waitFor(
        async () => (await alerts(node)).find((a) => a.alert.execution?.id === quietExecution),
        (found) => found?.deliveries.length === 1,
      );
      // A later alert for the webhook: once it is in, an earlier one would be too.
      await trigger(node, 'control-job');
      await waitFor(
        () => Promise.resolve(receiver.of('control-job')),
        (list) => list.length > 0,
      );
      expect(receiver.of('control-job')).toHaveLength(1);
      const quiet = (await alerts(node)).find((a) => a.alert.execution?.id === quietExecution);
      expect(quiet?.alert).toMatchObject({ event: 'failed', job: { id: 'quiet-job' } });
      // Only the default channel (log) got it.
      expect(quiet?.deliveries).toEqual([
        { channel: 'log', delivery: expect.objectContaining({ status: 'delivered' }) },
      ]);
      expect(receiver.of('quiet-job')).toEqual([]);
    });
  });

  describe('repeats (short repeat window)', () => {
    const windowS = 2;
    let node: Node;

    beforeAll(async () => {
      node = await startNode({
        ...webhookEnv(url, secret),
        FOREST_ALERT_REPEAT_WINDOW_S: String(windowS),
      });
    }, 20_000);

    afterAll(async () => {
      await stopNode(node);
    });

    it('sends the first failure at once and the repeats as one summary', async () => {
      await createJob(node, 'burst-job', ['failed']);
      const triggers = 5;
      const startedMs = Date.now();
      for (let i = 0; i < triggers; i++) await trigger(node, 'burst-job');
      const failed = await waitFor(
        async () =>
          (
            (await call(node, 'GET', '/api/executions?jobId=burst-job')).body.items as Json[]
          ).filter((e) => e.status === 'failed'),
        (list) => list.length === triggers,
      );
      expect(failed).toHaveLength(triggers);
      // All failed inside the first window, so all but the first are repeats.
      expect(Date.now() - startedMs).toBeLessThan(windowS * 1000);

      const requests = await waitFor(
        () => Promise.resolve(receiver.of('burst-job')),
        (list) => list.length >= 2,
        windowS * 1000 + 5000,
      );
      expect(requests).toHaveLength(2);
      const [first, summary] = requests.map((r) => r.body);
      expect(first).toMatchObject({ event: 'failed', job: { id: 'burst-job' } });
      expect(first.suppressed).toBeUndefined();
      expect(summary).toMatchObject({
        event: 'failed',
        job: { id: 'burst-job' },
        suppressed: { count: triggers - 1, since: expect.any(String) },
      });
      expect(summary.message).toContain(`${triggers - 1} more failed alert(s) for job burst-job`);
      expect(summary.id).not.toBe(first.id);
      // The summary came once the window was over, not with the first alert.
      expect(
        Date.parse(summary.at as string) - Date.parse(first.at as string),
      ).toBeGreaterThanOrEqual(windowS * 1000 - 100);
      // Signed like any other alert.
      expect(requests[1].headers['x-forest-signature-256']).toBe(
        signatureOf(
          secret,
          requests[1].headers['x-forest-timestamp'] as string,
          requests[1].rawBody,
        ),
      );
    });
  });
});
