import { HttpException } from '@nestjs/common';
import { DomainError } from '../common/domain-error';

/**
 * Refusals of the auth layer: 401, 403 and 429, which the domain error categories do not
 * cover. AuthExceptionFilter answers them in the one error shape with their own code and
 * headers; being HttpExceptions, they keep their status even if another filter sees them.
 */
export class AuthError extends HttpException {
  constructor(
    readonly statusCode: 401 | 403 | 429,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super({ status: statusCode, code, message }, statusCode);
    this.name = new.target.name;
  }
}

/** No bearer token, or one that is unknown, revoked or wrong. */
export class UnauthenticatedError extends AuthError {
  constructor() {
    super(
      401,
      'UNAUTHENTICATED',
      'this route needs a valid API token: send Authorization: Bearer <token>',
      { 'WWW-Authenticate': 'Bearer realm="forest"' },
    );
  }
}

/** The token is valid but its role may not use the route. */
export class ForbiddenError extends AuthError {
  constructor(role: string, level: string) {
    super(403, 'FORBIDDEN', `a ${role} token may not call this route (it needs ${level} access)`);
  }
}

/** A route without @RequireAccess: refused until the code declares who may call it. */
export class RouteNotDeclaredError extends AuthError {
  constructor(route: string) {
    super(403, 'ROUTE_NOT_DECLARED', `${route} does not declare who may call it; refused`);
  }
}

/** The request names a group (to create or move something into) outside the token's groups. */
export class GroupOutOfScopeError extends AuthError {
  /** `group` undefined: the request asks for every group. */
  constructor(group: string | undefined) {
    super(
      403,
      'GROUP_OUT_OF_SCOPE',
      group === undefined
        ? 'this token is limited to groups: name groups within them'
        : `this token is limited to groups that do not include ${group}`,
    );
  }
}

/** Too many failed authentications from this address within a minute. */
export class TooManyAuthFailuresError extends AuthError {
  constructor(retryAfterS: number) {
    super(
      429,
      'TOO_MANY_AUTH_FAILURES',
      `too many failed authentications from this address: retry in ${retryAfterS} s`,
      { 'Retry-After': String(retryAfterS) },
    );
  }
}

export class TokenNotFoundError extends DomainError {
  constructor(id: string) {
    super('not_found', 'TOKEN_NOT_FOUND', `token ${id} does not exist`);
  }
}
