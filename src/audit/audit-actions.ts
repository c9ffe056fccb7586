/**
 * Which API calls the audit log records, and as what action on which object. Derived from
 * the method and the route pattern (and its params) only, never from the request body,
 * which may carry job params or secrets.
 *
 * Audited: every POST, PUT, PATCH and DELETE under /api/, including a worker's register
 * and leave (they change the cluster an admin sees). Not audited: reads (GET, HEAD,
 * OPTIONS), the worker protocol's own traffic (heartbeat, poll, reports: a worker's
 * machinery, thousands a minute, not a person's decision), and POST calls that change
 * nothing (schedule preview).
 */

export interface AuditedCall {
  action: string;
  /** `{kind}:{id}`, or the kind alone when the id is only known from the answer. */
  object: string;
  /** For creates: which fields of the answer name the new object (read in onSend). */
  objectFromAnswer?: (answer: Record<string, unknown>) => string | undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `${method} ${route}` of routes that are not audited although their method changes state. */
const NOT_AUDITED = new Set([
  'POST /api/workers/:group/:workerId/heartbeat',
  'POST /api/workers/:group/:workerId/reports',
  'POST /api/workers/:group/:workerId/executions/:executionId/report',
  'POST /api/schedules/preview',
]);

/** Routes whose action the generic rule would name poorly. */
const ACTIONS: Record<string, Omit<AuditedCall, 'object'> & { kind: string }> = {
  'POST /api/workers': {
    kind: 'worker',
    action: 'worker.register',
    objectFromAnswer: (answer) =>
      typeof answer.group === 'string' && typeof answer.workerId === 'string'
        ? `${answer.group}/${answer.workerId}`
        : undefined,
  },
  'DELETE /api/workers/:group/:workerId': { kind: 'worker', action: 'worker.leave' },
};

/** Fields of a create's answer that may name the new object (never a secret). */
const ID_FIELDS = ['id', 'name'] as const;

const VERB_BY_METHOD: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};

/**
 * The action and object of a call, or undefined when it is not audited. `route` is the
 * route pattern Fastify matched (undefined for an unknown route: not audited).
 *
 * The generic rule: the first segment after /api/ is the object kind (singular:
 * `jobs` → `job`); a literal last segment after a param is the verb (`/jobs/:id/pause` →
 * `job.pause`), otherwise the method says it (POST create, PUT/PATCH update, DELETE
 * delete); the route's params, in order, are the object's id (`job:nightly`). A create
 * (POST to the collection) names its object from the answer's `id` or `name`.
 */
export function describeAuditedCall(
  method: string,
  route: string | undefined,
  params: Record<string, unknown> | undefined,
): AuditedCall | undefined {
  if (!STATE_CHANGING.has(method) || route === undefined || !route.startsWith('/api/')) {
    return undefined;
  }
  const pattern = `${method} ${route}`;
  if (NOT_AUDITED.has(pattern)) return undefined;
  const segments = route.slice('/api/'.length).split('/').filter(Boolean);
  if (segments.length === 0) return undefined;
  const kind = singular(segments[0]);
  const paramNames = segments.filter((segment) => segment.startsWith(':'));
  const id = paramNames
    .map((name) => params?.[name.slice(1)])
    .filter((value): value is string => typeof value === 'string' && value.length > 0)
    .join('/');
  const object = id ? `${kind}:${id}` : kind;
  const known = ACTIONS[pattern];
  if (known) {
    return {
      action: known.action,
      object,
      objectFromAnswer: prefixed(kind, known.objectFromAnswer),
    };
  }
  const last = segments[segments.length - 1];
  const verb =
    segments.length > 1 && !last.startsWith(':') && paramNames.length > 0
      ? last
      : VERB_BY_METHOD[method];
  const isCreate = method === 'POST' && segments.length === 1;
  return {
    action: `${kind}.${verb}`,
    object,
    objectFromAnswer: isCreate ? prefixed(kind, idFromAnswer) : undefined,
  };
}

function idFromAnswer(answer: Record<string, unknown>): string | undefined {
  for (const field of ID_FIELDS) {
    const value = answer[field];
    if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
  }
  return undefined;
}

function prefixed(
  kind: string,
  read: ((answer: Record<string, unknown>) => string | undefined) | undefined,
): AuditedCall['objectFromAnswer'] {
  if (!read) return undefined;
  return (answer) => {
    const id = read(answer);
    return id === undefined ? undefined : `${kind}:${id}`;
  };
}

/** `jobs` → `job`, `executions` → `execution`, `audit` → `audit`. */
function singular(collection: string): string {
  return collection.endsWith('s') && collection.length > 1 ? collection.slice(0, -1) : collection;
}
