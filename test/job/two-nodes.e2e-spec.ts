import { startNodesOnEtcd, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';

/** Any node answers from the store: no per-node cache can serve a stale job. */
describe('two nodes on one etcd', () => {
  let etcd: EtcdHarness;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
    [a, b] = await startNodesOnEtcd(etcd.endpoint, ['a', 'b']);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await etcd?.stop();
  });

  it('reads back through one node, at once, what was written through the other', async () => {
    const inject = (app: TestApp, method: string, url: string, payload?: object) =>
      app.app.inject({ method: method as 'GET', url, payload });

    expect((await inject(a, 'POST', '/api/groups', { name: 'shared' })).statusCode).toBe(201);
    expect((await inject(b, 'GET', '/api/groups/shared')).statusCode).toBe(200);

    const job = { name: 'j', group: 'shared', schedule: { cron: '@hourly' }, target: 't' };
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 ? [a, b] : [b, a];
      const created = (await inject(writer, 'POST', '/api/jobs', { ...job, id: `job-${i}` })).json<{
        id: string;
      }>();
      expect((await inject(reader, 'GET', `/api/jobs/${created.id}`)).statusCode).toBe(200);
      const patched = await inject(writer, 'PATCH', `/api/jobs/${created.id}`, {
        version: 1,
        remark: `r${i}`,
      });
      expect(patched.statusCode).toBe(200);
      expect((await inject(reader, 'GET', `/api/jobs/${created.id}`)).json()).toMatchObject({
        remark: `r${i}`,
        version: 2,
      });
      expect((await inject(reader, 'DELETE', `/api/jobs/${created.id}`)).statusCode).toBe(204);
      expect((await inject(writer, 'GET', `/api/jobs/${created.id}`)).statusCode).toBe(404);
    }
    // Both nodes see each other as cluster members too.
    expect(
      (await inject(a, 'GET', '/api/nodes')).json<{ id: string }[]>().map((n) => n.id),
    ).toEqual(['a', 'b']);
  });
});
