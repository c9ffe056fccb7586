import { Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { JobRepository } from '../../src/job/job.repository';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { ADMIN_TOKEN, call as callAs, createToken } from '../auth/auth-test-support';
import { startTestApp, StoreKind, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';

type Json = Record<string, any>;

/** A schedule that never fires during a test (midnight, January 1st). */
const NEVER = '0 0 1 1 *';

const jobOf = (id: string, group: string, overrides: Json = {}): Json => ({
  id,
  name: `job ${id}`,
  group,
  schedule: { cron: NEVER },
  target: 'bulk.test',
  ...overrides,
});

describe.each<StoreKind>(['embedded', 'etcd'])('bulk job writes on the %s store', (kind) => {
  let etcd: EtcdHarness | undefined;
  let subject: TestApp;
  let store: CoordinationStore;

  beforeAll(async () => {
    if (kind === 'etcd') etcd = await EtcdHarness.start();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  beforeEach(async () => {
    subject = await startTestApp({ store: kind, etcdEndpoint: etcd?.endpoint });
    store = subject.app.get(COORDINATION_STORE);
  });

  afterEach(async () => {
    await subject?.close();
  });

  async function call(method: string, url: string, payload?: unknown) {
    const response = await subject.app.inject({
      method: method as 'GET',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      statusCode: response.statusCode,
      body: response.body ? response.json<Json>() : undefined,
    };
  }

  /** Every job in the store whose group does not exist. */
  async function orphans(): Promise<string[]> {
    const groups = new Set(
      (await store.range(Keyspace.groups)).kvs.map((kv) => kv.key.slice(Keyspace.groups.length)),
    );
    return (await store.range(Keyspace.jobs)).kvs
      .map((kv) => JSON.parse(kv.value) as { id: string; group: string })
      .filter((job) => !groups.has(job.group))
      .map((job) => job.id);
  }

  describe('creates in one group', () => {
    it('200 concurrent creates in one group all succeed', async () => {
      expect((await call('POST', '/api/groups', { name: 'busy' })).statusCode).toBe(201);
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => call('POST', '/api/jobs', jobOf(`c-${i}`, 'busy'))),
      );
      expect(answers.filter((a) => a.statusCode !== 201).map((a) => a.body)).toEqual([]);
      expect((await call('GET', '/api/jobs?group=busy')).body!.total).toBe(200);
    });

    it.each([false, true])(
      '200 concurrent creates racing a group delete (force %s) leave no orphan',
      async (force) => {
        expect((await call('POST', '/api/groups', { name: 'race' })).statusCode).toBe(201);
        const create = (i: number) => call('POST', '/api/jobs', jobOf(`r-${i}`, 'race'));
        const early = Array.from({ length: 100 }, (_, i) => create(i));
        // Let some creates land, then delete while the rest are in flight.
        await early[10];
        const deletion = call('DELETE', `/api/groups/race${force ? '?force=true' : ''}`);
        const late = Array.from({ length: 100 }, (_, i) => create(100 + i));
        const answers = await Promise.all([...early, ...late]);
        const deleted = await deletion;

        for (const answer of answers) {
          if (answer.statusCode === 201) continue;
          expect(answer.body).toMatchObject(
            answer.statusCode === 404
              ? { code: 'GROUP_NOT_FOUND' }
              : { status: 409, code: 'GROUP_DELETING' },
          );
        }
        expect(await orphans()).toEqual([]);
        const created = answers.filter((a) => a.statusCode === 201).map((a) => a.body!.id);
        expect(created.length).toBeGreaterThan(0);
        const stored = (await store.range(Keyspace.jobs)).kvs.map((kv) => JSON.parse(kv.value).id);
        if (deleted.statusCode === 204) {
          // The delete won: the group and every job created in it are gone.
          expect((await call('GET', '/api/groups/race')).statusCode).toBe(404);
          expect(stored.filter((id: string) => id.startsWith('r-'))).toEqual([]);
          expect(force).toBe(true);
        } else {
          // Refused (jobs were there): the group stays with every job that was created.
          expect(force).toBe(false);
          expect(deleted.body).toMatchObject({ status: 409, code: 'GROUP_NOT_EMPTY' });
          expect((await call('GET', '/api/groups/race')).statusCode).toBe(200);
          expect(stored.filter((id: string) => id.startsWith('r-')).sort()).toEqual(
            [...created].sort(),
          );
          // A refused delete leaves no marker behind: creates go on.
          expect((await create(500)).statusCode).toBe(201);
        }
      },
    );

    it('a crashed delete cannot block its group for long, nor leave an orphan', async () => {
      expect((await call('POST', '/api/groups', { name: 'g' })).statusCode).toBe(201);
      const repository = subject.app.get(JobRepository);
      const claim = (await repository.claimGroupDelete((await repository.getGroup('g'))!))!;
      // While the marker is set a create waits, then answers 409 (the "delete" never ends).
      const refused = await call('POST', '/api/jobs', jobOf('late', 'g'));
      expect(refused.body).toMatchObject({ status: 409, code: 'GROUP_DELETING' });
      // The marker lives on the delete's lease: once that is gone, creates go on.
      await store.revokeLease(claim.lease);
      expect((await call('POST', '/api/jobs', jobOf('later', 'g'))).statusCode).toBe(201);
      // The stale claim can no longer delete the group that now has a job.
      expect(await repository.deleteClaimedGroup(claim, [])).toBe('group-changed');
      expect(await orphans()).toEqual([]);
    }, 30_000);
  });

  describe('export and import', () => {
    beforeEach(async () => {
      for (const name of ['billing', 'reports']) {
        expect((await call('POST', '/api/groups', { name })).statusCode).toBe(201);
      }
    });

    it('exports definitions without server fields and imports them back', async () => {
      await call('POST', '/api/jobs', jobOf('a', 'billing', { params: { n: 1 }, remark: 'r' }));
      await call('POST', '/api/jobs', jobOf('b', 'reports', { concurrency: 'forbid' }));
      await call('POST', '/api/jobs/b/pause', {});
      const before = (await call('GET', '/api/jobs')).body!.items as Json[];

      const exported = (await call('GET', '/api/jobs/export')).body!;
      expect(exported.version).toBe(1);
      expect(exported.jobs.map((j: Json) => j.id)).toEqual(['a', 'b']);
      for (const job of exported.jobs) {
        expect(Object.keys(job)).not.toEqual(
          expect.arrayContaining(['createdAt', 'updatedAt', 'version']),
        );
        expect(job).not.toHaveProperty('createdAt');
        expect(job).not.toHaveProperty('version');
      }
      expect((await call('GET', '/api/jobs/export?group=reports')).body!.jobs).toHaveLength(1);

      // Into an empty cluster (here: the same one, emptied).
      for (const id of ['a', 'b']) await call('DELETE', `/api/jobs/${id}`);
      const imported = await call('POST', '/api/jobs/import', exported);
      expect(imported).toMatchObject({
        statusCode: 200,
        body: { mode: 'create', total: 2, created: 2, updated: 0 },
      });
      const after = (await call('GET', '/api/jobs')).body!.items as Json[];
      const definition = ({ createdAt, updatedAt, ...rest }: Json) => (void createdAt, rest);
      expect(after.map((job) => definition(job))).toEqual(
        before.map((job) => definition({ ...job, version: 1 })),
      );
    });

    it('validates the whole document, reports every problem at once and writes nothing', async () => {
      await call('POST', '/api/jobs', jobOf('exists', 'billing'));
      const document = {
        version: 1,
        jobs: [
          jobOf('ok-1', 'billing'),
          jobOf('bad-cron', 'billing', { schedule: { cron: 'every minute' } }),
          jobOf('ghost', 'nowhere'),
          jobOf('ok-1', 'reports'),
          jobOf('bad-plugin', 'billing', { dispatch: { strategy: 'teleport' } }),
          jobOf('exists', 'billing'),
          { ...jobOf('typo', 'billing'), colour: 'red' },
          'not a job',
          jobOf('ok-2', 'reports'),
          jobOf('export', 'reports'),
        ],
      };
      const answer = await call('POST', '/api/jobs/import', document);
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toMatchObject({ code: 'IMPORT_INVALID' });
      const problems = answer.body!.details.problems as Json[];
      expect([...new Set(problems.map((p) => p.index))]).toEqual([1, 2, 3, 4, 5, 6, 7, 9]);
      expect(problems.find((p) => p.index === 1)).toMatchObject({ field: 'schedule.cron' });
      expect(problems.find((p) => p.index === 2)).toMatchObject({ field: 'group' });
      expect(problems.find((p) => p.index === 3)!.problems[0]).toContain('jobs[0]');
      expect(problems.find((p) => p.index === 4)!.problems[0]).toContain('UNKNOWN_DISPATCH');
      expect(problems.find((p) => p.index === 5)!.problems[0]).toContain('already exists');
      expect(problems.find((p) => p.index === 6)).toMatchObject({ field: 'colour' });
      expect(answer.body!.details).toMatchObject({ invalidJobs: 8 });
      expect((await call('POST', '/api/jobs', jobOf('export', 'billing'))).statusCode).toBe(400);
      expect((await call('GET', '/api/jobs')).body!.total).toBe(1);

      for (const [body, field] of [
        [{ version: 2, jobs: [] }, 'version'],
        [{ version: 1 }, 'jobs'],
        [{ version: 1, jobs: [], mode: 'merge' }, 'mode'],
        [{ version: 1, jobs: [], redacted: true }, 'redacted'],
        [{ version: 1, jobs: [], extra: 1 }, 'extra'],
      ] as const) {
        const refused = await call('POST', '/api/jobs/import', body);
        expect({ field, status: refused.statusCode }).toEqual({ field, status: 400 });
        expect(refused.body!.message).toContain(field);
      }
    });

    it('upserts existing jobs in mode upsert, refuses them in mode create', async () => {
      await call('POST', '/api/jobs', jobOf('u', 'billing', { remark: 'old' }));
      const document = { version: 1, jobs: [jobOf('u', 'billing', { remark: 'new' })] };
      expect((await call('POST', '/api/jobs/import', document)).statusCode).toBe(400);
      const upserted = await call('POST', '/api/jobs/import', { ...document, mode: 'upsert' });
      expect(upserted.body).toMatchObject({ mode: 'upsert', created: 0, updated: 1 });
      expect((await call('GET', '/api/jobs/u')).body).toMatchObject({ remark: 'new', version: 2 });
    });

    it('undoes the txns already written when a later one meets a conflict', async () => {
      const repository = subject.app.get(JobRepository);
      const groups = new Map([['billing', (await repository.getGroup('billing'))!]]);
      const now = new Date().toISOString();
      const writes = Array.from({ length: 300 }, (_, i) => ({
        record: {
          ...(jobOf(`x-${String(i).padStart(3, '0')}`, 'billing') as any),
          schedule: { cron: NEVER, timezone: 'UTC' },
          createdAt: now,
          updatedAt: now,
          activeSince: now,
        },
      }));
      // Someone creates one of the ids of the last txn after the import was validated.
      await call('POST', '/api/jobs', jobOf('x-290', 'billing'));
      const outcome = await repository.writeImport(writes, groups);
      expect(outcome).toEqual({ kind: 'conflict', conflicts: ['x-290'], notUndone: [] });
      const left = (await store.range(Keyspace.jobs)).kvs.map((kv) => kv.key);
      expect(left).toEqual([Keyspace.job('x-290')]);
    });

    if (kind === 'embedded') {
      it('imports 10,000 jobs in one request, beyond the general body and key limits', async () => {
        const jobs = Array.from({ length: 10_000 }, (_, i) =>
          jobOf(`bulk-${String(i).padStart(5, '0')}`, i % 2 ? 'billing' : 'reports', {
            params: { region: 'eu', index: i, note: 'x'.repeat(40) },
            retry: { maxAttempts: 2 },
          }),
        );
        const payload = JSON.stringify({ version: 1, jobs });
        expect(payload.length).toBeGreaterThan(subject.config.httpBodyLimit);
        // Other routes keep the general limit.
        const big = await subject.app.inject({
          method: 'POST',
          url: '/api/jobs',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(big.statusCode).toBe(413);
        const answer = await subject.app.inject({
          method: 'POST',
          url: '/api/jobs/import',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(answer.statusCode).toBe(200);
        expect(answer.json()).toMatchObject({ total: 10_000, created: 10_000 });
        expect((await call('GET', '/api/jobs?limit=1')).body!.total).toBe(10_000);
        const exported = (await call('GET', '/api/jobs/export')).body!;
        expect(exported.jobs).toHaveLength(10_000);
      }, 120_000);
    }
  });
});

describe('bulk export and import with group-scoped tokens', () => {
  let subject: TestApp;

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    for (const name of ['a', 'b']) {
      await callAs(subject.app, 'POST', '/api/groups', { token: ADMIN_TOKEN, payload: { name } });
      await callAs(subject.app, 'POST', '/api/jobs', {
        token: ADMIN_TOKEN,
        payload: jobOf(`in-${name}`, name, { params: { secret: name } }),
      });
    }
  });

  afterAll(async () => {
    await subject?.close();
  });

  it('exports only the groups of the token, imports only into them', async () => {
    const app = subject.app;
    const { token } = await createToken(app, { name: 'op-a', role: 'operator', groups: ['a'] });
    const exported = await callAs(app, 'GET', '/api/jobs/export', { token });
    expect(exported.body.jobs.map((j: Json) => j.id)).toEqual(['in-a']);
    expect(exported.body.redacted).toBeUndefined();
    const intoB = await callAs(app, 'POST', '/api/jobs/import', {
      token,
      payload: { version: 1, jobs: [jobOf('new-a', 'a'), jobOf('new-b', 'b')] },
    });
    expect(intoB.body).toMatchObject({ status: 403, code: 'GROUP_OUT_OF_SCOPE' });
    // An id taken in a group it cannot see cannot be overwritten through upsert.
    const hidden = await callAs(app, 'POST', '/api/jobs/import', {
      token,
      payload: { version: 1, mode: 'upsert', jobs: [jobOf('in-b', 'a')] },
    });
    expect(hidden.body).toMatchObject({ status: 400, code: 'IMPORT_INVALID' });
    const ok = await callAs(app, 'POST', '/api/jobs/import', {
      token,
      payload: { version: 1, jobs: [jobOf('new-a', 'a')] },
    });
    expect(ok.body).toMatchObject({ created: 1 });
  });

  it('a viewer may export (params redacted, marked) but not import', async () => {
    const app = subject.app;
    const { token } = await createToken(app, { name: 'viewer', role: 'viewer' });
    const exported = await callAs(app, 'GET', '/api/jobs/export', { token });
    expect(exported.statusCode).toBe(200);
    expect(exported.body.redacted).toBe(true);
    expect(exported.body.jobs[0].params).toBe('[redacted]');
    const imported = await callAs(app, 'POST', '/api/jobs/import', {
      token,
      payload: { version: 1, jobs: [] },
    });
    expect(imported.statusCode).toBe(403);
    const back = await callAs(app, 'POST', '/api/jobs/import', {
      token: ADMIN_TOKEN,
      payload: { ...exported.body, mode: 'upsert' },
    });
    expect(back.body).toMatchObject({ status: 400, message: expect.stringContaining('redacted') });
  });
});
