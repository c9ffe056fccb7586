import { NestFastifyApplication } from '@nestjs/platform-fastify';

export type Json = Record<string, any>;

export interface JsonResponse {
  statusCode: number;
  /** The parsed JSON body; {} for an empty one (204). */
  body: Json;
}

/** One JSON request through Fastify's inject (no socket), as the e2e tests send them. */
export async function injectJson(
  app: NestFastifyApplication,
  method: string,
  url: string,
  payload?: unknown,
): Promise<JsonResponse> {
  const response = await app.inject({
    method: method as 'GET',
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { statusCode: response.statusCode, body: response.body ? response.json<Json>() : {} };
}

/**
 * injectJson for tests that speak the worker protocol by hand: remembers each worker's
 * session secret from its registration answer and sends it on every call under that
 * worker's id (`/api/workers/{group}/{workerId}/...`).
 */
export function workerSessionInject(app: () => NestFastifyApplication) {
  const secrets = new Map<string, string>();
  return async (method: string, url: string, payload?: unknown): Promise<JsonResponse> => {
    const workerId = /^\/api\/workers\/[^/]+\/([^/?]+)/.exec(url)?.[1];
    const secret = workerId === undefined ? undefined : secrets.get(workerId);
    const response = await app().inject({
      method: method as 'GET',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` },
    });
    const body = response.body ? response.json<Json>() : {};
    if (url === '/api/workers' && response.statusCode === 201) {
      secrets.set(body.workerId as string, body.sessionSecret as string);
    }
    return { statusCode: response.statusCode, body };
  };
}
