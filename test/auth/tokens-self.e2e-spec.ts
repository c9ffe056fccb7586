import { startTestApp, TestApp } from '../support/app-harness';
import { ADMIN_TOKEN, call, createToken, jobBody } from './auth-test-support';

/**
 * GET /api/tokens/self: who the caller is, for the web console (signed-in name, role,
 * groups; which actions to offer). And the jobs list's strategy filter the console uses.
 */
describe('GET /api/tokens/self', () => {
  let node: TestApp;
  afterEach(async () => node?.close());

  it('with auth on: the token name, role, groups and revealData; 401 without a token', async () => {
    node = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    const { app } = node;
    expect((await call(app, 'GET', '/api/tokens/self')).statusCode).toBe(401);
    const admin = await call(app, 'GET', '/api/tokens/self', { token: ADMIN_TOKEN });
    expect(admin.body).toMatchObject({ auth: true, name: 'admin', role: 'admin', groups: null });
    const viewer = await createToken(app, { name: 'dash', role: 'viewer', groups: ['billing'] });
    const self = await call(app, 'GET', '/api/tokens/self', { token: viewer.token });
    expect(self.body).toEqual({
      auth: true,
      id: viewer.id,
      name: 'dash',
      role: 'viewer',
      groups: ['billing'],
      revealData: false,
    });
    const worker = await createToken(app, { name: 'w', role: 'worker', groups: ['billing'] });
    expect((await call(app, 'GET', '/api/tokens/self', { token: worker.token })).statusCode).toBe(
      403,
    );
  });

  it('with auth off: anonymous, may do everything', async () => {
    node = await startTestApp({ store: 'embedded' });
    const self = await call(node.app, 'GET', '/api/tokens/self');
    expect(self.body).toEqual({
      auth: false,
      name: 'anonymous (auth off)',
      role: 'admin',
      groups: null,
      revealData: true,
    });
  });

  it('GET /api/jobs?strategy= lists the jobs of one dispatch strategy', async () => {
    node = await startTestApp({ store: 'embedded' });
    const { app } = node;
    await call(app, 'POST', '/api/groups', { payload: { name: 'g' } });
    await call(app, 'POST', '/api/jobs', { payload: jobBody('a', 'g') });
    await call(app, 'POST', '/api/jobs', {
      payload: jobBody('b', 'g', { dispatch: { strategy: 'least-busy' } }),
    });
    const busy = await call(app, 'GET', '/api/jobs?strategy=least-busy');
    expect(busy.body.items.map((job: { id: string }) => job.id)).toEqual(['b']);
    expect(busy.body.total).toBe(1);
  });
});
