import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { JobRecord, Keyspace } from '@forest/protocol';
import { CoordinationStore, isValidKeySegment, rangeAll } from '@forest/store';
import { CreateJobDto } from '../../src/job/dto/job.dto';
import { MAX_PARAMS_BYTES } from '../../src/job/job.service';
import { validateSchedule } from '../../src/schedule/cron-schedule';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, TestApp } from '../support/app-harness';

/**
 * Thousands of random and malformed bodies against create and update: the API never
 * answers 5xx, and whatever it accepted is a valid job in the store.
 */
describe('jobs API under random input (fast-check)', () => {
  let subject: TestApp;

  beforeAll(async () => {
    subject = await startTestApp({ store: 'embedded' });
    await subject.app.inject({ method: 'POST', url: '/api/groups', payload: { name: 'g' } });
    await subject.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: { id: 'fixed', name: 'n', group: 'g', schedule: { cron: '@daily' }, target: 't' },
    });
  });

  afterAll(async () => {
    await subject?.close();
  });

  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const cronish = fc.oneof(
    fc.constantFrom(
      '* * * * *',
      '0 0 * * *',
      '*/5 * * * * *',
      '@daily',
      '@reboot',
      '0 25 * * *',
      '* * *',
      '61 * * * * *',
      '',
    ),
    fc
      .array(fc.constantFrom('*', '0', '59', '*/2', '1-5', 'MON', 'x', '99', ','), {
        minLength: 1,
        maxLength: 7,
      })
      .map((parts) => parts.join(' ')),
    fc.string(),
  );
  const name = fc.oneof(
    fc.constantFrom('g', 'fixed', 'ghost', '..', '.', 'a/b', '', 'x'.repeat(65)),
    fc.string({ maxLength: 70 }),
  );
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const jobBody = fc.record(
    {
      id: maybe(name),
      name: maybe(fc.oneof(fc.string({ maxLength: 140 }), anyJson)),
      group: maybe(fc.oneof(name, anyJson)),
      schedule: maybe(
        fc.oneof(
          fc.record(
            {
              cron: fc.oneof(cronish, anyJson),
              timezone: maybe(fc.constantFrom('UTC', 'Europe/Berlin', 'Mars/Phobos', '', 'utc')),
            },
            { requiredKeys: [] },
          ),
          anyJson,
        ),
      ),
      target: maybe(fc.oneof(name, anyJson)),
      params: maybe(anyJson),
      state: maybe(fc.oneof(fc.constantFrom('active', 'paused', 'running'), anyJson)),
      concurrency: maybe(fc.constantFrom('allow', 'forbid', 'replace', 'never')),
      timeoutMs: maybe(fc.oneof(fc.integer({ min: -10, max: 10 ** 10 }), fc.double(), anyJson)),
      retry: maybe(
        fc.oneof(
          fc.record({
            maxAttempts: maybe(fc.integer({ min: -1, max: 200 })),
            initialDelayMs: maybe(fc.nat()),
            maxDelayMs: maybe(fc.nat()),
            backoff: maybe(fc.constantFrom('fixed', 'linear')),
          }),
          anyJson,
        ),
      ),
      misfire: maybe(
        fc.oneof(
          fc.record({
            policy: maybe(fc.constantFrom('skip', 'fire_all', 'never')),
            catchUpWindowMs: maybe(fc.integer()),
          }),
          anyJson,
        ),
      ),
      alerts: maybe(
        fc.oneof(
          fc.record({
            channels: maybe(fc.array(name, { maxLength: 3 })),
            events: maybe(fc.array(fc.constantFrom('failed', 'lost', 'boom'), { maxLength: 3 })),
          }),
          anyJson,
        ),
      ),
      dispatch: maybe(
        fc.oneof(fc.record({ strategy: maybe(name), options: maybe(anyJson) }), anyJson),
      ),
      version: maybe(fc.oneof(fc.integer({ min: -1, max: 5 }), anyJson)),
      unknownField: maybe(anyJson),
    },
    { requiredKeys: [] },
  );
  // Mostly-valid jobs with some fields swapped for random ones, so many bodies get past
  // validation and the store really receives a variety of jobs.
  const valid = {
    id: fc.stringMatching(/^[a-z0-9]{1,12}$/),
    name: fc.string({ minLength: 1, maxLength: 128 }),
    group: fc.constant('g'),
    schedule: fc.record({
      cron: fc.constantFrom('* * * * *', '*/5 * * * * *', '@daily', '0 30 2 * * 1-5'),
      timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
    }),
    target: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
    params: anyJson,
  };
  const nearlyValid = fc
    .tuple(fc.record(valid), jobBody, fc.subarray(Object.keys(valid)))
    .map(([good, random, swapped]) => {
      const out: Record<string, unknown> = { ...good };
      for (const key of swapped) out[key] = (random as Record<string, unknown>)[key];
      return out;
    });
  const body = fc.oneof(
    { weight: 4, arbitrary: nearlyValid },
    { weight: 4, arbitrary: jobBody },
    { weight: 1, arbitrary: anyJson },
  );

  it('never answers 5xx to create, PUT or PATCH', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('POST', 'PUT', 'PATCH'), async (payload, method) => {
        const url = method === 'POST' ? '/api/jobs' : '/api/jobs/fixed';
        const response = await subject.app.inject({
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        expect(response.statusCode).toBeLessThan(500);
        expect(response.statusCode).not.toBe(0);
        const error =
          response.statusCode >= 400
            ? response.json<{ code: string; message: string }>()
            : undefined;
        if (error) expect(error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  }, 180_000);

  it('leaves only valid jobs in the store', async () => {
    const store = subject.app.get<CoordinationStore>(COORDINATION_STORE);
    const stored = await rangeAll(store, Keyspace.jobs);
    expect(stored.length).toBeGreaterThan(50); // many random bodies were valid jobs
    for (const kv of stored) {
      const job = JSON.parse(kv.value) as JobRecord;
      expect(kv.key).toBe(Keyspace.job(job.id));
      expect(isValidKeySegment(job.id)).toBe(true);
      const { id, createdAt, updatedAt, activeSince, ...fields } = job;
      const dto = plainToInstance(CreateJobDto, { id, ...fields });
      expect(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
      expect(() => validateSchedule(job.schedule)).not.toThrow();
      expect(job.group).toBe('g');
      expect(Buffer.byteLength(JSON.stringify(job.params))).toBeLessThanOrEqual(MAX_PARAMS_BYTES);
      for (const time of [createdAt, updatedAt, activeSince]) {
        expect(Number.isNaN(Date.parse(time ?? ''))).toBe(false);
      }
    }
  });
});
