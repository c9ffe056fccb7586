import { Controller, Get } from '@nestjs/common';
import { AccessLevel } from '../../src/auth/access';
import { startTestApp, TestApp } from '../support/app-harness';
import { ADMIN_TOKEN, Answer, call, createToken, Json, jobBody } from './auth-test-support';

/**
 * Who may call each route, by `METHOD path` as the OpenAPI document names it. A route the
 * document lists and this table does not fails the test: a new route must be added here,
 * with the access level it declares.
 */
const EXPECTED: Record<string, AccessLevel> = {
  'GET /health': 'public',
  'GET /metrics': 'metrics',
  'POST /api/groups': 'operate',
  'GET /api/groups': 'read',
  'GET /api/groups/{name}': 'read',
  'PUT /api/groups/{name}': 'operate',
  'DELETE /api/groups/{name}': 'operate',
  'POST /api/jobs': 'operate',
  'GET /api/jobs': 'read',
  'GET /api/jobs/export': 'read',
  'POST /api/jobs/import': 'operate',
  'GET /api/jobs/{id}': 'read',
  'PUT /api/jobs/{id}': 'operate',
  'PATCH /api/jobs/{id}': 'operate',
  'DELETE /api/jobs/{id}': 'operate',
  'POST /api/jobs/{id}/pause': 'operate',
  'POST /api/jobs/{id}/resume': 'operate',
  'GET /api/jobs/{id}/next-fires': 'read',
  'POST /api/jobs/{id}/trigger': 'operate',
  'POST /api/schedules/preview': 'read',
  'GET /api/executions': 'read',
  'GET /api/executions/{id}': 'read',
  'POST /api/executions/{id}/cancel': 'operate',
  'GET /api/executions/{id}/logs': 'read',
  'GET /api/executions/{id}/logs/follow': 'read',
  'GET /api/plan': 'read',
  'GET /api/nodes': 'read',
  'GET /api/nodes/leader': 'read',
  'GET /api/nodes/self': 'read',
  'GET /api/plugins': 'read',
  'GET /api/alerts': 'read',
  'POST /api/tokens': 'admin',
  'GET /api/tokens': 'admin',
  'GET /api/tokens/self': 'read',
  'DELETE /api/tokens/{id}': 'admin',
  'GET /api/audit': 'admin',
  'GET /api/events': 'read',
  'GET /api/stats/overview': 'read',
  'POST /api/workers': 'worker-register',
  'GET /api/workers': 'read',
  'POST /api/workers/{group}/{workerId}/heartbeat': 'worker-session',
  'GET /api/workers/{group}/{workerId}/assignments': 'worker-session',
  'POST /api/workers/{group}/{workerId}/reports': 'worker-session',
  'POST /api/workers/{group}/{workerId}/executions/{executionId}/report': 'worker-session',
  'POST /api/workers/{group}/{workerId}/logs': 'worker-session',
  'DELETE /api/workers/{group}/{workerId}': 'worker-session',
};

type TokenLevel = Exclude<AccessLevel, 'public' | 'worker-session'>;
type TokenName = 'admin' | 'operator' | 'viewer' | 'worker';

/** The least role that may call a route of each level, and one that may not. */
const ALLOWED: Record<TokenLevel, TokenName> = {
  read: 'viewer',
  metrics: 'viewer',
  operate: 'operator',
  admin: 'admin',
  'worker-register': 'worker',
};
const DENIED: Record<TokenLevel, TokenName> = {
  read: 'worker',
  metrics: 'worker',
  operate: 'viewer',
  admin: 'operator',
  'worker-register': 'viewer',
};

const GROUP = 'rt';
const JOB = 'rt-job';

interface Route {
  method: string;
  path: string;
  name: string;
  level: AccessLevel | undefined;
}

