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
