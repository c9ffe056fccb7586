import { InjectOptions } from 'light-my-request';
import { startTestApp, TestApp } from '../support/app-harness';

/**
 * The HTTP surface of one embedded node through Fastify inject: only JSON bodies, JSON
 * depth and width limits, short validation errors, Host and Origin checks, security
 * headers with a CSP Swagger UI works under, CORS off unless configured.
 */
describe('HTTP hardening', () => {
  let node: TestApp;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: { FOREST_ALLOWED_HOSTS: 'forest.internal' },
    });
  });

  afterAll(async () => {
    await node?.close();
  });

  const inject = (options: InjectOptions) => node.app.inject(options);
  const groupNames = async () =>
    (await inject({ method: 'GET', url: '/api/groups' }))
      .json<{ items: { name: string }[] }>()
      .items.map((g) => g.name);

  describe('request bodies', () => {
    it('refuses form-encoded and text/plain bodies with 415 and creates nothing', async () => {
      for (const [contentType, payload] of [
        ['application/x-www-form-urlencoded', 'name=formed'],
        ['text/plain', '{"name":"texted"}'],
        [
          'multipart/form-data; boundary=x',
          '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nm\r\n--x--',
        ],
        ['application/xml', '<name>x</name>'],
      ]) {
        const response = await inject({
          method: 'POST',
          url: '/api/groups',
          headers: { 'content-type': contentType },
          payload,
        });
        expect({ contentType, status: response.statusCode }).toEqual({ contentType, status: 415 });
        expect(response.json()).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
      }
      // A body without any content type is not JSON either.
      const untyped = await inject({
        method: 'POST',
        url: '/api/groups',
        payload: '{"name":"untyped"}',
      });
      expect(untyped.statusCode).toBe(415);
      expect(await groupNames()).toEqual([]);
    });

    it('still takes JSON with a charset, and an empty POST without content type', async () => {
      const created = await inject({
        method: 'POST',
        url: '/api/groups',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        payload: '{"name":"charset"}',
      });
      expect(created.statusCode).toBe(201);
      // An empty POST (as curl -X POST and workers send) reaches the route: 404 for a job
      // that does not exist, not 415.
      const empty = await inject({ method: 'POST', url: '/api/jobs/nope/pause' });
      expect(empty.json()).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
      // An empty body declared as JSON is a 400 in the one shape.
      const emptyJson = await inject({
        method: 'POST',
        url: '/api/groups',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(emptyJson.json()).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
      await inject({ method: 'DELETE', url: '/api/groups/charset' });
    });

    it('answers JSON nested deeper than FOREST_JSON_MAX_DEPTH with 400 JSON_TOO_DEEP', async () => {
      const deep = `{"name":"deep","remark":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
      const response = await inject({
        method: 'POST',
        url: '/api/groups',
        headers: { 'content-type': 'application/json' },
        payload: deep,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        status: 400,
        code: 'JSON_TOO_DEEP',
        message: 'the JSON body nests objects and arrays deeper than 64 levels',
        details: { maxDepth: 64 },
      });
      // Brackets inside strings do not count.
      const inString = await inject({
        method: 'POST',
        url: '/api/groups',
        payload: { name: 'brackets', remark: '['.repeat(500) },
      });
      expect(inString.statusCode).toBe(201);
      await inject({ method: 'DELETE', url: '/api/groups/brackets' });
    });

    it('answers more keys and items than FOREST_JSON_MAX_KEYS with 400 JSON_TOO_WIDE', async () => {
      const wide: Record<string, number> = { name: 1 };
      for (let i = 0; i < 50_000; i++) wide[`k${i}`] = i;
      const response = await inject({ method: 'POST', url: '/api/groups', payload: wide });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'JSON_TOO_WIDE',
        details: { maxKeys: 20_000 },
      });
      const items = await inject({
        method: 'POST',
        url: '/api/groups',
        payload: { name: 'items', remark: new Array<number>(30_000).fill(0) },
      });
      expect(items.json()).toMatchObject({ status: 400, code: 'JSON_TOO_WIDE' });
    });

    it('keeps malformed JSON and prototype poisoning a 400 in the one shape', async () => {
      for (const payload of [
        '{"name": ',
        '{"name":"a",}',
        '{"name":"a","__proto__":{"polluted":true}}',
        '{"name":"a","constructor":{"prototype":{"polluted":true}}}',
      ]) {
        const response = await inject({
          method: 'POST',
          url: '/api/groups',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect({ payload, status: response.statusCode }).toEqual({ payload, status: 400 });
        expect(response.json()).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers many unknown fields with a short 400: 20 listed, the rest counted', async () => {
      const body: Record<string, unknown> = { name: 'many' };
      for (let i = 0; i < 19_000; i++) body[`unknown${i}`] = i;
      body[`x${'y'.repeat(5000)}`] = 1;
      const started = performance.now();
      const response = await inject({ method: 'POST', url: '/api/groups', payload: body });
      const elapsed = performance.now() - started;
      process.stdout.write(
        `19,001 unknown fields: 400 in ${elapsed.toFixed(1)} ms, ${response.body.length} bytes\n`,
      );
      expect(response.statusCode).toBe(400);
      const error = response.json<{ code: string; message: string; details: unknown[] }>();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toMatch(/^unknown0: property unknown0 should not exist, /);
      expect(error.message).toMatch(/, and 18981 more$/);
      expect(error.details).toHaveLength(20);
      expect(response.body.length).toBeLessThan(4000);
      expect(await groupNames()).not.toContain('many');
    });

    it('quotes at most a short prefix of a long bad value or field name', async () => {
      const longName = 'n'.repeat(10_000);
      const response = await inject({
        method: 'POST',
        url: '/api/groups',
        payload: { name: longName },
      });
      expect(response.statusCode).toBe(400);
      expect(response.body.length).toBeLessThan(1000);
      const nested = await inject({
        method: 'POST',
        url: '/api/jobs',
        payload: {
          id: 'j',
          name: 'j',
          group: 'g',
          target: 't',
          schedule: { cron: '* * * * *', [`k${'z'.repeat(10_000)}`]: 1 },
        },
      });
      expect(nested.statusCode).toBe(400);
      expect(nested.json<{ message: string }>().message).toMatch(
        /^schedule\.kz{63}…: property kz{63}… should not exist$/,
      );
    });

    it('keeps a wide free-form value (a job params object) intact', async () => {
      expect(
        (await inject({ method: 'POST', url: '/api/groups', payload: { name: 'wide' } }))
          .statusCode,
      ).toBe(201);
      const params: Record<string, number> = {};
      for (let i = 0; i < 2000; i++) params[`p${i}`] = i;
      const job = {
        id: 'wide-job',
        name: 'w',
        group: 'wide',
        target: 't',
        schedule: { cron: '0 0 1 1 *' },
        params,
      };
      const created = await inject({ method: 'POST', url: '/api/jobs', payload: job });
      expect(created.statusCode).toBe(201);
      const read = await inject({ method: 'GET', url: '/api/jobs/wide-job' });
      expect(read.json<{ params: unknown }>().params).toEqual(params);
    });
  });

  describe('URLs', () => {
    it('answers a too long path parameter and a bad URL in the one shape, without echoing them', async () => {
      const long = await inject({ method: 'GET', url: `/api/jobs/${'x'.repeat(5000)}` });
      expect(long.statusCode).toBe(414);
      expect(long.json()).toEqual({
        status: 414,
        code: 'PATH_PARAM_TOO_LONG',
        message: 'a path parameter is longer than 100 characters',
      });
      const bad = await inject({ method: 'GET', url: '/api/jobs/%E0%A4%A' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ status: 400, code: 'INVALID_URL' });
    });
  });

  describe('Host and Origin', () => {
    it('refuses a request whose Host is not allowed, on GET and POST (DNS rebinding)', async () => {
      for (const host of [
        'evil.example',
        'evil.example:2856',
        'localhost.evil.example',
        '127.0.0.1.nip.io',
      ]) {
        const read = await inject({ method: 'GET', url: '/api/groups', headers: { host } });
        expect({ host, status: read.statusCode }).toEqual({ host, status: 421 });
        expect(read.json()).toMatchObject({ status: 421, code: 'HOST_NOT_ALLOWED' });
        const write = await inject({
          method: 'POST',
          url: '/api/groups',
          headers: { host },
          payload: { name: 'rebound' },
        });
        expect(write.json()).toMatchObject({ status: 421, code: 'HOST_NOT_ALLOWED' });
      }
      const health = await inject({
        method: 'GET',
        url: '/health',
        headers: { host: 'evil.example' },
      });
      expect(health.statusCode).toBe(421);
      expect(await groupNames()).not.toContain('rebound');
    });

    it('serves the allowed hosts on any port', async () => {
      for (const host of [
        'localhost',
        'localhost:2856',
        'LOCALHOST:80',
        '127.0.0.1:1',
        '[::1]:2856',
        'forest.internal:443',
        new URL(node.config.advertiseUrl).host,
      ]) {
        const response = await inject({ method: 'GET', url: '/health', headers: { host } });
        expect({ host, status: response.statusCode }).toEqual({ host, status: 200 });
      }
    });

    it('refuses a state-changing request from another origin and changes nothing', async () => {
      for (const headers of [
        { origin: 'http://evil.example' },
        { origin: 'https://evil.example:2856' },
        { origin: 'null' },
        { 'sec-fetch-site': 'cross-site' },
      ]) {
        const response = await inject({
          method: 'POST',
          url: '/api/groups',
          headers,
          payload: { name: 'csrf' },
        });
        expect({ headers, status: response.statusCode }).toEqual({ headers, status: 403 });
        expect(response.json()).toMatchObject({ status: 403, code: 'ORIGIN_NOT_ALLOWED' });
      }
      // An empty POST too (the form a cross-site page can send without a preflight).
      await inject({ method: 'POST', url: '/api/groups', payload: { name: 'target' } });
      await inject({
        method: 'POST',
        url: '/api/jobs',
        payload: {
          id: 'victim',
          name: 'v',
          group: 'target',
          target: 't',
          schedule: { cron: '0 0 1 1 *' },
        },
      });
      const pause = await inject({
        method: 'POST',
        url: '/api/jobs/victim/pause',
        headers: { origin: 'http://evil.example' },
      });
      expect(pause.statusCode).toBe(403);
      const remove = await inject({
        method: 'DELETE',
        url: '/api/groups/target?force=true',
        headers: { origin: 'http://evil.example' },
      });
      expect(remove.statusCode).toBe(403);
      expect((await inject({ method: 'GET', url: '/api/jobs/victim' })).json()).toMatchObject({
        state: 'active',
      });
      expect(await groupNames()).not.toContain('csrf');
    });

    it('lets requests from allowed origins and without Origin through; reads from anywhere', async () => {
      const sameOrigin = await inject({
        method: 'POST',
        url: '/api/jobs/victim/pause',
        headers: { origin: 'http://localhost:2856', 'sec-fetch-site': 'same-origin' },
      });
      expect(sameOrigin.statusCode).toBeLessThan(300);
      const noOrigin = await inject({ method: 'POST', url: '/api/jobs/victim/resume' });
      expect(noOrigin.statusCode).toBeLessThan(300);
      const read = await inject({
        method: 'GET',
        url: '/api/groups',
        headers: { origin: 'http://evil.example' },
      });
      expect(read.statusCode).toBe(200);
    });
  });

  describe('response headers', () => {
    it('sets the security headers on answers and errors', async () => {
      for (const url of ['/health', '/no/such/route']) {
        const response = await inject({ method: 'GET', url });
        expect(response.headers).toMatchObject({
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'SAMEORIGIN',
          'referrer-policy': 'no-referrer',
          'cross-origin-opener-policy': 'same-origin',
        });
        const csp = String(response.headers['content-security-policy']);
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(csp).not.toContain('upgrade-insecure-requests');
      }
      const refused = await inject({
        method: 'GET',
        url: '/health',
        headers: { host: 'evil.example' },
      });
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
    });

    it('serves Swagger UI with all its assets under the CSP (no inline script)', async () => {
      const page = await inject({ method: 'GET', url: '/docs' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      const html = page.body;
      expect(html).toContain('Swagger UI');
      // Every script has a same-origin src: script-src 'self' allows them all.
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/src=/);
        expect(body.trim()).toBe('');
      }
      const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css|png))"/g)].map((m) => m[1]);
      expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
      for (const asset of assets) {
        expect(asset).not.toMatch(/^(https?:)?\/\//);
        const url = new URL(asset, 'http://localhost/docs').pathname;
        const response = await inject({ method: 'GET', url });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
        expect(response.headers['content-security-policy']).toBeDefined();
      }
      const init = await inject({ method: 'GET', url: '/docs/swagger-ui-init.js' });
      expect(init.statusCode).toBe(200);
      const json = await inject({ method: 'GET', url: '/docs-json' });
      expect(json.statusCode).toBe(200);
    });

    it('has CORS off by default', async () => {
      const response = await inject({
        method: 'GET',
        url: '/api/groups',
        headers: { origin: 'https://console.example' },
      });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await inject({
        method: 'OPTIONS',
        url: '/api/groups',
        headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

describe('CORS with FOREST_CORS_ORIGINS', () => {
  let node: TestApp;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: { FOREST_CORS_ORIGINS: 'https://console.example' },
    });
  });

  afterAll(async () => {
    await node?.close();
  });

  it('allows exactly the configured origin, for reads and state changes', async () => {
    const preflight = await node.app.inject({
      method: 'OPTIONS',
      url: '/api/groups',
      headers: {
        origin: 'https://console.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.statusCode).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');

    const created = await node.app.inject({
      method: 'POST',
      url: '/api/groups',
      headers: { origin: 'https://console.example', 'sec-fetch-site': 'cross-site' },
      payload: { name: 'from-console' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['access-control-allow-origin']).toBe('https://console.example');

    const other = await node.app.inject({
      method: 'GET',
      url: '/api/groups',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const otherWrite = await node.app.inject({
      method: 'POST',
      url: '/api/groups',
      headers: { origin: 'https://evil.example' },
      payload: { name: 'from-evil' },
    });
    expect(otherWrite.statusCode).toBe(403);
  });
});