describe('every route declares its access, and the guard enforces it (FOREST_AUTH=on)', () => {
  let subject: TestApp;
  const tokens = {} as Record<TokenName, string>;
  let executionId: string;
  let spareTokenId: string;
  let worker: { workerId: string; sessionSecret: string };
  let routes: Route[];

  const send = (route: Route, token?: string, authorization?: string): Promise<Answer> =>
    call(subject.app, route.method, urlOf(route), {
      token,
      authorization,
      payload: bodyOf(route),
    });

  function urlOf(route: Route): string {
    const values: Record<string, string> = {
      name: GROUP,
      group: GROUP,
      workerId: worker.workerId,
      executionId,
      id: route.path.startsWith('/api/executions')
        ? executionId
        : route.path.startsWith('/api/tokens')
          ? spareTokenId
          : JOB,
    };
    const path = route.path.replace(/\{(\w+)\}/g, (_all, param: string) => values[param] ?? 'x');
    if (route.path.endsWith('/assignments')) return `${path}?waitMs=0`;
    // The event stream never ends, and inject waits for the end: a filter it refuses (400)
    // is answered after the guard decided, which is what this test checks.
    if (route.path === '/api/events') return `${path}?types=none`;
    if (route.path.endsWith('/logs/follow')) return `${path}?after=none`;
    return path;
  }

  function bodyOf(route: Route): unknown {
    switch (route.name) {
      case 'POST /api/groups':
        return { name: 'rt-new' };
      case 'PUT /api/groups/{name}':
        return { remark: 'routes test' };
      case 'POST /api/jobs':
        return jobBody('rt-new-job', GROUP);
      case 'POST /api/jobs/import':
        return { version: 1, mode: 'upsert', jobs: [jobBody('rt-imported-job', GROUP)] };
      case 'PUT /api/jobs/{id}':
        return { ...jobBody(JOB, GROUP), version: 1 };
      case 'PATCH /api/jobs/{id}':
        return { remark: 'routes test' };
      case 'POST /api/schedules/preview':
        return { cron: '*/5 * * * *' };
      case 'POST /api/tokens':
        return { name: 'rt-created', role: 'viewer' };
      case 'POST /api/workers':
        return { group: GROUP, targets: ['auth.test'], capacity: 1, host: 'rt-host', pid: 1 };
      case 'POST /api/workers/{group}/{workerId}/heartbeat':
        return { held: [] };
      case 'POST /api/workers/{group}/{workerId}/reports':
        return { reports: [{ executionId, status: 'running' }] };
      case 'POST /api/workers/{group}/{workerId}/executions/{executionId}/report':
        return { status: 'running' };
      case 'POST /api/workers/{group}/{workerId}/logs':
        return {
          executions: [{ executionId, lines: [{ seq: 1, atMs: 1, level: 'info', text: 'rt' }] }],
        };
      default:
        return route.method === 'GET' || route.method === 'DELETE' ? undefined : {};
    }
  }

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: {
        FOREST_AUTH: 'on',
        FOREST_ADMIN_TOKEN: ADMIN_TOKEN,
        // This test fails authentication on purpose, many times.
        FOREST_AUTH_FAILURES_PER_MIN: '100000',
      },
    });
    const app = subject.app;
    tokens.admin = ADMIN_TOKEN;
    for (const role of ['operator', 'viewer'] as const) {
      tokens[role] = (await createToken(app, { name: `rt-${role}`, role })).token;
    }
    tokens.worker = (
      await createToken(app, { name: 'rt-worker', role: 'worker', groups: [GROUP] })
    ).token;
    spareTokenId = (await createToken(app, { name: 'rt-spare', role: 'viewer' })).id;
    const admin = { token: ADMIN_TOKEN };
    expect(
      (await call(app, 'POST', '/api/groups', { ...admin, payload: { name: GROUP } })).statusCode,
    ).toBe(201);
    expect(
      (await call(app, 'POST', '/api/jobs', { ...admin, payload: jobBody(JOB, GROUP) })).statusCode,
    ).toBe(201);
    const triggered = await call(app, 'POST', `/api/jobs/${JOB}/trigger`, {
      ...admin,
      payload: {},
    });
    expect(triggered.statusCode).toBe(201);
    executionId = triggered.body.id;
    const registered = await call(app, 'POST', '/api/workers', {
      token: tokens.worker,
      payload: { group: GROUP, targets: ['auth.test'], capacity: 1, host: 'rt-host', pid: 1 },
    });
    expect(registered.statusCode).toBe(201);
    worker = { workerId: registered.body.workerId, sessionSecret: registered.body.sessionSecret };

    const doc = await call(app, 'GET', '/docs-json');
    expect(doc.statusCode).toBe(200);
    routes = Object.entries(doc.body.paths as Record<string, Json>)
      .flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map((method) => {
            const name = `${method.toUpperCase()} ${path}`;
            return { method: method.toUpperCase(), path, name, level: EXPECTED[name] };
          }),
      )
      // Destructive calls last, the worker's own leave at the very end.
      .sort((a, b) => rank(a) - rank(b));
  });

  afterAll(async () => {
    await subject?.close();
  });

  function rank(route: Route): number {
    if (route.name === 'DELETE /api/workers/{group}/{workerId}') return 2;
    return route.method === 'DELETE' ? 1 : 0;
  }

  const tokenRoutes = () =>
    routes.filter(
      (route): route is Route & { level: TokenLevel } =>
        route.level !== undefined && route.level !== 'public' && route.level !== 'worker-session',
    );
  const sessionRoutes = () => routes.filter((route) => route.level === 'worker-session');

  it('knows every route of the OpenAPI document, and the document every route it knows', () => {
    const documented = routes.map((route) => route.name);
    expect(documented.filter((name) => EXPECTED[name] === undefined)).toEqual([]);
    expect(Object.keys(EXPECTED).filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('answers 401 UNAUTHENTICATED (WWW-Authenticate: Bearer) without a token or with a bad one', async () => {
    const problems: string[] = [];
    for (const route of tokenRoutes()) {
      for (const [what, authorization] of [
        ['no token', undefined],
        ['an unknown token', 'Bearer fst_aaaaaaaaaaaa_bogusbogusbogusbogusbogus'],
        ['a wrong admin token', `Bearer ${ADMIN_TOKEN}x`],
        ['another scheme', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`],
      ] as const) {
        const answer = await send(route, undefined, authorization);
        if (
          answer.statusCode !== 401 ||
          answer.body.code !== 'UNAUTHENTICATED' ||
          !String(answer.headers['www-authenticate']).startsWith('Bearer')
        ) {
          problems.push(`${route.name} with ${what}: ${answer.statusCode} ${answer.text}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers 403 FORBIDDEN to a token whose role is not enough', async () => {
    const problems: string[] = [];
    for (const route of tokenRoutes()) {
      const role = DENIED[route.level];
      const answer = await send(route, tokens[role]);
      if (answer.statusCode !== 403 || answer.body.code !== 'FORBIDDEN') {
        problems.push(`${route.name} as ${role}: ${answer.statusCode} ${answer.text}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets public routes through without a token, the Swagger UI included', async () => {
    for (const route of routes.filter((r) => r.level === 'public')) {
      expect((await send(route)).statusCode).toBe(200);
    }
    const ui = await call(subject.app, 'GET', '/docs');
    expect([200, 301, 302]).toContain(ui.statusCode);
    expect((await call(subject.app, 'GET', '/docs-json')).statusCode).toBe(200);
  });

  it('documents the bearer scheme on every route that needs a token', async () => {
    const doc = (await call(subject.app, 'GET', '/docs-json')).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const problems = tokenRoutes()
      .filter((route) => {
        const security = doc.paths[route.path][route.method.toLowerCase()].security as
          Json[] | undefined;
        return !security?.some((entry) => 'bearer' in entry);
      })
      .map((route) => route.name);
    expect(problems).toEqual([]);
  });

  it('lets the right role through (anything but 401/403), each role and every role above it', async () => {
    const above: Record<TokenLevel, TokenName[]> = {
      read: ['viewer', 'operator', 'admin'],
      metrics: ['viewer', 'operator', 'admin'],
      operate: ['operator', 'admin'],
      admin: ['admin'],
      'worker-register': ['worker', 'admin'],
    };
    const problems: string[] = [];
    for (const route of tokenRoutes()) {
      for (const role of above[route.level]) {
        const answer = await send(route, tokens[role]);
        if (answer.statusCode === 401 || answer.statusCode === 403) {
          problems.push(`${route.name} as ${role}: ${answer.statusCode} ${answer.text}`);
        }
      }
      expect(ALLOWED[route.level]).toBe(above[route.level][0]);
    }
    expect(problems).toEqual([]);
  });

  it('leaves worker-session routes to the worker session: 401 without it, refused with any API token, through with it', async () => {
    const problems: string[] = [];
    for (const route of sessionRoutes()) {
      const bare = await send(route);
      if (bare.statusCode !== 401) problems.push(`${route.name} bare: ${bare.statusCode}`);
      for (const role of ['admin', 'operator', 'viewer', 'worker'] as const) {
        const answer = await send(route, tokens[role]);
        if (answer.statusCode !== 401 && answer.statusCode !== 403) {
          problems.push(`${route.name} with the ${role} API token: ${answer.statusCode}`);
        }
      }
      const own = await send(route, worker.sessionSecret);
      if (own.statusCode === 401 || own.statusCode === 403) {
        problems.push(`${route.name} with its session secret: ${own.statusCode} ${own.text}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** A controller that forgot @RequireAccess. */
@Controller('undeclared')
class UndeclaredController {
  @Get()
  get() {
    return { reached: true };
  }
}

describe('a route without @RequireAccess', () => {
  it.each(['off', 'on'])(
    'is refused with FOREST_AUTH=%s (403 ROUTE_NOT_DECLARED)',
    async (auth) => {
      const subject = await startTestApp({
        store: 'embedded',
        env: auth === 'on' ? { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN } : {},
        controllers: [UndeclaredController],
      });
      try {
        const answer = await call(subject.app, 'GET', '/undeclared', { token: ADMIN_TOKEN });
        expect(answer.statusCode).toBe(403);
        expect(answer.body).toMatchObject({ status: 403, code: 'ROUTE_NOT_DECLARED' });
      } finally {
        await subject.close();
      }
    },
  );
});
