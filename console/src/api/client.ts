import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { reportConnection } from './connection';

/** The node's schemas by their DTO names (generated from the OpenAPI document). */
export type Schemas = components['schemas'];
export type Job = Schemas['JobDto'];
export type Group = Schemas['GroupDto'];
export type Worker = Schemas['WorkerDto'];
export type PlanItem = Schemas['PlanItemDto'];
export type PlanPage = Schemas['PlanPageDto'];
export type NodeInfo = Schemas['NodeDto'];
export type FireTime = Schemas['FireTimeDto'];
export type Execution = Schemas['ExecutionDto'];
export type TokenSelf = Schemas['TokenSelfDto'];
export type ErrorResponse = Schemas['ErrorResponseDto'];
export type Plugins = Schemas['PluginsViewDto'];

const TOKEN_KEY = 'forest.token';

/** The API token of this browser tab (sessionStorage: gone when the tab closes). */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * The typed client: `api.GET('/api/jobs', { params: { query: { group } } })`. Paths, params,
 * bodies and answers are checked against schema.d.ts. Prefer `call(api.GET(...))`, which
 * returns the data or throws an ApiError.
 */
export const api = createClient<paths>({ baseUrl: '' });

api.use({
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
});

/** One field's problems, from a 400's `details` (`{field: 'schedule.cron', problems: [...]}`). */
export interface FieldProblem {
  field: string;
  problems: string[];
}

/**
 * A failed call: `status` 0 when the node could not be reached. `code` and `message` are the
 * API's error shape (src/common/error-response.dto.ts); `fields` its per-field problems.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Per-field problems by field path (`schedule.cron`), when the API listed them. */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.details)) {
      for (const entry of this.details as unknown[]) {
        const problem = entry as Partial<FieldProblem>;
        if (typeof problem.field === 'string' && Array.isArray(problem.problems)) {
          out[problem.field] = problem.problems.join('; ');
        }
      }
    }
    return out;
  }
}

type Listener = (error: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called on every 401 (a missing, unknown or revoked token): the auth context signs out. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Awaits an openapi-fetch call: its data, or an ApiError. Reports reachability to the
 * connection banner (unreachable, 503 STORE_UNAVAILABLE, fine) and 401s to the auth context.
 */
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    reportConnection('unreachable');
    throw new ApiError(0, 'UNREACHABLE', 'The node could not be reached.');
  }
  const { response } = answer;
  if (response.ok) {
    reportConnection('ok');
    return answer.data as T;
  }
  const body = (answer.error ?? {}) as Partial<ErrorResponse>;
  const error = new ApiError(
    response.status,
    typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    typeof body.message === 'string' ? body.message : response.statusText || 'Request failed',
    body.details,
  );
  reportConnection(
    response.status === 503 && error.code === 'STORE_UNAVAILABLE' ? 'store-unavailable' : 'ok',
  );
  if (response.status === 401) unauthorizedListeners.forEach((listener) => listener(error));
  return Promise.reject(error);
}

/** A readable one-liner for any error a screen caught. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    return error.status === 0 ? error.message : `${error.message} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}
