import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  backoffDelay,
  bodyExcerpt,
  classifyResponse,
  MAX_BACKOFF_MS,
  parseRetryAfter,
  postWithRetries,
} from './http-delivery';

describe('http-delivery', () => {
  it('doubles the backoff per retry, ±20%, up to the cap', () => {
    const low = () => 0;
    const high = () => 0.999999;
    expect(backoffDelay(1, 500, MAX_BACKOFF_MS, low)).toBe(400);
    expect(backoffDelay(1, 500, MAX_BACKOFF_MS, () => 0.5)).toBe(500);
    expect(backoffDelay(1, 500, MAX_BACKOFF_MS, high)).toBe(600);
    expect(backoffDelay(2, 500, MAX_BACKOFF_MS, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, 500, MAX_BACKOFF_MS, () => 0.5)).toBe(2000);
    expect(backoffDelay(6, 500, MAX_BACKOFF_MS, high)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(40, 500, MAX_BACKOFF_MS, low)).toBe(8000);
    expect(backoffDelay(3, 0, MAX_BACKOFF_MS)).toBe(0);
  });

  it('reads Retry-After in seconds only', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
  });

  it('retries 5xx and 429, fails other statuses at once', () => {
    expect(classifyResponse(500, 'oops', null)).toEqual({ kind: 'retry', error: 'HTTP 500: oops' });
    expect(classifyResponse(503, '', '2')).toEqual({
      kind: 'retry',
      error: 'HTTP 503',
      retryAfterMs: 2000,
    });
    expect(classifyResponse(429, 'slow down', '1')).toEqual({
      kind: 'retry',
      error: 'HTTP 429: slow down',
      retryAfterMs: 1000,
    });
    expect(classifyResponse(404, 'no_service', '5')).toEqual({
      kind: 'fail',
      error: 'HTTP 404: no_service',
    });
    expect(classifyResponse(301, '', null).kind).toBe('fail');
  });

  it('quotes an error body on one short line', () => {
    expect(bodyExcerpt('  a\n\tb  ')).toBe('a b');
    expect(bodyExcerpt('x'.repeat(300))).toBe(`${'x'.repeat(200)}…`);
  });
});

describe('postWithRetries', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('caps a long Retry-After at the backoff cap', async () => {
    let requests = 0;
    server = createServer((_req, res) => {
      requests++;
      if (requests === 1) res.writeHead(429, { 'Retry-After': '3600' }).end();
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const result = await postWithRetries(
      () => ({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' }),
      { timeoutMs: 1000, retries: 1, backoffMs: 10, maxBackoffMs: 50 },
      new AbortController().signal,
    );
    expect(result).toEqual({ status: 'delivered', detail: 'HTTP 200 after 2 attempt(s)' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
