import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { executionKeyOf, Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { TOKEN_CACHE_TTL_MS } from '../../src/auth/token.service';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';
import { ADMIN_TOKEN, call, createToken, Json, jobBody, until } from './auth-test-support';

const AUTH_ON = { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN };

function storeOf(subject: TestApp): CoordinationStore {
  return subject.app.get<CoordinationStore>(COORDINATION_STORE);
}

describe('API tokens (FOREST_AUTH=on)', () => {
  let subject: TestApp;
  const admin = { token: ADMIN_TOKEN };

  beforeEach(async () => {
    subject = await startTestApp({ store: 'embedded', env: AUTH_ON });
  });

  afterEach(async () => {
    await subject?.close();
  });

  it('creates a token shown once, lists it without its secret, stores only its hash', async () => {
    const created = await call(subject.app, 'POST', '/api/tokens', {
      ...admin,
      payload: { name: 'ci', role: 'operator', groups: ['b', 'a'] },
    });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.body;
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[a-z0-9]{12}$/),
      name: 'ci',
      role: 'operator',
      groups: ['a', 'b'],
      revealData: false,
      token: expect.stringMatching(new RegExp(`^fst_${id}_[A-Za-z0-9_-]{43}$`)),
      createdAt: expect.any(String),
      createdBy: 'admin',
    });
    const secret = token.slice(`fst_${id}_`.length);

    const listed = await call(subject.app, 'GET', '/api/tokens', admin);
    expect(listed.statusCode).toBe(200);
    expect(listed.body.items).toEqual(
      expect.arrayContaining([
        {
          id,
          name: 'ci',
          role: 'operator',
          groups: ['a', 'b'],
          revealData: false,
          createdAt: created.body.createdAt,
          createdBy: 'admin',
          lastUsedAt: null,
        },
        expect.objectContaining({ id: 'admin', name: 'admin', role: 'admin', groups: null }),
      ]),
    );
    expect(listed.text).not.toContain(secret);
    expect(listed.text).not.toContain('secretHash');

    const stored = await storeOf(subject).get(Keyspace.token(id));
    expect(stored).toBeDefined();
    expect(stored!.value).not.toContain(secret);
    expect(JSON.parse(stored!.value)).toMatchObject({
      id,
      secretHash: createHash('sha256').update(token).digest('hex'),
    });
    const admins = await storeOf(subject).get(Keyspace.token('admin'));
    expect(admins!.value).not.toContain(ADMIN_TOKEN);

    expect((await call(subject.app, 'GET', '/api/jobs', { token })).statusCode).toBe(200);
  });

  it('refuses a revoked token on the next request, and one revoked elsewhere within the cache TTL', async () => {
    const first = await createToken(subject.app, { name: 'short-lived', role: 'viewer' });
    expect((await call(subject.app, 'GET', '/api/jobs', first)).statusCode).toBe(200);
    const revoked = await call(subject.app, 'DELETE', `/api/tokens/${first.id}`, admin);
    expect(revoked.statusCode).toBe(204);
    const refused = await call(subject.app, 'GET', '/api/jobs', first);
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(
      (await call(subject.app, 'DELETE', `/api/tokens/${first.id}`, admin)).body,
    ).toMatchObject({ status: 404, code: 'TOKEN_NOT_FOUND' });
    expect((await call(subject.app, 'GET', '/api/tokens', admin)).text).not.toContain(first.id);

    // Another node's revoke: the key goes away behind this node's back (its cache is warm).
    const second = await createToken(subject.app, { name: 'cached', role: 'viewer' });
    expect((await call(subject.app, 'GET', '/api/jobs', second)).statusCode).toBe(200);
    await storeOf(subject).delete(Keyspace.token(second.id));
    const started = Date.now();
    await until(
      async () => (await call(subject.app, 'GET', '/api/jobs', second)).statusCode === 401,
      TOKEN_CACHE_TTL_MS + 2000,
    );
    expect(Date.now() - started).toBeLessThanOrEqual(TOKEN_CACHE_TTL_MS + 1000);
  });

  it('records lastUsedAt when a token is used', async () => {
    const viewer = await createToken(subject.app, { name: 'reader', role: 'viewer' });
    const before = (await call(subject.app, 'GET', '/api/tokens', admin)).body.items as Json[];
    expect(before.find((t) => t.id === viewer.id)!.lastUsedAt).toBeNull();
    const usedFrom = Date.now();
    expect((await call(subject.app, 'GET', '/api/plugins', viewer)).statusCode).toBe(200);
    let lastUsedAt: string | null = null;
    await until(async () => {
      const tokens = (await call(subject.app, 'GET', '/api/tokens', admin)).body.items as Json[];
      lastUsedAt = tokens.find((t) => t.id === viewer.id)!.lastUsedAt;
      return lastUsedAt !== null;
    });
    expect(Date.parse(lastUsedAt!)).toBeGreaterThanOrEqual(usedFrom - 1000);
  });

  it('rejects bad token specs', async () => {
    for (const payload of [
      { name: 'x', role: 'root' },
      { name: 'has space', role: 'viewer' },
      { name: 'x', role: 'viewer', groups: ['../etc'] },
      { role: 'viewer' },
      { name: 'x', role: 'viewer', extra: true },
    ]) {
      const answer = await call(subject.app, 'POST', '/api/tokens', { ...admin, payload });
      expect(answer.statusCode).toBe(400);
    }
  });

  it('shows a viewer params and outputs as "[redacted]", a viewer with revealData the real ones', async () => {
    const app = subject.app;
    await call(app, 'POST', '/api/groups', { ...admin, payload: { name: 'g' } });
    const params = { apiKey: 'params-secret-1' };
    expect(
      (await call(app, 'POST', '/api/jobs', { ...admin, payload: jobBody('j', 'g', { params }) }))
        .statusCode,
    ).toBe(201);
    const triggered = await call(app, 'POST', '/api/jobs/j/trigger', { ...admin, payload: {} });
    expect(triggered.statusCode).toBe(201);
    const executionId: string = triggered.body.id;
    // Give the execution an output, as a worker's report would.
    const store = storeOf(subject);
    const key = executionKeyOf(executionId)!;
    const record = JSON.parse((await store.get(key))!.value) as Json;
    await store.put(key, JSON.stringify({ ...record, output: 'output-secret-2' }));

    const viewer = await createToken(app, { name: 'viewer', role: 'viewer' });
    const revealing = await createToken(app, { name: 'auditor', role: 'viewer', revealData: true });
    const operator = await createToken(app, { name: 'op', role: 'operator' });

    for (const url of ['/api/jobs/j', '/api/jobs', `/api/executions/${executionId}`]) {
      const hidden = await call(app, 'GET', url, viewer);
      expect(hidden.statusCode).toBe(200);
      expect(hidden.text).not.toContain('params-secret-1');
      expect(hidden.text).not.toContain('output-secret-2');
      for (const who of [revealing, operator, admin]) {
        const shown = await call(app, 'GET', url, who);
        expect(shown.text).toContain('params-secret-1');
      }
    }
    expect((await call(app, 'GET', '/api/jobs/j', viewer)).body.params).toBe('[redacted]');
    expect((await call(app, 'GET', '/api/jobs', viewer)).body.items[0].params).toBe('[redacted]');
    expect((await call(app, 'GET', `/api/executions/${executionId}`, viewer)).body).toMatchObject({
      params: '[redacted]',
      output: '[redacted]',
    });
    expect(
      (await call(app, 'GET', `/api/executions/${executionId}`, revealing)).body,
    ).toMatchObject({ params, output: 'output-secret-2' });
    // A viewer cannot get them by acting either.
    expect(
      (await call(app, 'POST', '/api/jobs/j/trigger', { ...viewer, payload: {} })).statusCode,
    ).toBe(403);
  });

  it('keeps a group-scoped operator to its groups (404 for objects outside, 403 for naming a group outside)', async () => {
    const app = subject.app;
    for (const name of ['a', 'b']) {
      await call(app, 'POST', '/api/groups', { ...admin, payload: { name } });
      expect(
        (await call(app, 'POST', '/api/jobs', { ...admin, payload: jobBody(`job-${name}`, name) }))
          .statusCode,
      ).toBe(201);
    }
    const inB = await call(app, 'POST', '/api/jobs/job-b/trigger', { ...admin, payload: {} });
    const op = await createToken(app, { name: 'op-a', role: 'operator', groups: ['a'] });

    const mine = await call(app, 'POST', '/api/jobs/job-a/trigger', { ...op, payload: {} });
    expect(mine.statusCode).toBe(201);
    const other = await call(app, 'POST', '/api/jobs/job-b/trigger', { ...op, payload: {} });
    expect(other.body).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });

    const ids = (answer: { body: Json }) =>
      (answer.body.items as Json[]).map((item) => item.jobId ?? item.id);
    expect(ids(await call(app, 'GET', '/api/jobs', op))).toEqual(['job-a']);
    expect(ids(await call(app, 'GET', '/api/jobs?group=b', op))).toEqual([]);
    expect((await call(app, 'GET', '/api/jobs/job-b', op)).statusCode).toBe(404);
    expect((await call(app, 'GET', '/api/jobs/job-b/next-fires', op)).statusCode).toBe(404);
    expect(
      (await call(app, 'POST', '/api/jobs/job-b/pause', { ...op, payload: {} })).statusCode,
    ).toBe(404);
    expect(
      (await call(app, 'PATCH', '/api/jobs/job-b', { ...op, payload: { remark: 'x', version: 1 } }))
        .statusCode,
    ).toBe(404);
    expect((await call(app, 'DELETE', '/api/jobs/job-b', op)).statusCode).toBe(404);
    expect(
      (await call(app, 'POST', '/api/jobs', { ...op, payload: jobBody('job-b2', 'b') })).body,
    ).toMatchObject({ status: 403, code: 'GROUP_OUT_OF_SCOPE' });
    expect(
      (await call(app, 'PATCH', '/api/jobs/job-a', { ...op, payload: { group: 'b', version: 1 } }))
        .body,
    ).toMatchObject({ status: 403, code: 'GROUP_OUT_OF_SCOPE' });
    expect(
      (
        await call(app, 'PATCH', '/api/jobs/job-a', {
          ...op,
          payload: { remark: 'ok', version: 1 },
        })
      ).statusCode,
    ).toBe(200);

    expect((await call(app, 'GET', '/api/groups', op)).body.items).toEqual([
      expect.objectContaining({ name: 'a' }),
    ]);
    expect((await call(app, 'GET', '/api/groups/b', op)).statusCode).toBe(404);
    expect(
      (await call(app, 'PUT', '/api/groups/b', { ...op, payload: { remark: 'x' } })).statusCode,
    ).toBe(404);
    expect((await call(app, 'DELETE', '/api/groups/b', op)).statusCode).toBe(404);
    expect(
      (await call(app, 'POST', '/api/groups', { ...op, payload: { name: 'c' } })).body,
    ).toMatchObject({
      code: 'GROUP_OUT_OF_SCOPE',
    });

    expect(ids(await call(app, 'GET', '/api/executions', op))).toEqual(['job-a']);
    expect(ids(await call(app, 'GET', '/api/executions?group=b', op))).toEqual([]);
    expect(ids(await call(app, 'GET', `/api/executions?attemptsOf=${inB.body.id}`, op))).toEqual(
      [],
    );
    expect((await call(app, 'GET', `/api/executions/${inB.body.id}`, op)).statusCode).toBe(404);
    expect(
      (await call(app, 'POST', `/api/executions/${inB.body.id}/cancel`, { ...op, payload: {} }))
        .body,
    ).toMatchObject({ status: 404, code: 'EXECUTION_NOT_FOUND' });
    expect((await call(app, 'GET', `/api/executions/${inB.body.id}`, admin)).body.status).toBe(
      'pending',
    );
    // In its scope it cancels, and the record names the token that did.
    const inA = await call(app, 'POST', '/api/jobs/job-a/trigger', { ...op, payload: {} });
    expect(
      (await call(app, 'POST', `/api/executions/${inA.body.id}/cancel`, { ...op, payload: {} }))
        .body,
    ).toMatchObject({ status: 'cancelled', cancelledBy: { kind: 'api', by: 'op-a' } });
    await until(async () => (await call(app, 'GET', '/api/plan', admin)).body.items.length === 2);
    expect(ids(await call(app, 'GET', '/api/plan', op))).toEqual(['job-a']);
  });

  it('deletes a group with its jobs (force) for admins only', async () => {
    const app = subject.app;
    await call(app, 'POST', '/api/groups', { ...admin, payload: { name: 'f' } });
    await call(app, 'POST', '/api/jobs', { ...admin, payload: jobBody('job-f', 'f') });
    const op = await createToken(app, { name: 'op', role: 'operator' });
    expect((await call(app, 'DELETE', '/api/groups/f?force=true', op)).body).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect((await call(app, 'DELETE', '/api/groups/f', op)).statusCode).toBe(409);
    expect((await call(app, 'DELETE', '/api/groups/f?force=true', admin)).statusCode).toBe(204);
  });

  it('lets an admin limited to groups create, list and revoke only tokens within them', async () => {
    const app = subject.app;
    const scoped = await createToken(app, { name: 'admin-a', role: 'admin', groups: ['a', 'b'] });
    const wide = await createToken(app, { name: 'wide', role: 'viewer' });
    expect(
      (
        await call(app, 'POST', '/api/tokens', {
          ...scoped,
          payload: { name: 'x', role: 'viewer' },
        })
      ).body,
    ).toMatchObject({ status: 403, code: 'GROUP_OUT_OF_SCOPE' });
    expect(
      (
        await call(app, 'POST', '/api/tokens', {
          ...scoped,
          payload: { name: 'x', role: 'viewer', groups: ['a', 'c'] },
        })
      ).body,
    ).toMatchObject({ status: 403, code: 'GROUP_OUT_OF_SCOPE' });
    const made = await createToken(
      app,
      { name: 'in-a', role: 'operator', groups: ['a'] },
      scoped.token,
    );
    const seen = ((await call(app, 'GET', '/api/tokens', scoped)).body.items as Json[]).map(
      (t) => t.id,
    );
    expect(seen.sort()).toEqual([scoped.id, made.id].sort());
    expect((await call(app, 'DELETE', `/api/tokens/${wide.id}`, scoped)).statusCode).toBe(404);
    expect((await call(app, 'DELETE', `/api/tokens/${made.id}`, scoped)).statusCode).toBe(204);
  });
});

