import { NestFastifyApplication } from '@nestjs/platform-fastify';

export type Json = Record<string, any>;

export interface Answer {
  statusCode: number;
  body: Json;
  headers: Record<string, unknown>;
  text: string;
}

/** FOREST_ADMIN_TOKEN of the auth tests (32-256 characters, no spaces). */
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdefghijklmnop';

/** One request through Fastify inject, with a bearer token when given. */
export async function call(
  app: NestFastifyApplication,
  method: string,
  url: string,
  options: {
    token?: string;
    payload?: unknown;
    remoteAddress?: string;
    authorization?: string;
  } = {},
): Promise<Answer> {
  const authorization =
    options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers: authorization ? { authorization } : {},
    ...(options.payload === undefined ? {} : { payload: options.payload as object }),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
  let body: Json;
  try {
    body = response.body ? response.json<Json>() : {};
  } catch {
    body = {}; // not JSON (the Swagger UI's HTML)
  }
  return { statusCode: response.statusCode, body, headers: response.headers, text: response.body };
}

/** Creates a token through the API with the admin token; returns its text and id. */
export async function createToken(
  app: NestFastifyApplication,
  spec: { name: string; role: string; groups?: string[]; revealData?: boolean },
  by = ADMIN_TOKEN,
): Promise<{ id: string; token: string }> {
  const created = await call(app, 'POST', '/api/tokens', { token: by, payload: spec });
  if (created.statusCode !== 201) {
    throw new Error(`creating token ${spec.name}: ${created.statusCode} ${created.text}`);
  }
  return { id: created.body.id, token: created.body.token };
}

export const jobBody = (id: string, group: string, extra: Json = {}): Json => ({
  id,
  name: `job ${id}`,
  group,
  schedule: { cron: '0 0 1 1 *' },
  target: 'auth.test',
  ...extra,
});

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
