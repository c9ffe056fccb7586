import { ExecutionContext, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForestConfig } from '../config/forest.config';
import {
  ACCESS_LEVELS,
  AccessLevel,
  principalOf,
  RequireAccess,
  ROLES,
  roleAllows,
  TokenPrincipal,
} from './access';
import { AuthFailureLimiter } from './auth-failure.limiter';
import {
  ForbiddenError,
  RouteNotDeclaredError,
  TooManyAuthFailuresError,
  UnauthenticatedError,
} from './auth.errors';
import { AuthGuard } from './auth.guard';
import { TokenService } from './token.service';

class Routes {
  @RequireAccess('public') publicRoute() {}
  @RequireAccess('read') readRoute() {}
  @RequireAccess('metrics') metricsRoute() {}
  @RequireAccess('operate') operateRoute() {}
  @RequireAccess('admin') adminRoute() {}
  @RequireAccess('worker-register') registerRoute() {}
  @RequireAccess('worker-session') sessionRoute() {}
  undeclaredRoute() {}
}

@RequireAccess('read')
class ReadOnlyRoutes {
  anything() {}
}

const VALID = 'fst_abcdefabcdef_valid-token-valid-token-valid';

function principal(role: TokenPrincipal['role']): TokenPrincipal {
  return { kind: 'token', tokenId: `${role}-id`, name: role, role, revealData: false };
}

