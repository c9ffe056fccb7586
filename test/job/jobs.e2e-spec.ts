import { startTestApp, StoreKind, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';

type Json = Record<string, any>;

const validJob = (overrides: Json = {}): Json => ({
  name: 'nightly invoices',
  group: 'billing',
  schedule: { cron: '0 30 2 * * *', timezone: 'Europe/Berlin' },
  target: 'invoices.generate',
  ...overrides,
});

describe.each<StoreKind>(['embedded', 'etcd'])('groups and jobs API on the %s store', (kind) => {
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
    expect(
      (await call('POST', '/api/groups', { name: 'billing', remark: 'billing workers' }))
        .statusCode,
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
      body: response.body ? response.json<Json>() : undefined,
      headers: response.headers,
    };
  }

  async function createJob(overrides: Json = {}): Promise<Json> {
    const response = await call('POST', '/api/jobs', validJob(overrides));
    expect(response.statusCode).toBe(201);
    return response.body!;
  }

  describe('groups', () => {
    it('creates, lists, gets, updates and deletes a group', async () => {
      expect((await call('GET', '/api/groups')).body).toEqual({
        items: [expect.objectContaining({ name: 'billing', remark: 'billing workers' })],
      });
      expect((await call('GET', '/api/groups/billing')).body).toMatchObject({ name: 'billing' });
      const updated = await call('PUT', '/api/groups/billing', { remark: 'new remark' });
      expect(updated.body).toMatchObject({ name: 'billing', remark: 'new remark' });
      expect((await call('DELETE', '/api/groups/billing')).statusCode).toBe(204);
      expect((await call('GET', '/api/groups/billing')).statusCode).toBe(404);
    });

    it('refuses a duplicate, a bad name, an unknown group and unknown fields', async () => {
      expect(await call('POST', '/api/groups', { name: 'billing' })).toMatchObject({
        statusCode: 409,
        body: { code: 'GROUP_EXISTS' },
      });
      const bad = await call('POST', '/api/groups', { name: '../etc' });
      expect(bad.statusCode).toBe(400);
      expect(bad.body!.message).toContain('name: must be 1-64 characters of A-Z a-z 0-9 . _ -');
      expect((await call('POST', '/api/groups', { name: 'x'.repeat(65) })).statusCode).toBe(400);
      expect((await call('GET', '/api/groups/nope')).body).toMatchObject({
        status: 404,
        code: 'GROUP_NOT_FOUND',
      });
      expect((await call('GET', '/api/groups/a%2Fb')).statusCode).toBe(400);
      expect((await call('POST', '/api/groups', { name: 'ok', color: 'red' })).body!.message).toBe(
        'color: property color should not exist',
      );
      expect((await call('PUT', '/api/groups/nope', { remark: 'x' })).statusCode).toBe(404);
    });

    it('keeps a group with jobs unless force=true, which deletes its jobs too', async () => {
      const job = await createJob();
      const refused = await call('DELETE', '/api/groups/billing');
      expect(refused).toMatchObject({
        statusCode: 409,
        body: { code: 'GROUP_NOT_EMPTY', details: { jobCount: 1 } },
      });
      expect((await call('DELETE', '/api/groups/billing?force=maybe')).statusCode).toBe(400);
      expect((await call('DELETE', '/api/groups/billing?force=true')).statusCode).toBe(204);
      expect((await call('GET', `/api/jobs/${job.id}`)).statusCode).toBe(404);
    });
  });

  describe('jobs', () => {
    it('creates a job with a server id and every default, and reads it back', async () => {
      const created = await call('POST', '/api/jobs', validJob({ params: { region: 'eu' } }));
      expect(created.statusCode).toBe(201);
      expect(created.headers.etag).toBe('"1"');
      const job = created.body!;
      expect(job).toEqual({
        id: expect.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
        name: 'nightly invoices',
        group: 'billing',
        schedule: { cron: '0 30 2 * * *', timezone: 'Europe/Berlin' },
        target: 'invoices.generate',
        params: { region: 'eu' },
        state: 'active',
        dispatch: { strategy: 'round-robin', options: {} },
        concurrency: 'allow',
        timeoutMs: 0,
        retry: { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60000 },
        misfire: { policy: 'fire_once', catchUpWindowMs: 3600000 },
        alerts: { channels: [], events: ['failed', 'timed_out', 'lost'] },
        remark: '',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        version: 1,
      });
      expect((await call('GET', `/api/jobs/${job.id}`)).body).toEqual(job);
    });

    it('takes a client id once; a second create with it is 409', async () => {
      await createJob({ id: 'nightly-invoices' });
      expect(
        (await call('POST', '/api/jobs', validJob({ id: 'nightly-invoices' }))).body,
      ).toMatchObject({
        status: 409,
        code: 'JOB_EXISTS',
      });
    });

    it('answers each invalid field with 400 and a message that says what to fix', async () => {
      const cases: [Json, string][] = [
        [
          validJob({ schedule: { cron: '0 25 * * *' } }),
          'schedule.cron: hour 25 is out of range 0-23',
        ],
        [validJob({ schedule: { cron: '* * *' } }), 'schedule.cron: expected 5 fields'],
        [
          validJob({ schedule: { cron: '@daily', timezone: 'Mars/Phobos' } }),
          'schedule.timezone: unknown time zone "Mars/Phobos"',
        ],
        [validJob({ group: 'no/slash' }), 'group: must be 1-64 characters'],
        [validJob({ id: '..' }), 'id: must be 1-64 characters'],
        [validJob({ target: '' }), 'target: must be 1-64 characters'],
        [
          validJob({ state: 'running' }),
          'state: must be one of the following values: active, paused',
        ],
        [
          validJob({ concurrency: 'sometimes' }),
          'concurrency: must be one of the following values',
        ],
        [validJob({ timeoutMs: -1 }), 'timeoutMs: must not be less than 0'],
        [validJob({ retry: { maxAttempts: 1.5 } }), 'retry.maxAttempts: must be an integer number'],
        [
          validJob({ retry: { initialDelayMs: 5000, maxDelayMs: 10 } }),
          'retry.initialDelayMs: 5000 is larger than retry.maxDelayMs 10',
        ],
        [
          validJob({ misfire: { policy: 'later' } }),
          'misfire.policy: must be one of the following values: skip, fire_once, fire_all',
        ],
        [
          validJob({ alerts: { events: ['exploded'] } }),
          'alerts.events: each value in events must be one of the following values',
        ],
        [
          validJob({ alerts: { channels: ['a b'] } }),
          'alerts.channels: channel must be 1-64 characters',
        ],
        [validJob({ dispatch: { strategy: 'x/y' } }), 'dispatch.strategy: must be 1-64 characters'],
        [validJob({ name: undefined }), 'name: must be longer than or equal to 1 characters'],
        [validJob({ schedule: undefined }), 'schedule: should not be null or undefined'],
        [validJob({ extra: 1 }), 'extra: property extra should not exist'],
        [validJob({ retry: { tries: 3 } }), 'retry.tries: property tries should not exist'],
      ];
      for (const [body, message] of cases) {
        const response = await call('POST', '/api/jobs', body);
        expect({ body, status: response.statusCode }).toEqual({ body, status: 400 });
        expect(response.body!.code).toBe('VALIDATION_FAILED');
        expect(response.body!.message).toContain(message);
      }
      expect((await call('GET', '/api/jobs')).body!.total).toBe(0);
    });

    it('refuses a job in an unknown group (404) and params over 64 KiB (413)', async () => {
      expect((await call('POST', '/api/jobs', validJob({ group: 'ghost' }))).body).toMatchObject({
        status: 404,
        code: 'GROUP_NOT_FOUND',
      });
      const big = await call(
        'POST',
        '/api/jobs',
        validJob({ params: { blob: 'x'.repeat(70 * 1024) } }),
      );
      expect(big.body).toMatchObject({ status: 413, code: 'PARAMS_TOO_LARGE' });
      const huge = await call(
        'POST',
        '/api/jobs',
        validJob({ params: { blob: 'x'.repeat(2 * 1024 * 1024) } }),
      );
      expect(huge.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    });

    it('lists with filters, a total and cursor pagination', async () => {
      await call('POST', '/api/groups', { name: 'reports' });
      for (let i = 0; i < 7; i++) {
        await createJob({
          id: `job-${i}`,
          name: i % 2 ? `Invoice ${i}` : `report ${i}`,
          group: i < 5 ? 'billing' : 'reports',
        });
      }
      await call('POST', '/api/jobs/job-1/pause', {});

      const page1 = await call('GET', '/api/jobs?limit=3');
      expect(page1.body!.items.map((j: Json) => j.id)).toEqual(['job-0', 'job-1', 'job-2']);
      expect(page1.body).toMatchObject({ total: 7, next: expect.any(String) });
      const page2 = await call('GET', `/api/jobs?limit=3&cursor=${page1.body!.next}`);
      expect(page2.body!.items.map((j: Json) => j.id)).toEqual(['job-3', 'job-4', 'job-5']);
      const page3 = await call('GET', `/api/jobs?limit=3&cursor=${page2.body!.next}`);
      expect(page3.body).toMatchObject({
        total: 7,
        items: [expect.objectContaining({ id: 'job-6' })],
      });
      expect(page3.body!.next).toBeUndefined();
      // The old parameter is gone, and a cursor of another list is refused.
      expect((await call('GET', '/api/jobs?after=job-5')).statusCode).toBe(400);
      const groupsPage = await call('GET', '/api/groups?limit=1');
      expect(groupsPage.body!.items.map((g: Json) => g.name)).toEqual(['billing']);
      const groupsCursor = groupsPage.body!.next as string;
      expect((await call('GET', `/api/groups?cursor=${groupsCursor}`)).body).toEqual({
        items: [expect.objectContaining({ name: 'reports' })],
      });
      expect((await call('GET', `/api/jobs?cursor=${groupsCursor}`)).statusCode).toBe(400);
      expect((await call('GET', '/api/jobs?limit=501')).statusCode).toBe(400);

      expect((await call('GET', '/api/jobs?group=reports')).body!.total).toBe(2);
      expect(
        (await call('GET', '/api/jobs?name=INVOICE')).body!.items.map((j: Json) => j.id),
      ).toEqual(['job-1', 'job-3', 'job-5']);
      expect(
        (await call('GET', '/api/jobs?state=paused')).body!.items.map((j: Json) => j.id),
      ).toEqual(['job-1']);
      expect((await call('GET', '/api/jobs?limit=0')).statusCode).toBe(400);
      expect((await call('GET', '/api/jobs?sort=name')).statusCode).toBe(400);
    });

    it('PUT replaces (absent optional fields return to defaults) and needs the version', async () => {
      const job = await createJob({ remark: 'first', timeoutMs: 5000 });
      const body = validJob({ name: 'renamed', schedule: { cron: '@hourly' } });
      expect((await call('PUT', `/api/jobs/${job.id}`, body)).body).toMatchObject({
        status: 400,
        code: 'VERSION_REQUIRED',
      });

      const replaced = await call('PUT', `/api/jobs/${job.id}`, { ...body, version: 1 });
      expect(replaced.statusCode).toBe(200);
      expect(replaced.headers.etag).toBe('"2"');
      expect(replaced.body).toMatchObject({
        name: 'renamed',
        schedule: { cron: '@hourly', timezone: 'UTC' },
        remark: '',
        timeoutMs: 0,
        version: 2,
        createdAt: job.createdAt,
      });

      const stale = await call('PUT', `/api/jobs/${job.id}`, { ...body, version: 1 });
      expect(stale.body).toMatchObject({
        status: 409,
        code: 'VERSION_CONFLICT',
        details: { currentVersion: 2 },
      });
      expect(
        (await call('PUT', `/api/jobs/${job.id}`, body, { 'if-match': '"2"' })).body,
      ).toMatchObject({ version: 3 });
      expect(
        (await call('PUT', `/api/jobs/${job.id}`, body, { 'if-match': 'soon' })).statusCode,
      ).toBe(400);
      expect((await call('PUT', '/api/jobs/ghost', { ...body, version: 1 })).statusCode).toBe(404);
    });

    it('PATCH changes only what it names, merging policy blocks', async () => {
      const job = await createJob({ retry: { maxAttempts: 3 }, params: [1, 2] });
      const patched = await call('PATCH', `/api/jobs/${job.id}`, {
        version: 1,
        retry: { backoff: 'fixed' },
        schedule: { timezone: 'America/New_York' },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.body).toMatchObject({
        name: job.name,
        params: [1, 2],
        retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 1000 },
        schedule: { cron: '0 30 2 * * *', timezone: 'America/New_York' },
        version: 2,
      });
      const invalid = await call('PATCH', `/api/jobs/${job.id}`, {
        version: 2,
        schedule: { cron: '61 * * * * *' },
      });
      expect(invalid.body).toMatchObject({
        status: 400,
        message: expect.stringContaining('schedule.cron: second 61 is out of range 0-59'),
      });
      expect(
        (await call('PATCH', `/api/jobs/${job.id}`, { version: 2, group: 'ghost' })).statusCode,
      ).toBe(404);
      expect((await call('GET', `/api/jobs/${job.id}`)).body!.version).toBe(2);
    });

    it('pauses and resumes, with an optional version check', async () => {
      const job = await createJob();
      expect((await call('POST', `/api/jobs/${job.id}/pause`, {})).body).toMatchObject({
        state: 'paused',
        version: 2,
      });
      expect((await call('POST', `/api/jobs/${job.id}/resume`, { version: 1 })).body).toMatchObject(
        {
          status: 409,
          code: 'VERSION_CONFLICT',
        },
      );
      expect((await call('POST', `/api/jobs/${job.id}/resume`, { version: 2 })).body).toMatchObject(
        { state: 'active', version: 3 },
      );
      expect((await call('POST', '/api/jobs/ghost/pause', {})).statusCode).toBe(404);
    });

    it('deletes a job', async () => {
      const job = await createJob();
      expect((await call('DELETE', `/api/jobs/${job.id}`)).statusCode).toBe(204);
      expect((await call('DELETE', `/api/jobs/${job.id}`)).body).toMatchObject({
        status: 404,
        code: 'JOB_NOT_FOUND',
      });
    });

    it('of two concurrent updates from the same version exactly one wins', async () => {
      const job = await createJob();
      const results = await Promise.all(
        ['first', 'second', 'third'].map((remark) =>
          call('PATCH', `/api/jobs/${job.id}`, { version: 1, remark }),
        ),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
      const winner = results.find((r) => r.statusCode === 200)!.body!;
      expect((await call('GET', `/api/jobs/${job.id}`)).body).toMatchObject({
        remark: winner.remark,
        version: 2,
      });
    });
  });

  describe('schedules', () => {
    it('previews fire times in UTC and local time across a DST spring-forward', async () => {
      const response = await call('POST', '/api/schedules/preview', {
        cron: '0 30 2 * * *',
        timezone: 'Europe/Berlin',
        count: 3,
        after: '2026-03-27T12:00:00Z',
      });
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({
        cron: '0 30 2 * * *',
        timezone: 'Europe/Berlin',
        fires: [
          { utc: '2026-03-28T01:30:00.000Z', local: '2026-03-28T02:30:00', offset: '+01:00' },
          // 02:30 does not exist on 29 March in Berlin: it fires after the jump, at 03:30.
          { utc: '2026-03-29T01:30:00.000Z', local: '2026-03-29T03:30:00', offset: '+02:00' },
          { utc: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30:00', offset: '+02:00' },
        ],
      });
      expect(
        (await call('POST', '/api/schedules/preview', { cron: '0 99 * * *' })).statusCode,
      ).toBe(400);
      expect(
        (await call('POST', '/api/schedules/preview', { cron: '@daily', count: 1000 })).statusCode,
      ).toBe(400);
      expect(
        (await call('POST', '/api/schedules/preview', { cron: '@daily', after: 'yesterday' }))
          .statusCode,
      ).toBe(400);
    });

    it("gives a job's next fires", async () => {
      const job = await createJob({ schedule: { cron: '*/15 * * * *', timezone: 'Asia/Kolkata' } });
      const response = await call('GET', `/api/jobs/${job.id}/next-fires?count=4`);
      expect(response.statusCode).toBe(200);
      const fires = response.body!.fires as Json[];
      expect(fires).toHaveLength(4);
      fires.forEach((fire) => expect(fire.offset).toBe('+05:30'));
      const gaps = fires.slice(1).map((fire, i) => Date.parse(fire.utc) - Date.parse(fires[i].utc));
      expect(gaps).toEqual([900_000, 900_000, 900_000]);
      expect((await call('GET', `/api/jobs/${job.id}/next-fires?count=0`)).statusCode).toBe(400);
      expect((await call('GET', '/api/jobs/ghost/next-fires')).statusCode).toBe(404);
    });
  });

  it('documents every endpoint in Swagger with its error responses', async () => {
    const document = (await call('GET', '/docs-json')).body!;
    const paths = document.paths as Record<string, Record<string, Json>>;
    for (const path of [
      '/api/groups',
      '/api/groups/{name}',
      '/api/jobs',
      '/api/jobs/{id}',
      '/api/jobs/{id}/pause',
      '/api/jobs/{id}/resume',
      '/api/jobs/{id}/next-fires',
      '/api/schedules/preview',
    ]) {
      expect(Object.keys(paths)).toContain(path);
    }
    expect(Object.keys(paths['/api/jobs/{id}'].put.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '409']),
    );
    expect(paths['/api/jobs'].post.requestBody).toBeDefined();
    expect(document.components.schemas.CreateJobDto.properties).toHaveProperty('schedule');
  });
});
