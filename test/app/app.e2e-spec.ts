import { Body, Controller, Get, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { RequireAccess } from '../../src/auth/access';
import { DomainError } from '../../src/common/domain-error';
import { EtcdHarness } from '../support/etcd-harness';
import { StoreKind, startTestApp, TestApp } from '../support/app-harness';

class ProbeScheduleDto {
  @IsString()
  cron: string;
}

class ProbeItemDto {
  @IsString()
  @Length(1, 10)
  name: string;

  @IsInt()
  @Min(0)
  @Max(10)
  count: number;

  @ValidateNested()
  @Type(() => ProbeScheduleDto)
  schedule: ProbeScheduleDto;
}

/** A controller that exists only in this test, to drive the global pipe and filter. */
@Controller('probe')
@RequireAccess('public')
class ProbeController {
  @Post('items')
  create(@Body() item: ProbeItemDto) {
    return { name: item.name, count: item.count, isDto: item instanceof ProbeItemDto };
  }

  @Get('missing')
  missing(): never {
    throw new DomainError('not_found', 'ITEM_NOT_FOUND', 'item "x" not found: check the id');
  }

  @Get('conflict')
  conflict(): never {
    throw new DomainError('conflict', 'VERSION_CONFLICT', 'item changed meanwhile', {
      currentVersion: 7,
    });
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret internals');
  }
}

describe.each<StoreKind>(['embedded', 'etcd'])('the HTTP app on the %s store', (kind) => {
  let etcd: EtcdHarness | undefined;
  let subject: TestApp;

  beforeAll(async () => {
    if (kind === 'etcd') etcd = await EtcdHarness.start();
    subject = await startTestApp({
      store: kind,
      etcdEndpoint: etcd?.endpoint,
      env: { FOREST_HTTP_BODY_LIMIT: '2048' },
      controllers: [ProbeController],
    });
  });

  afterAll(async () => {
    await subject?.close();
    await etcd?.stop();
  });

  const inject = (options: Parameters<TestApp['app']['inject']>[0]) => subject.app.inject(options);

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json', async () => {
    const ui = await inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.body).toContain('Swagger UI');

    const json = await inject({ method: 'GET', url: '/docs-json' });
    expect(json.statusCode).toBe(200);
    const document = json.json<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toContain('/health');
    expect(document.components.schemas).toHaveProperty('ErrorResponseDto');
  });

  it(`reports health with the ${kind} store up`, async () => {
    const response = await inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ok',
      info: { store: { status: 'up', kind, revision: expect.any(Number) } },
    });
  });

  it('accepts a valid body and hands the handler a DTO instance', async () => {
    const response = await inject({
      method: 'POST',
      url: '/probe/items',
      payload: { name: 'a', count: 3, schedule: { cron: '* * * * *' } },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ name: 'a', count: 3, isDto: true });
  });

  it('answers an invalid body with 400 naming every field, nested ones by path', async () => {
    const response = await inject({
      method: 'POST',
      url: '/probe/items',
      payload: { name: '', count: 'x', schedule: { cron: 5 } },
    });
    expect(response.statusCode).toBe(400);
    const body = response.json<{
      status: number;
      code: string;
      message: string;
      details: { field: string }[];
    }>();
    expect(body.status).toBe(400);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.message).toContain('name: must be longer than or equal to 1 characters');
    expect(body.message).toContain('count: must not be greater than 10');
    expect(body.message).toContain('schedule.cron: must be a string');
    expect(body.details.map((d) => d.field)).toEqual(['name', 'count', 'schedule.cron']);
  });

  it('rejects unknown fields instead of silently dropping them', async () => {
    const response = await inject({
      method: 'POST',
      url: '/probe/items',
      payload: { name: 'a', count: 1, schedule: { cron: '* * * * *' }, nmae: 'typo' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'nmae: property nmae should not exist',
    });
  });

  it('maps coded domain errors to their HTTP status with details', async () => {
    const missing = await inject({ method: 'GET', url: '/probe/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      status: 404,
      code: 'ITEM_NOT_FOUND',
      message: 'item "x" not found: check the id',
    });

    const conflict = await inject({ method: 'GET', url: '/probe/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({
      status: 409,
      code: 'VERSION_CONFLICT',
      message: 'item changed meanwhile',
      details: { currentVersion: 7 },
    });
  });

  it('hides internals of unexpected errors behind a 500 in the same shape', async () => {
    const response = await inject({ method: 'GET', url: '/probe/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'internal error; see the node log for details',
    });
    expect(response.body).not.toContain('secret');
  });

  it('answers an unknown route, a body over the limit and malformed JSON in the same shape', async () => {
    const unknown = await inject({ method: 'GET', url: '/api/no/such/route' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });

    const tooLarge = await inject({
      method: 'POST',
      url: '/probe/items',
      payload: { name: 'a', count: 1, schedule: { cron: 'x'.repeat(4096) } },
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toEqual({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'request body is too large: send at most 2048 bytes',
    });

    const malformed = await inject({
      method: 'POST',
      url: '/probe/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });
});