describe('AuthGuard', () => {
  let tokens: { authenticate: jest.Mock };
  let failures: { blockedFor: jest.Mock; recordFailure: jest.Mock };

  beforeEach(() => {
    tokens = { authenticate: jest.fn().mockResolvedValue(undefined) };
    failures = {
      blockedFor: jest.fn().mockResolvedValue(undefined),
      recordFailure: jest.fn().mockResolvedValue(undefined),
    };
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  function guard(auth: 'on' | 'off', metricsPublic = false): AuthGuard {
    return new AuthGuard(
      new Reflector(),
      { auth, metricsPublic } as ForestConfig,
      tokens as unknown as TokenService,
      failures as unknown as AuthFailureLimiter,
    );
  }

  function request(authorization?: string): FastifyRequest {
    return {
      method: 'GET',
      url: '/x',
      ip: '10.0.0.1',
      headers: authorization ? { authorization } : {},
    } as unknown as FastifyRequest;
  }

  function context(
    req: FastifyRequest,
    handler: keyof Routes | 'anything',
    type = 'http',
  ): ExecutionContext {
    const cls = handler === 'anything' ? ReadOnlyRoutes : Routes;
    const prototype = cls.prototype as unknown as Record<string, () => void>;
    return {
      getType: () => type,
      getHandler: () => prototype[handler],
      getClass: () => cls,
      switchToHttp: () => ({ getRequest: () => req }),
    } as unknown as ExecutionContext;
  }

  it.each(['on', 'off'] as const)(
    'refuses a route without @RequireAccess with auth %s, logging it as a bug',
    async (auth) => {
      const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      await expect(
        guard(auth).canActivate(context(request(`Bearer ${VALID}`), 'undeclaredRoute')),
      ).rejects.toBeInstanceOf(RouteNotDeclaredError);
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('undeclaredRoute'));
      expect(tokens.authenticate).not.toHaveBeenCalled();
    },
  );

  it.each(['on', 'off'] as const)(
    'lets worker-session routes through untouched with auth %s',
    async (auth) => {
      const req = request();
      await expect(guard(auth).canActivate(context(req, 'sessionRoute'))).resolves.toBe(true);
      expect(tokens.authenticate).not.toHaveBeenCalled();
      expect(failures.blockedFor).not.toHaveBeenCalled();
      expect((req as unknown as Record<string, unknown>).forestPrincipal).toBeUndefined();
    },
  );

  it('with auth off lets every declared route through as anonymous', async () => {
    for (const handler of ['publicRoute', 'readRoute', 'adminRoute', 'registerRoute'] as const) {
      const req = request();
      await expect(guard('off').canActivate(context(req, handler))).resolves.toBe(true);
      expect(principalOf(req)).toEqual({ kind: 'anonymous' });
    }
    expect(tokens.authenticate).not.toHaveBeenCalled();
  });

  it('with auth on lets public routes through without a token', async () => {
    await expect(guard('on').canActivate(context(request(), 'publicRoute'))).resolves.toBe(true);
    expect(failures.blockedFor).not.toHaveBeenCalled();
  });

  it('with auth on treats metrics as public with FOREST_METRICS_PUBLIC=true, as read otherwise', async () => {
    await expect(guard('on', true).canActivate(context(request(), 'metricsRoute'))).resolves.toBe(
      true,
    );
    expect(tokens.authenticate).not.toHaveBeenCalled();

    await expect(
      guard('on').canActivate(context(request(), 'metricsRoute')),
    ).rejects.toBeInstanceOf(UnauthenticatedError);
    tokens.authenticate.mockResolvedValue(principal('viewer'));
    await expect(
      guard('on').canActivate(context(request(`Bearer ${VALID}`), 'metricsRoute')),
    ).resolves.toBe(true);
    tokens.authenticate.mockResolvedValue(principal('worker'));
    await expect(
      guard('on').canActivate(context(request(`Bearer ${VALID}`), 'metricsRoute')),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${VALID}`],
    ['an invalid token', `Bearer ${VALID}`],
  ])('answers 401 for %s and counts the failure', async (_what, header) => {
    const req = request(header);
    await expect(guard('on').canActivate(context(req, 'readRoute'))).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    expect(failures.recordFailure).toHaveBeenCalledWith(req);
  });

  it('sets the principal of a valid token, and answers 403 (not a failure) when its role is not enough', async () => {
    tokens.authenticate.mockResolvedValue(principal('viewer'));
    const ok = request(`Bearer ${VALID}`);
    await expect(guard('on').canActivate(context(ok, 'readRoute'))).resolves.toBe(true);
    expect(tokens.authenticate).toHaveBeenCalledWith(VALID);
    expect(principalOf(ok)).toMatchObject({ kind: 'token', role: 'viewer' });
    const denied = request(`Bearer ${VALID}`);
    const refusal = guard('on').canActivate(context(denied, 'operateRoute'));
    await expect(refusal).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refusal).rejects.toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    expect(failures.recordFailure).not.toHaveBeenCalled();
  });

  it('reads the level from the class when the method has none', async () => {
    tokens.authenticate.mockResolvedValue(principal('worker'));
    await expect(
      guard('on').canActivate(context(request(`Bearer ${VALID}`), 'anything')),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('answers 429 with Retry-After while the address is blocked, without checking the token', async () => {
    failures.blockedFor.mockResolvedValue(42);
    tokens.authenticate.mockResolvedValue(principal('admin'));
    const refusal = guard('on').canActivate(context(request(`Bearer ${VALID}`), 'readRoute'));
    await expect(refusal).rejects.toBeInstanceOf(TooManyAuthFailuresError);
    await expect(refusal).rejects.toMatchObject({
      statusCode: 429,
      headers: { 'Retry-After': '42' },
    });
    expect(tokens.authenticate).not.toHaveBeenCalled();
  });

  it('passes non-HTTP contexts', async () => {
    await expect(
      guard('on').canActivate(context(request(), 'undeclaredRoute', 'rpc')),
    ).resolves.toBe(true);
  });
});

describe('roles', () => {
  const table: Record<string, AccessLevel[]> = {
    admin: ['read', 'metrics', 'operate', 'admin', 'worker-register'],
    operator: ['read', 'metrics', 'operate'],
    viewer: ['read', 'metrics'],
    worker: ['worker-register'],
  };

  it.each(ROLES.map((role) => [role]))('%s tokens may use exactly their levels', (role) => {
    const allowed = ACCESS_LEVELS.filter((level) => roleAllows(role, level));
    expect(allowed).toEqual(table[role]);
  });
});
