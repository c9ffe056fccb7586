import { createHmac } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ALERT_CHANNEL_METADATA,
  ForestAlert,
  getForestPluginInfo,
  PluginSettings,
} from '@forest/plugin-api';
import { WebhookAlertPlugin } from './index';
import { SlackChannel } from './slack.channel';
import { WebhookChannel } from './webhook.channel';
import { buildWebhookRequest, signWebhookBody, verifyWebhookSignature } from './webhook.format';

/** PluginSettings over a map, as the host's are over the environment. */
class MapSettings extends PluginSettings {
  constructor(private readonly values: Record<string, string>) {
    super();
  }

  get(name: string): string | undefined {
    return this.values[name];
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** One answer of the test server; 'hang' never answers. */
type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

const servers: Server[] = [];

/** A receiver on 127.0.0.1 that answers request n (0-based) with `answer(n)`. */
async function receiver(answer: (n: number) => Answer = () => ({ status: 204 })) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = answer(received.length - 1);
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers).end(a.body ?? '');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const SECRET = 'test-secret';

const ALERT: ForestAlert = {
  id: '8c1a7e0e-1111-4a4a-9999-000000000001',
  event: 'failed',
  severity: 'critical',
  at: '2025-01-01T00:00:00.000Z',
  node: 'node-1',
  message: 'execution nightly~42 of job nightly-report failed on worker w-1: boom',
  job: { id: 'nightly', name: 'nightly-report', group: 'reports' },
  execution: {
    id: 'nightly~42',
    status: 'failed',
    attempt: 1,
    scheduledAt: '2025-01-01T00:00:00.000Z',
    worker: 'w-1',
    error: 'boom',
  },
};

function channel(values: Record<string, string>): WebhookChannel {
  // Small timings: these tests run against a local server.
  return new WebhookChannel(
    new MapSettings({
      FOREST_WEBHOOK_TIMEOUT_MS: '1000',
      FOREST_WEBHOOK_BACKOFF_MS: '10',
      ...values,
    }),
  );
}

const live = () => ({ signal: new AbortController().signal });

describe('WebhookChannel', () => {
  it('is the channel "webhook" of plugin alert-webhook, next to "slack"', () => {
    expect(Reflect.getMetadata(ALERT_CHANNEL_METADATA, WebhookChannel)).toBe('webhook');
    expect(Reflect.getMetadata(ALERT_CHANNEL_METADATA, SlackChannel)).toBe('slack');
    expect(getForestPluginInfo(WebhookAlertPlugin)).toMatchObject({
      name: 'alert-webhook',
      version: '1.0.0',
      compatibility: '^1.0.0',
    });
  });

  it('is created by Nest with the host PluginSettings, and a bad setting stops it', async () => {
    const host = (values: Record<string, string>) => {
      @Global()
      @Module({
        providers: [{ provide: PluginSettings, useValue: new MapSettings(values) }],
        exports: [PluginSettings],
      })
      class HostSettingsModule {}
      return Test.createTestingModule({ imports: [HostSettingsModule, WebhookAlertPlugin] });
    };
    const app = await host({ FOREST_WEBHOOK_URL: 'https://example.com/hook' }).compile();
    expect(app.get(WebhookChannel)).toBeInstanceOf(WebhookChannel);
    expect(app.get(SlackChannel)).toBeInstanceOf(SlackChannel);
    await app.close();
    await expect(host({ FOREST_WEBHOOK_RETRIES: '99' }).compile()).rejects.toThrow(
      /FOREST_WEBHOOK_RETRIES/,
    );
  });

  it('POSTs the alert as JSON with the event, alert id and custom headers', async () => {
    const server = await receiver();
    const result = await channel({
      FOREST_WEBHOOK_URL: server.url,
      FOREST_WEBHOOK_HEADERS: '{"Authorization":"Bearer t0ken","X-Team":"ops"}',
    }).send(ALERT, live());
    expect(result).toEqual({ status: 'delivered', detail: 'HTTP 204 after 1 attempt(s)' });
    expect(server.received).toHaveLength(1);
    const [{ body, headers }] = server.received;
    expect(body).toBe(JSON.stringify(ALERT));
    expect(JSON.parse(body)).toEqual(ALERT);
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'forest-alert-webhook/1.0',
      'x-forest-event': 'failed',
      'x-forest-alert-id': ALERT.id,
      authorization: 'Bearer t0ken',
      'x-team': 'ops',
    });
    // No secret, no signature.
    expect(headers['x-forest-signature-256']).toBeUndefined();
    expect(headers['x-forest-timestamp']).toBeUndefined();
  });