describe('the first admin token', () => {
  let dataDir: string;
  let subject: TestApp | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-auth-'));
  });

  afterEach(async () => {
    await subject?.close();
    subject = undefined;
    jest.restoreAllMocks();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string>) =>
    startTestApp({
      store: 'embedded',
      env: {
        FOREST_DATA_DIR: dataDir,
        FOREST_KEY_PREFIX: '/forest-auth',
        FOREST_AUTH: 'on',
        ...env,
      },
    });

  it('uses FOREST_ADMIN_TOKEN as given, stored once as the token "admin" across restarts', async () => {
    subject = await start({ FOREST_ADMIN_TOKEN: ADMIN_TOKEN });
    const listed = await call(subject.app, 'GET', '/api/tokens', { token: ADMIN_TOKEN });
    expect(listed.statusCode).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id: 'admin',
        name: 'admin',
        role: 'admin',
        createdBy: 'FOREST_ADMIN_TOKEN',
      }),
    ]);
    const revision = (await storeOf(subject).get(Keyspace.token('admin')))!.modRevision;
    await subject.stop();

    subject = await start({ FOREST_ADMIN_TOKEN: ADMIN_TOKEN });
    const again = await call(subject.app, 'GET', '/api/tokens', { token: ADMIN_TOKEN });
    expect(again.body.items).toHaveLength(1);
    expect((await storeOf(subject).get(Keyspace.token('admin')))!.modRevision).toBe(revision);
    expect(statSync(dataDir).isDirectory()).toBe(true);
    expect(() => statSync(join(dataDir, 'admin-token'))).toThrow();
  });

  it('generates one into FOREST_DATA_DIR/admin-token (0600), logs where (not the token), and a second start makes no other', async () => {
    const logs: string[] = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(function (message: unknown) {
      logs.push(String(message));
    });
    subject = await start({});
    const file = join(dataDir, 'admin-token');
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^fst_admin_[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const line = logs.find((message) => message.includes(file));
    expect(line).toBeDefined();
    expect(logs.join('\n')).not.toContain(token);
    expect((await call(subject.app, 'GET', '/api/tokens', { token })).statusCode).toBe(200);
    expect((await call(subject.app, 'GET', '/api/tokens')).statusCode).toBe(401);
    await subject.stop();

    logs.length = 0;
    subject = await start({});
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(logs.filter((message) => message.includes(file))).toEqual([]);
    const listed = await call(subject.app, 'GET', '/api/tokens', { token });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id: 'admin', createdBy: 'bootstrap' }),
    ]);
  });
});

