import fc from 'fast-check';
import { InjectOptions } from 'light-my-request';
import { startTestApp, TestApp } from '../support/app-harness';

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  allOf?: Schema[];
  oneOf?: Schema[];
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Every operation of the OpenAPI document (GET /docs-json) with random path values,
 * queries, headers and bodies: values shaped after the schema, junk of every type, huge
 * strings, deep nesting, unicode, malformed JSON, other media types. No answer is a 5xx,
 * and every error has the one shape.
 */
/**
 * The body of an answer read as a stream: undefined for an open event stream (200), which
 * is closed at once (the node ends the rest when it stops), else the whole (error) body.
 */
async function streamedAnswer(response: {
  statusCode: number;
  stream(): NodeJS.ReadableStream & { destroy(): void };
}): Promise<string | undefined> {
  const stream = response.stream();
  if (response.statusCode === 200) {
    stream.destroy();
    return undefined;
  }
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('every API operation under random requests (fast-check)', () => {
  let node: TestApp;
  let document: OpenApi;
  let workerId = 'w';
  let workerSecret = '';
  let largestError = { bytes: 0, example: '' };

  beforeAll(async () => {
    node = await startTestApp({ store: 'embedded' });
    const inject = (options: InjectOptions) => node.app.inject(options);
    document = (await inject({ method: 'GET', url: '/docs-json' })).json<OpenApi>();
    await inject({ method: 'POST', url: '/api/groups', payload: { name: 'g' } });
    await inject({
      method: 'POST',
      url: '/api/jobs',
      payload: { id: 'fixed', name: 'n', group: 'g', schedule: { cron: '@daily' }, target: 't' },
    });
    const worker = await inject({
      method: 'POST',
      url: '/api/workers',
      payload: { group: 'g', targets: ['t'], capacity: 2, host: 'h', pid: 1 },
    });
    const registered = worker.json<{ workerId?: string; sessionSecret?: string }>();
    workerId = registered.workerId ?? workerId;
    workerSecret = registered.sessionSecret ?? '';
  });

  afterAll(async () => {
    process.stdout.write(
      `largest error answer: ${largestError.bytes} bytes: ${largestError.example}\n`,
    );
    await node?.close();
  });

  const deepText = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const unicode = fc.string({ unit: 'binary', maxLength: 40 });
  const huge = fc.integer({ min: 1000, max: 200_000 }).map((n) => 'ü'.repeat(n));
  const junk: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1e308, -0, '', ' ', '0', 'null', '__proto__'),
    fc.integer(),
    fc.double(),
    unicode,
    huge,
    fc.jsonValue({ maxDepth: 4 }),
    fc.integer({ min: 10, max: 80 }).map((n) => JSON.parse(deepText(n)) as unknown),
    fc.array(fc.integer(), { maxLength: 50 }),
    fc.dictionary(unicode, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 20 }),
  );

  function resolve(schema: Schema): Schema {
    if (schema.$ref) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
    return schema;
  }

  /** Values shaped after the schema (examples, enums, types), mixed with junk. */
  function valueOf(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    const resolved = resolve(schema);
    const shaped: fc.Arbitrary<unknown>[] = [];
    if (resolved.example !== undefined) shaped.push(fc.constant(resolved.example));
    if (resolved.enum) shaped.push(fc.constantFrom(...resolved.enum));
    if (resolved.properties && depth < 4) shaped.push(bodyOf(resolved, depth + 1));
    else if (resolved.type === 'array' && resolved.items && depth < 4) {
      shaped.push(fc.array(valueOf(resolved.items, depth + 1), { maxLength: 4 }));
    } else if (resolved.type === 'string') shaped.push(fc.string({ maxLength: 80 }));
    else if (resolved.type === 'number' || resolved.type === 'integer') {
      shaped.push(fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double()));
    } else if (resolved.type === 'boolean') shaped.push(fc.boolean());
    return shaped.length > 0
      ? fc.oneof({ arbitrary: fc.oneof(...shaped), weight: 3 }, { arbitrary: junk, weight: 1 })
      : junk;
  }

  function bodyOf(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
    const properties = resolve(schema).properties ?? {};
    const record = fc.record(
      Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, valueOf(s, depth)])),
      { requiredKeys: [] },
    );
    return fc.oneof(
      { arbitrary: record, weight: 4 },
      {
        arbitrary: fc
          .tuple(record, fc.dictionary(unicode, junk, { maxKeys: 3 }))
          .map(([r, extra]) => ({ ...extra, ...(r as object) })),
        weight: 1,
      },
    );
  }

  const pathValue = fc.oneof(
    fc.constantFrom('g', 'fixed', 'ghost', '..', '.', 'a b', 'fixed~001', '%', '__proto__'),
    fc.constant('').map(() => workerId),
    unicode.filter((s) => s.length > 0),
    fc.integer({ min: 100, max: 5000 }).map((n) => 'x'.repeat(n)),
  );
  const queryValue = fc.oneof(
    fc.constantFrom('0', '1', '-1', '10', '1000000', 'abc', '', 'true', '1e400', 'NaN'),
    unicode,
    fc.integer({ min: 100, max: 4000 }).map((n) => 'q'.repeat(n)),
  );
  // The long poll waits as long as waitMs allows: kept at values that answer at once.
  const waitMs = fc.constantFrom('0', '-1', 'abc', '', '1.5', '1e400');

  const rawBody = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: junk.map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
    {
      arbitrary: fc.constantFrom(
        '{"a": ',
        '{',
        'nul',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        deepText(100_000),
        `{"a":${deepText(5000)}}`,
        `[${'0,'.repeat(30_000)}0]`,
        '\uFEFF{}',
        '"\\ud800"',
      ),
      weight: 1,
    },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
    'application/json; charset=latin1',
    'multipart/form-data; boundary=x',
    'nonsense',
  );

  type Request = {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: string;
    /** The answer is an endless event stream (GET /api/events): read only its status. */
    streaming: boolean;
  };

  function requestsFor(path: string, method: string, operation: Operation): fc.Arbitrary<Request> {
    const parameters = operation.parameters ?? [];
    const pathParams = parameters.filter((p) => p.in === 'path');
    const queryParams = parameters.filter((p) => p.in === 'query');
    const bodySchema = operation.requestBody?.content['application/json']?.schema;
    const body = fc.oneof(
      { arbitrary: rawBody, weight: 1 },
      ...(bodySchema
        ? [{ arbitrary: bodyOf(bodySchema).map((v) => JSON.stringify(v)), weight: 3 }]
        : []),
    );
    return fc
      .record({
        pathValues: fc.tuple(...pathParams.map(() => pathValue)),
        query: fc.record(
          Object.fromEntries(
            queryParams.map((p) => [p.name, p.name === 'waitMs' ? waitMs : queryValue]),
          ),
          { requiredKeys: [] },
        ),
        extraQuery: fc.dictionary(fc.string({ maxLength: 8 }), queryValue, { maxKeys: 2 }),
        payload: method === 'get' || method === 'delete' ? fc.constant(undefined) : body,
        contentType,
        ifMatch: fc.option(fc.oneof(fc.constantFrom('"1"', '*', '"abc"', ''), unicode)),
        bearer: fc.boolean(),
      })
      .map((r) => {
        let url = path;
        pathParams.forEach((p, i) => {
          url = url.replace(`{${p.name}}`, encodeURIComponent(r.pathValues[i]));
        });
        const query = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...r.extraQuery, ...r.query })) {
          if (v !== undefined) query.set(k, v);
        }
        // A long poll for a registered worker legitimately waits up to waitMs: a few of those
        // use up the time limit without finding anything, so polls answer at once here.
        if (path.endsWith('/assignments') && Number(query.get('waitMs') ?? 0) > 0) {
          query.set('waitMs', '0');
        }
        const search = query.toString();
        const headers: Record<string, string> = {};
        if (r.payload !== undefined) headers['content-type'] = r.contentType;
        if (r.ifMatch !== null) headers['if-match'] = r.ifMatch.replace(/[^\x20-\x7e]/g, '');
        if (r.bearer && workerSecret) headers.authorization = `Bearer ${workerSecret}`;
        return {
          method: method.toUpperCase(),
          url: search ? `${url}?${search}` : url,
          headers,
          payload: r.payload,
          streaming: operation.responses?.['200']?.content?.['text/event-stream'] !== undefined,
        };
      });
  }

  it('never answers 5xx, and every error has the one shape', async () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => requestsFor(path, method, operation)),
    );
    expect(operations.length).toBeGreaterThan(30);
    const started = performance.now();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(...operations), async (request) => {
        runs++;
        const response = await node.app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          ...(request.payload === undefined ? {} : { payload: request.payload }),
          ...(request.streaming ? { payloadAsStream: true } : {}),
        });
        if (request.streaming) {
          const answer = await streamedAnswer(response);
          if (answer === undefined) return;
          Object.assign(response, { body: answer, json: () => JSON.parse(answer) as unknown });
        }
        if (response.statusCode >= 500) {
          throw new Error(
            `${request.method} ${request.url.slice(0, 200)} -> ${response.statusCode} ${response.body.slice(0, 300)}`,
          );
        }
        if (response.statusCode >= 400) {
          const body = response.json<{ status: number; code: string; message: string }>();
          expect(body.status).toBe(response.statusCode);
          expect(typeof body.code).toBe('string');
          expect(typeof body.message).toBe('string');
          if (response.body.length > largestError.bytes) {
            largestError = {
              bytes: response.body.length,
              example: `${request.method} ${request.url.slice(0, 80)} -> ${response.body.slice(0, 200)}`,
            };
          }
        }
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 600),
        interruptAfterTimeLimit: 90_000,
        seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
      },
    );
    process.stdout.write(
      `openapi fuzz: ${runs} requests over ${operations.length} operations in ${(performance.now() - started).toFixed(0)} ms\n`,
    );
    expect(runs).toBeGreaterThanOrEqual(300);
  }, 120_000);
});
