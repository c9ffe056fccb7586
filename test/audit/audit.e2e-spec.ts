import { Keyspace } from '@forest/protocol';
import { CoordinationStore, StoreUnavailableError, TxnRequest } from '@forest/store';
import { AuditService } from '../../src/audit/audit.service';
import { AuditEntry } from '../../src/audit/audit.types';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';

type Json = Record<string, any>;

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';
const ACTOR = 'anonymous (auth off)';

describe('audit log (embedded store)', () => {
  let node: TestApp;
  let store: CoordinationStore;
  let audit: AuditService;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    node = await startTestApp({ store: 'embedded' });
    store = node.app.get(COORDINATION_STORE);
    audit = node.app.get(AuditService);
  });

  afterAll(async () => {
    await node?.close();
  });

  async function call(method: string, url: string, payload?: unknown) {
    const workerId = /^\/api\/workers\/[^/]+\/([^/?]+)/.exec(url)?.[1];
    const secret = workerId === undefined ? undefined : secrets.get(workerId);
    const response = await node.app.inject({
      method: method as 'GET',
      url,
      headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      statusCode: response.statusCode,
      body: response.body ? response.json<Json>() : {},
    };
  }

  /** The audit page after every queued entry is written. */
  async function list(query = ''): Promise<{ items: AuditEntry[]; next?: string }> {
    await audit.flush();
    const response = await call('GET', `/api/audit${query ? `?${query}` : ''}`);
    expect(response.statusCode).toBe(200);
    return response.body as { items: AuditEntry[]; next?: string };
  }

  const summary = (entries: AuditEntry[]) =>
    entries.map((entry) => `${entry.action} ${entry.object} ${entry.status}`);

  it('records who did what to which object, newest first, for every state-changing call', async () => {
    const started = Date.now();
    expect((await call('POST', '/api/groups', { name: 'billing' })).statusCode).toBe(201);
    const created = await call('POST', '/api/jobs', {
      id: 'nightly',
      name: 'nightly',
      group: 'billing',
      schedule: { cron: NEVER },
      target: 'report',
      params: { apiKey: 'do-not-log-me' },
    });
    expect(created.statusCode).toBe(201);
    expect((await call('POST', '/api/jobs/nightly/pause')).statusCode).toBe(200);
    const triggered = await call('POST', '/api/jobs/nightly/trigger', {});
    expect(triggered.statusCode).toBe(201);
    const executionId = triggered.body.id as string;
    const cancelled = await call('POST', `/api/executions/${executionId}/cancel`, { reason: 'x' });
    expect(cancelled.statusCode).toBe(200);
    expect((await call('DELETE', '/api/jobs/nightly')).statusCode).toBe(204);
    // A refused call is recorded with its status too.
    expect((await call('POST', '/api/jobs/ghost/pause')).statusCode).toBe(404);

    const { items } = await list();
    expect(summary(items)).toEqual([
      'job.pause job:ghost 404',
      'job.delete job:nightly 204',
      `execution.cancel execution:${executionId} 200`,
      'job.trigger job:nightly 201',
      'job.pause job:nightly 200',
      'job.create job:nightly 201',
      'group.create group:billing 201',
    ]);
    const pause = items[4];
    expect(pause).toEqual({
      id: expect.stringMatching(/^\d{15}-[0-9a-f]{8}$/),
      at: expect.any(String),
      actor: ACTOR,
      action: 'job.pause',
      method: 'POST',
      route: '/api/jobs/:id/pause',
      object: 'job:nightly',
      status: 200,
      node: 'test-node',
      ip: '127.0.0.1',
    });
    expect(Date.parse(pause.at)).toBeGreaterThanOrEqual(started);
    expect(pause.id.slice(0, 15)).toBe(String(Date.parse(pause.at)).padStart(15, '0'));
    // Stored under audit/{id}; never anything of a request body.
    const stored = await store.range(Keyspace.audit);
    expect(stored.kvs.map((kv) => kv.key)).toContain(`audit/${pause.id}`);
    expect(JSON.stringify(stored.kvs)).not.toContain('do-not-log-me');
  });

  it('filters by action, object, actor and time, and pages with a cursor', async () => {
    expect(summary((await list('action=job.pause')).items)).toEqual([
      'job.pause job:ghost 404',
      'job.pause job:nightly 200',
    ]);
    expect(summary((await list('object=job:nightly&action=job.*')).items)).toEqual([
      'job.delete job:nightly 204',
      'job.trigger job:nightly 201',
      'job.pause job:nightly 200',
      'job.create job:nightly 201',
    ]);
    expect((await list(`actor=${encodeURIComponent(ACTOR)}`)).items).toHaveLength(7);
    expect((await list('actor=someone-else')).items).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await list(`from=${future}`)).items).toEqual([]);
    expect((await list(`to=${new Date(0).toISOString()}`)).items).toEqual([]);

    const all = (await list()).items.map((entry) => entry.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items.map((entry) => entry.id));
      cursor = page.next;
    } while (cursor);
    expect(paged).toEqual(all);

    const bad = await call('GET', '/api/audit?cursor=nope&limit=0');
    expect(bad.statusCode).toBe(400);
  });

  it('does not record reads, nor a worker\u2019s heartbeats and reports; records register and leave', async () => {
    const before = (await list()).items.length;
    for (const url of ['/api/jobs', '/api/groups', '/api/executions', '/api/audit', '/health']) {
      await call('GET', url);
    }
    expect(await call('POST', '/api/schedules/preview', { cron: '* * * * *' })).toBeDefined();
    expect((await list()).items).toHaveLength(before);

    const registered = await call('POST', '/api/workers', {
      group: 'billing',
      targets: ['report'],
      capacity: 1,
      host: 'audit-host',
      pid: 1,
    });
    expect(registered.statusCode).toBe(201);
    const { workerId, sessionSecret } = registered.body;
    if (typeof sessionSecret === 'string') secrets.set(workerId, sessionSecret);
    const base = `/api/workers/billing/${workerId}`;
    expect((await call('POST', `${base}/heartbeat`, { held: [] })).statusCode).toBe(200);
    expect((await call('GET', `${base}/assignments?waitMs=0`)).statusCode).toBe(200);
    expect((await call('POST', `${base}/reports`, { reports: [] })).statusCode).toBeLessThan(500);
    expect((await call('DELETE', base)).statusCode).toBe(204);

    const { items } = await list();
    expect(summary(items.slice(0, items.length - before))).toEqual([
      `worker.leave worker:billing/${workerId} 204`,
      `worker.register worker:billing/${workerId} 201`,
    ]);
    expect(JSON.stringify(items)).not.toContain(String(sessionSecret));
  });

  it('a failing audit write never fails the request; the entry is written once the store is back', async () => {
    const realTxn = store.txn.bind(store);
    let refused = 0;
    const spy = jest.spyOn(store, 'txn').mockImplementation((request: TxnRequest) => {
      if (request.success.some((op) => op.type === 'put' && op.key.startsWith(Keyspace.audit))) {
        refused++;
        return Promise.reject(new StoreUnavailableError('audit write refused by the test'));
      }
      return realTxn(request);
    });
    try {
      const response = await call('POST', '/api/groups', { name: 'during-outage' });
      expect(response.statusCode).toBe(201);
      await audit.flush();
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(audit.stats.failedWrites).toBeGreaterThanOrEqual(1);
      expect(audit.stats.queued).toBe(1);
    } finally {
      spy.mockRestore();
    }
    // The writer retries after its backoff; the entry arrives.
    const deadline = Date.now() + 5000;
    let objects: string[] = [];
    while (Date.now() < deadline) {
      objects = (await list('action=group.create')).items.map((entry) => entry.object);
      if (objects.includes('group:during-outage')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(objects).toContain('group:during-outage');
  });
});