describe('failed authentications', () => {
  let subject: TestApp;

  beforeEach(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: { ...AUTH_ON, FOREST_AUTH_FAILURES_PER_MIN: '3' },
    });
  });

  afterEach(async () => {
    await subject?.close();
  });

  it('answer 429 with Retry-After after FOREST_AUTH_FAILURES_PER_MIN from one address; successes spend nothing', async () => {
    const app = subject.app;
    const good = { token: ADMIN_TOKEN, remoteAddress: '10.1.1.1' };
    const bad = { token: 'fst_aaaaaaaaaaaa_wrongwrongwrongwrong', remoteAddress: '10.1.1.1' };
    for (let i = 0; i < 10; i++) {
      expect((await call(app, 'GET', '/api/jobs', good)).statusCode).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      expect((await call(app, 'GET', '/api/jobs', bad)).statusCode).toBe(401);
    }
    const limited = await call(app, 'GET', '/api/jobs', bad);
    expect(limited.statusCode).toBe(429);
    expect(limited.body).toMatchObject({ status: 429, code: 'TOO_MANY_AUTH_FAILURES' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Until the minute ends, even a valid token from there waits (no oracle for guesses)...
    expect((await call(app, 'GET', '/api/jobs', good)).statusCode).toBe(429);
    // ...public routes stay open, and other addresses are not affected.
    expect((await call(app, 'GET', '/health', { remoteAddress: '10.1.1.1' })).statusCode).toBe(200);
    expect(
      (await call(app, 'GET', '/api/jobs', { ...good, remoteAddress: '10.2.2.2' })).statusCode,
    ).toBe(200);
  });
});
