import type { Server } from 'node:http';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JsonTooDeepError, JsonTooWideError } from './http.errors';

export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most object keys plus array items, counted over the whole document. */
  maxKeys: number;
}

export type JsonScan = 'ok' | 'too_deep' | 'too_wide';

/** Limits of one route that differ from the node's (the bulk job import). */
export interface RouteBodyLimits {
  method: string;
  /** The route's URL pattern, as Fastify registers it (`/api/jobs/import`). */
  url: string;
  bodyLimit: number;
  limits: JsonLimits;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * One linear pass over the raw bytes of a JSON text that measures its nesting depth and
 * counts its object keys and array items, stopping at the first limit crossed. It does not
 * validate (JSON.parse does, after): it only needs to know what is inside a string, so a
 * `{` or `,` in a string does not count. Multi-byte UTF-8 sequences are all >= 0x80 and
 * cannot be mistaken for the ASCII structure bytes.
 */
export function scanJson(bytes: Uint8Array, limits: JsonLimits): JsonScan {
  const { maxDepth, maxKeys } = limits;
  const length = bytes.length;
  let depth = 0;
  let entries = 0;
  // Just after `{` or `[`: the next structural byte that is not a closer starts the first entry.
  let expectFirst = false;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    if (expectFirst) {
      expectFirst = false;
      if (byte !== CLOSE_OBJECT && byte !== CLOSE_ARRAY && ++entries > maxKeys) return 'too_wide';
    }
    switch (byte) {
      case QUOTE:
        // Skip the string: a backslash escapes the next byte (\" and \\ included).
        for (i++; i < length; i++) {
          const inner = bytes[i];
          if (inner === BACKSLASH) i++;
          else if (inner === QUOTE) break;
        }
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++depth > maxDepth) return 'too_deep';
        expectFirst = true;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        depth--;
        break;
      case COMMA:
        if (++entries > maxKeys) return 'too_wide';
        break;
    }
  }
  return 'ok';
}

/**
 * Makes `application/json` the only body type the node parses. Every other parser is
 * removed (Fastify's text/plain one), and Nest's own JSON and urlencoded parsers never get
 * registered: the app is created with bodyParser: false (FOREST_NEST_OPTIONS), and
 * useBodyParser marks the adapter's parsers as registered anyway. A body of another type,
 * or of none declared, is answered 415 by Fastify; an empty body without a content type
 * still reaches the route.
 *
 * The scan rejects a too deep or too wide document in linear time before JSON.parse sees
 * it; the parse itself is Fastify's default (secure-json-parse: `__proto__` and
 * `constructor.prototype` keys are refused with 400), as is the 400 for an empty body.
 */
export function useForestJsonParser(
  app: NestFastifyApplication,
  bodyLimit: number,
  limits: JsonLimits,
  routeLimits: readonly RouteBodyLimits[] = [],
): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  // A route with its own limits gets its body limit as a route option (Fastify enforces
  // it while reading; routes are registered after this, at app.init) and its JSON limits
  // in the parser below. Every other route keeps the node's limits.
  fastify.addHook('onRoute', (route) => {
    const own = routeLimits.find((r) => r.url === route.url && sameMethod(route.method, r.method));
    if (own) route.bodyLimit = own.bodyLimit;
  });
  app.useBodyParser<Server>('application/json', { bodyLimit }, (request, body, done) => {
    const own = routeLimits.find(
      (r) => r.url === request.routeOptions.url && r.method === request.method,
    );
    const applied = own?.limits ?? limits;
    const scan = scanJson(body, applied);
    if (scan === 'too_deep') return done(new JsonTooDeepError(applied.maxDepth), undefined);
    if (scan === 'too_wide') return done(new JsonTooWideError(applied.maxKeys), undefined);
    // The default parser checks .length and hands the text to secure-json-parse, which
    // takes a Buffer as well.
    void parseJson(request, body as unknown as string, done);
  });
}

function sameMethod(method: string | string[], wanted: string): boolean {
  return Array.isArray(method) ? method.includes(wanted) : method === wanted;
}
