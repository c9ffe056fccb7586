/**
 * One audit log entry: who did what to which object, when, and how it ended. Stored as
 * JSON under `audit/{id}`; the id starts with the zero-padded epoch ms of `at`, so keys
 * sort by time.
 */
export interface AuditEntry {
  /** `{15-digit epoch ms}-{8 hex}`; also the key under `audit/`. */
  id: string;
  /** ISO 8601 time the answer was sent. */
  at: string;
  /** The token's name; `anonymous (auth off)` with FOREST_AUTH=off; `unauthenticated` for a refused call without a valid token. */
  actor: string;
  /** The id of the token used, when there was one. */
  tokenId?: string;
  /** `{object kind}.{verb}`, e.g. `job.create`, `job.pause`, `execution.cancel`, `token.create`. */
  action: string;
  method: string;
  /** The route pattern, e.g. `/api/jobs/:id/pause` (never the query string or the body). */
  route: string;
  /** `{kind}:{id}`, e.g. `job:nightly`, `worker:billing/billing-7f9c-1`; the kind alone when no id is known. */
  object: string;
  /** The HTTP status code of the answer. */
  status: number;
  /** The node that served the call. */
  node: string;
  /** The client address as the node saw it. */
  ip: string;
}

const STRING_FIELDS = ['id', 'at', 'actor', 'action', 'method', 'route', 'object', 'node', 'ip'];

/** A stored entry back into an AuditEntry; undefined for anything malformed. */
export function decodeAuditEntry(value: string): AuditEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (!STRING_FIELDS.every((field) => typeof record[field] === 'string')) return undefined;
  if (typeof record.status !== 'number') return undefined;
  if (record.tokenId !== undefined && typeof record.tokenId !== 'string') return undefined;
  const entry: AuditEntry = {
    id: record.id as string,
    at: record.at as string,
    actor: record.actor as string,
    ...(typeof record.tokenId === 'string' ? { tokenId: record.tokenId } : {}),
    action: record.action as string,
    method: record.method as string,
    route: record.route as string,
    object: record.object as string,
    status: record.status,
    node: record.node as string,
    ip: record.ip as string,
  };
  return entry;
}
