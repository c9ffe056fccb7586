import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

/**
 * Who may call a route. Every route declares one (the auth guard refuses a route that
 * does not, and a test derives the route list from the OpenAPI document to check each):
 *
 * - `public`: anyone (only /health and the Swagger UI).
 * - `read`: viewer, operator, admin tokens.
 * - `metrics`: GET /metrics: `public` with FOREST_METRICS_PUBLIC=true (for a Prometheus
 *   without a token), otherwise as `read`.
 * - `operate`: operator and admin tokens (trigger, pause, resume, cancel, and job/group writes).
 * - `admin`: admin tokens (tokens, audit log, deleting groups with their jobs).
 * - `worker-register`: a worker token of the group, or an admin token.
 * - `worker-session`: a registered worker's own session secret (checked by the worker
 *   gateway against the worker's record, with or without FOREST_AUTH).
 *
 * With FOREST_AUTH=off every route but `worker-session` ones is open (the node then
 * listens on loopback only).
 */
export const ACCESS_LEVELS = [
  'public',
  'read',
  'metrics',
  'operate',
  'admin',
  'worker-register',
  'worker-session',
] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const ACCESS_METADATA = 'forest:access';

/** Declares who may call the route (see AccessLevel); documents the bearer scheme in Swagger. */
export function RequireAccess(level: AccessLevel): MethodDecorator & ClassDecorator {
  return level === 'public'
    ? applyDecorators(SetMetadata(ACCESS_METADATA, level))
    : applyDecorators(SetMetadata(ACCESS_METADATA, level), ApiBearerAuth());
}

export const ROLES = ['admin', 'operator', 'viewer', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The access levels each role's tokens may use. `public` needs no token and
 * `worker-session` is the worker gateway's to check, so no role lists them.
 */
export const ROLE_ACCESS: Readonly<Record<Role, readonly AccessLevel[]>> = {
  admin: ['read', 'metrics', 'operate', 'admin', 'worker-register'],
  operator: ['read', 'metrics', 'operate'],
  viewer: ['read', 'metrics'],
  worker: ['worker-register'],
};

/** True when a token of `role` may call a route that requires `level`. */
export function roleAllows(role: Role, level: AccessLevel): boolean {
  return ROLE_ACCESS[role].includes(level);
}

/** An API token's holder, as the auth guard resolved it. */
export interface TokenPrincipal {
  kind: 'token';
  tokenId: string;
  /** The token's name: what the audit log records as the actor. */
  name: string;
  role: Role;
  /** Groups the token is limited to; undefined: every group. */
  groups?: readonly string[];
  /** A viewer token allowed to see params and outputs. */
  revealData: boolean;
}

/** FOREST_AUTH=off: no token; the node is reachable from loopback only. */
export interface AnonymousPrincipal {
  kind: 'anonymous';
}

export type Principal = TokenPrincipal | AnonymousPrincipal;

/** Where the guard leaves the principal on the request. */
export const PRINCIPAL_PROPERTY = 'forestPrincipal';

export function principalOf(request: FastifyRequest): Principal {
  const principal = (request as unknown as Record<string, unknown>)[PRINCIPAL_PROPERTY];
  return (principal as Principal | undefined) ?? { kind: 'anonymous' };
}

/** True when the principal may act on (or see) objects of `group`. */
export function mayAccessGroup(principal: Principal, group: string): boolean {
  return principal.kind === 'anonymous' || !principal.groups || principal.groups.includes(group);
}

/** True when params and outputs may be shown to the principal unredacted. */
export function mayRevealData(principal: Principal): boolean {
  return principal.kind === 'anonymous' || principal.role !== 'viewer' || principal.revealData;
}

/** The actor name for the audit log. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'anonymous' ? 'anonymous (auth off)' : principal.name;
}