  it('signs timestamp.body with HMAC-SHA256 when a secret is set', async () => {
    const server = await receiver();
    const before = Math.floor(Date.now() / 1000);
    await channel({ FOREST_WEBHOOK_URL: server.url, FOREST_WEBHOOK_SECRET: SECRET }).send(
      ALERT,
      live(),
    );
    const [{ body, headers }] = server.received;
    const timestamp = headers['x-forest-timestamp'] as string;
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
    expect(headers['x-forest-signature-256']).toBe(`sha256=${expected}`);

    const check = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        secret: SECRET,
        body,
        signature: headers['x-forest-signature-256'] as string,
        timestamp,
        ...overrides,
      });
    expect(check({})).toBe(true);
    expect(check({ body: Buffer.from(body) })).toBe(true);
    expect(check({ body: body.replace('boom', 'fine') })).toBe(false);
    expect(check({ secret: 'other' })).toBe(false);
    expect(check({ timestamp: String(Number(timestamp) - 1) })).toBe(false);
    expect(check({ nowMs: (Number(timestamp) + 301) * 1000 })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
  });

  it('builds the request as a pure function', () => {
    const { body, headers } = buildWebhookRequest(
      ALERT,
      { headers: { 'user-agent': 'mine' }, secret: SECRET },
      1_700_000_000_999,
    );
    expect(headers).toEqual({
      'user-agent': 'mine',
      'Content-Type': 'application/json',
      'X-Forest-Event': 'failed',
      'X-Forest-Alert-Id': ALERT.id,
      'X-Forest-Timestamp': '1700000000',
      'X-Forest-Signature-256': signWebhookBody(SECRET, 1_700_000_000, body),
    });
    expect(signWebhookBody('k', 1, '{}')).toBe(
      `sha256=${createHmac('sha256', 'k').update('1.{}').digest('hex')}`,
    );
  });

  it('retries after 500s and then delivers, counting the attempts', async () => {
    const server = await receiver((n) => (n < 2 ? { status: 500, body: 'oops' } : { status: 200 }));
    const result = await channel({ FOREST_WEBHOOK_URL: server.url }).send(ALERT, live());
    expect(result).toEqual({ status: 'delivered', detail: 'HTTP 200 after 3 attempt(s)' });
    expect(server.received).toHaveLength(3);
    // Every attempt carries the same alert, so the receiver can drop duplicates by id.
    expect(new Set(server.received.map((r) => r.headers['x-forest-alert-id']))).toEqual(
      new Set([ALERT.id]),
    );
  });

  it('gives up after the configured retries with the last error', async () => {
    const server = await receiver(() => ({ status: 503, body: 'down\nfor maintenance' }));
    const result = await channel({
      FOREST_WEBHOOK_URL: server.url,
      FOREST_WEBHOOK_RETRIES: '2',
    }).send(ALERT, live());
    expect(result).toEqual({
      status: 'failed',
      error: 'HTTP 503: down for maintenance (gave up after 3 attempt(s))',
    });
    expect(server.received).toHaveLength(3);
  });

  it('does not retry a 400, and quotes the start of its body', async () => {
    const server = await receiver(() => ({ status: 400, body: `bad payload ${'x'.repeat(500)}` }));
    const result = await channel({ FOREST_WEBHOOK_URL: server.url }).send(ALERT, live());
    expect(result.status).toBe('failed');
    const error = (result as { error: string }).error;
    expect(error).toMatch(/^HTTP 400: bad payload x+… \(after 1 attempt\(s\)\)$/);
    expect(error.length).toBeLessThan(250);
    expect(server.received).toHaveLength(1);
  });

  it('does not follow redirects', async () => {
    const server = await receiver(() => ({ status: 302, headers: { Location: '/elsewhere' } }));
    const result = await channel({ FOREST_WEBHOOK_URL: server.url }).send(ALERT, live());
    expect(result).toEqual({
      status: 'failed',
      error: 'HTTP 302: redirects are not followed; set the final URL (after 1 attempt(s))',
    });
    expect(server.received).toHaveLength(1);
  });

  it('retries a 429 after its Retry-After', async () => {
    const server = await receiver((n) =>
      n === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 202 },
    );
    const started = Date.now();
    const result = await channel({ FOREST_WEBHOOK_URL: server.url }).send(ALERT, live());
    expect(result).toEqual({ status: 'delivered', detail: 'HTTP 202 after 2 attempt(s)' });
    // The backoff alone would have waited ~10ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('times out an attempt that gets no answer, and fails quickly', async () => {
    const server = await receiver(() => 'hang');
    const started = Date.now();
    const result = await channel({
      FOREST_WEBHOOK_URL: server.url,
      FOREST_WEBHOOK_TIMEOUT_MS: '100',
      FOREST_WEBHOOK_RETRIES: '1',
    }).send(ALERT, live());
    expect(result).toEqual({
      status: 'failed',
      error: 'timed out after 100ms (gave up after 2 attempt(s))',
    });
    expect(server.received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('retries network errors', async () => {
    const server = await receiver();
    // A port nobody listens on any more.
    const url = server.url;
    const s = servers.pop()!;
    await new Promise((resolve) => s.close(resolve));
    const result = await channel({ FOREST_WEBHOOK_URL: url, FOREST_WEBHOOK_RETRIES: '1' }).send(
      ALERT,
      live(),
    );
    expect(result).toEqual({
      status: 'failed',
      error: 'network error: fetch failed (ECONNREFUSED) (gave up after 2 attempt(s))',
    });
  });

  it('stops retrying when the host aborts, during a backoff or a request', async () => {
    const failing = await receiver(() => ({ status: 500 }));
    const host = new AbortController();
    setTimeout(() => host.abort(), 100);
    let started = Date.now();
    const during = await channel({
      FOREST_WEBHOOK_URL: failing.url,
      FOREST_WEBHOOK_RETRIES: '10',
      FOREST_WEBHOOK_BACKOFF_MS: '5000',
    }).send(ALERT, { signal: host.signal });
    expect(during).toEqual({
      status: 'failed',
      error: 'aborted after 1 attempt(s); last error: HTTP 500',
    });
    expect(failing.received).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);

    const hanging = await receiver(() => 'hang');
    const host2 = new AbortController();
    setTimeout(() => host2.abort(), 100);
    started = Date.now();
    const inRequest = await channel({
      FOREST_WEBHOOK_URL: hanging.url,
      FOREST_WEBHOOK_TIMEOUT_MS: '5000',
    }).send(ALERT, { signal: host2.signal });
    expect(inRequest).toEqual({ status: 'failed', error: 'aborted after 1 attempt(s)' });
    expect(Date.now() - started).toBeLessThan(1000);

    const aborted = await channel({ FOREST_WEBHOOK_URL: failing.url }).send(ALERT, {
      signal: AbortSignal.abort(),
    });
    expect(aborted).toEqual({ status: 'failed', error: 'aborted before the first attempt' });
    expect(failing.received).toHaveLength(1);
  });

  it('fails every send when FOREST_WEBHOOK_URL is not set', async () => {
    await expect(channel({}).send(ALERT, live())).resolves.toEqual({
      status: 'failed',
      error: 'FOREST_WEBHOOK_URL is not set',
    });
  });

  it.each([
    [{ FOREST_WEBHOOK_URL: 'not a url' }, 'FOREST_WEBHOOK_URL: not a valid URL'],
    [
      { FOREST_WEBHOOK_URL: 'ftp://example.com/x' },
      'FOREST_WEBHOOK_URL: must be an http:// or https:// URL (got ftp:)',
    ],
    [{ FOREST_WEBHOOK_HEADERS: '{nope' }, /^FOREST_WEBHOOK_HEADERS: not valid JSON/],
    [
      { FOREST_WEBHOOK_HEADERS: '["a"]' },
      'FOREST_WEBHOOK_HEADERS: must be a JSON object of header names to string values (got an array)',
    ],
    [{ FOREST_WEBHOOK_HEADERS: '"a"' }, /^FOREST_WEBHOOK_HEADERS: must be a JSON object.*string\)/],
    [
      { FOREST_WEBHOOK_HEADERS: '{"X-N":1}' },
      'FOREST_WEBHOOK_HEADERS: the value of "X-N" must be a string',
    ],
    [
      { FOREST_WEBHOOK_HEADERS: '{"bad name":"x"}' },
      'FOREST_WEBHOOK_HEADERS: "bad name" is not a valid header name',
    ],
    [
      { FOREST_WEBHOOK_HEADERS: '{"X-Forest-Signature-256":"x"}' },
      'FOREST_WEBHOOK_HEADERS: "X-Forest-Signature-256" is set by the webhook channel and cannot be replaced',
    ],
    [
      { FOREST_WEBHOOK_RETRIES: '11' },
      /^FOREST_WEBHOOK_RETRIES: "11" is not a whole number in 0..10/,
    ],
    [{ FOREST_WEBHOOK_RETRIES: '-1' }, /^FOREST_WEBHOOK_RETRIES/],
    [{ FOREST_WEBHOOK_TIMEOUT_MS: 'soon' }, /^FOREST_WEBHOOK_TIMEOUT_MS/],
    [{ FOREST_WEBHOOK_BACKOFF_MS: '60000' }, /^FOREST_WEBHOOK_BACKOFF_MS/],
  ])('refuses bad settings: %j', (values, message) => {
    expect(() => new WebhookChannel(new MapSettings(values))).toThrow(message);
  });

  it('does not echo a bad URL, which may carry a token', () => {
    expect(() => new WebhookChannel(new MapSettings({ FOREST_WEBHOOK_URL: 'sec ret' }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('sec ret') }),
    );
  });
});
