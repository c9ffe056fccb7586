import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ForestConfig } from '../config/forest.config';
import { ACCESS_METADATA, AccessLevel, Principal, PRINCIPAL_PROPERTY, roleAllows } from './access';
import { AuthFailureLimiter } from './auth-failure.limiter';
import {
  ForbiddenError,
  RouteNotDeclaredError,
  TooManyAuthFailuresError,
  UnauthenticatedError,
} from './auth.errors';
import { bearerToken } from './token-text';
import { TokenService } from './token.service';

/**
 * The global guard (APP_GUARD): every route declares its access level with RequireAccess,
 * and one that does not is refused (403 ROUTE_NOT_DECLARED, logged as the bug it is).
 *
 * - `worker-session` routes pass untouched, auth on or off: the worker gateway checks the
 *   worker's own session secret.
 * - FOREST_AUTH=off: every other route passes, with the anonymous principal.
 * - on: `public` passes, and so does `metrics` with FOREST_METRICS_PUBLIC=true; the rest
 *   need `Authorization: Bearer <API token>` (401 UNAUTHENTICATED when missing or not valid,
 *   403 FORBIDDEN when the role is not enough; 429 after too many failures from one
 *   address). The principal is left on the request.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly config: ForestConfig,
    private readonly tokens: TokenService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (level === undefined) {
      const route = `${request.method} ${request.routeOptions?.url ?? request.url}`;
      this.logger.error(
        `BUG: route ${route} (${context.getClass().name}.${context.getHandler().name}) ` +
          'has no @RequireAccess: refused',
      );
      throw new RouteNotDeclaredError(route);
    }
    if (level === 'worker-session') return true;
    if (this.config.auth === 'off') {
      setPrincipal(request, { kind: 'anonymous' });
      return true;
    }
    if (level === 'public' || (level === 'metrics' && this.config.metricsPublic)) return true;

    const waitS = await this.failures.blockedFor(request);
    if (waitS !== undefined) throw new TooManyAuthFailuresError(waitS);
    const text = bearerToken(request.headers.authorization);
    const principal = text === undefined ? undefined : await this.tokens.authenticate(text);
    if (!principal) {
      await this.failures.recordFailure(request);
      throw new UnauthenticatedError();
    }
    setPrincipal(request, principal);
    if (!roleAllows(principal.role, level)) throw new ForbiddenError(principal.role, level);
    return true;
  }
}

function setPrincipal(request: FastifyRequest, principal: Principal): void {
  (request as unknown as Record<string, unknown>)[PRINCIPAL_PROPERTY] = principal;
}
