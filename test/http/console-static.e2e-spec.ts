import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/app-harness';

/**
 * The web console at `/` (src/http/console-static.ts): its files, index.html for every other
 * GET path outside the API (so each screen has a URL), the API's own 404 under /api, and a
 * clear 503 naming `npm run build` when the console was not built. Uses a stand-in build.
 */
describe('web console at /', () => {
  const INDEX =
    '<!doctype html><title>Forest console</title><script type="module" src="/assets/app-1a2b.js"></script>';
  let dir: string;
  let node: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forest-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log("forest")');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    node = await startTestApp({ store: 'embedded', consoleDir: dir });
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string) => node.app.inject({ method: 'GET', url });

  it('serves index.html at / under the CSP (scripts from self only)', async () => {
    const answer = await get('/');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.body).toBe(INDEX);
    expect(answer.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it.each(['/jobs', '/jobs/nightly', '/groups/billing', '/plan?group=a', '/executions/x~1'])(
    'answers index.html for the screen URL %s',
    async (url) => {
      const answer = await get(url);
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toBe(INDEX);
    },
  );

  it('serves hashed assets for a year, other files revalidated', async () => {
    const asset = await get('/assets/app-1a2b.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers 404 (not index.html) for a missing asset', async () => {
    const answer = await get('/assets/gone-123.js');
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it.each(['/api/nope', '/api/jobs/x/y/z', '/docs/nope', '/health/x', '/metrics/x'])(
    'keeps the API 404 shape for %s',
    async (url) => {
      const answer = await get(url);
      expect(answer.statusCode).toBe(404);
      expect(answer.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    },
  );

  it('leaves the API, health and Swagger UI alone', async () => {
    expect((await get('/api/jobs')).json()).toMatchObject({ items: [] });
    expect((await get('/health')).statusCode).toBe(200);
    expect((await get('/docs')).body).toContain('Swagger UI');
    expect((await node.app.inject({ method: 'POST', url: '/jobs' })).statusCode).toBe(404);
  });

  it('says to run npm run build when the console is not built', async () => {
    const bare = await startTestApp({ store: 'embedded', consoleDir: join(dir, 'missing') });
    try {
      for (const url of ['/', '/jobs']) {
        const answer = await bare.app.inject({ method: 'GET', url });
        expect(answer.statusCode).toBe(503);
        expect(answer.headers['content-type']).toMatch(/^text\/plain/);
        expect(answer.body).toContain('npm run build');
      }
      expect((await bare.app.inject({ method: 'GET', url: '/api/jobs' })).statusCode).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
