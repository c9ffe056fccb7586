import { GroupOutOfScopeError } from './auth.errors';
import { AnonymousPrincipal, mayAccessGroup, mayRevealData, Principal } from './access';

/**
 * Group scope and redaction, applied by the controllers and services of each module:
 *
 * - An object (job, group, execution, plan entry) of a group outside the token's groups
 *   does not exist for it: looking it up, or acting on it, answers 404 as for a missing one.
 * - A request that names a group outside them to create or move something into answers
 *   403 GROUP_OUT_OF_SCOPE (the name came from the caller: there is nothing to hide).
 * - Lists show only objects of the token's groups; a `group` filter outside them matches
 *   nothing.
 * - A viewer without revealData gets params and outputs as REDACTED.
 */
export const REDACTED = '[redacted]';

/** The scope of internal calls (and of every call with FOREST_AUTH=off): every group. */
export const ANY_GROUP: AnonymousPrincipal = Object.freeze({ kind: 'anonymous' });

/** The groups the principal is limited to; undefined: every group. */
export function scopeGroups(principal: Principal): readonly string[] | undefined {
  return principal.kind === 'token' ? principal.groups : undefined;
}

/** 403 GROUP_OUT_OF_SCOPE unless the principal may act on `group`. */
export function requireGroupInScope(principal: Principal, group: string): void {
  if (!mayAccessGroup(principal, group)) throw new GroupOutOfScopeError(group);
}

/** `params` and `output` (where present) replaced by REDACTED unless the principal may see them. */
export function redactData<T extends object>(principal: Principal, dto: T): T {
  if (mayRevealData(principal)) return dto;
  const redacted = { ...dto } as Record<string, unknown>;
  for (const field of ['params', 'output']) {
    if (field in redacted) redacted[field] = REDACTED;
  }
  return redacted as T;
}