describe('audit log with FOREST_AUTH=on (embedded store)', () => {
  const ADMIN = 'audit-test-admin-token-0123456789abcdefghij';
  let node: TestApp;
  let audit: AuditService;

  beforeAll(async () => {
    node = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN },
    });
    audit = node.app.get(AuditService);
  });

  afterAll(async () => {
    await node?.close();
  });

  async function call(method: string, url: string, token?: string, payload?: unknown) {
    const response = await node.app.inject({
      method: method as 'GET',
      url,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { statusCode: response.statusCode, body: response.body ? response.json<Json>() : {} };
  }

  it('names the token as the actor, records refused calls, and is for admins only', async () => {
    const created = await call('POST', '/api/tokens', ADMIN, {
      name: 'ci-deployer',
      role: 'operator',
    });
    expect(created.statusCode).toBe(201);
    const operator = created.body.token as string;
    expect((await call('POST', '/api/groups', operator, { name: 'billing' })).statusCode).toBe(201);
    expect((await call('POST', '/api/groups', undefined, { name: 'nope' })).statusCode).toBe(401);
    expect((await call('DELETE', '/api/groups/billing', 'wrong-token')).statusCode).toBe(401);

    await audit.flush();
    expect((await call('GET', '/api/audit')).statusCode).toBe(401);
    expect((await call('GET', '/api/audit', operator)).statusCode).toBe(403);
    const page = await call('GET', '/api/audit', ADMIN);
    expect(page.statusCode).toBe(200);
    const items = page.body.items as AuditEntry[];
    expect(items.map((e) => `${e.actor} ${e.action} ${e.object} ${e.status}`)).toEqual([
      'unauthenticated group.delete group:billing 401',
      'unauthenticated group.create group 401',
      'ci-deployer group.create group:billing 201',
      `admin token.create token:${created.body.id} 201`,
    ]);
    expect(items[2].tokenId).toBe(created.body.id);
    expect(items[3].tokenId).toEqual(expect.any(String));
    expect(items[0].tokenId).toBeUndefined();
    expect(JSON.stringify(items)).not.toContain(operator);
    expect(JSON.stringify(items)).not.toContain(ADMIN);
  });
});
