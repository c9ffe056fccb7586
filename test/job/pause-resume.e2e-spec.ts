import { startTestApp, StoreKind, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';

type Json = Record<string, any>;

/** Pausing a paused job, or resuming an active one, changes nothing: not even the version. */
describe.each<StoreKind>(['embedded', 'etcd'])('pause and resume on the %s store', (kind) => {
  let etcd: EtcdHarness | undefined;
  let subject: TestApp;

  beforeAll(async () => {
    if (kind === 'etcd') etcd = await EtcdHarness.start();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  beforeEach(async () => {
    subject = await startTestApp({ store: kind, etcdEndpoint: etcd?.endpoint });
    expect((await call('POST', '/api/groups', { name: 'billing' })).statusCode).toBe(201);
    expect(
      (
        await call('POST', '/api/jobs', {
          id: 'nightly',
          name: 'nightly invoices',
          group: 'billing',
          schedule: { cron: '0 30 2 * * *' },
          target: 'invoices.generate',
        })
      ).statusCode,
    ).toBe(201);
  });

  afterEach(async () => {
    await subject?.close();
  });

  async function call(method: string, url: string, payload?: unknown, headers: Json = {}) {
    const response = await subject.app.inject({
      method: method as 'GET',
      url,
      payload: payload as object,
      headers,
    });
    return {
      statusCode: response.statusCode,
      body: response.json<Json>(),
      headers: response.headers,
    };
  }

  it('pausing a paused job is a no-op: same version, same updatedAt', async () => {
    const paused = await call('POST', '/api/jobs/nightly/pause', {});
    expect(paused.body).toMatchObject({ state: 'paused', version: 2 });
    const again = await call('POST', '/api/jobs/nightly/pause', {});
    expect(again.statusCode).toBe(200);
    expect(again.body).toEqual(paused.body);
    expect(again.headers.etag).toBe(paused.headers.etag);
    expect((await call('GET', '/api/jobs/nightly')).body).toMatchObject({ version: 2 });
  });

  it('resuming an active job is a no-op', async () => {
    const before = (await call('GET', '/api/jobs/nightly')).body;
    const resumed = await call('POST', '/api/jobs/nightly/resume', {});
    expect(resumed.statusCode).toBe(200);
    expect(resumed.body).toEqual(before);
    expect((await call('GET', '/api/jobs/nightly')).body).toMatchObject({ version: 1 });
  });

  it('a no-op with the current version succeeds; with a stale one it is still a conflict', async () => {
    await call('POST', '/api/jobs/nightly/pause', {});
    expect((await call('POST', '/api/jobs/nightly/pause', { version: 2 })).body).toMatchObject({
      state: 'paused',
      version: 2,
    });
    expect((await call('POST', '/api/jobs/nightly/pause', { version: 1 })).body).toMatchObject({
      status: 409,
      code: 'VERSION_CONFLICT',
    });
    expect(
      (await call('POST', '/api/jobs/nightly/pause', {}, { 'if-match': '"1"' })).statusCode,
    ).toBe(409);
    // A real change still bumps the version.
    expect((await call('POST', '/api/jobs/nightly/resume', { version: 2 })).body).toMatchObject({
      state: 'active',
      version: 3,
    });
  });
});
