import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';

/**
 * Where `npm run build` writes the web console (`console/`, built by Vite): `dist/console`.
 * From the built node (dist/src/http) that is ../../console; from the sources (ts-jest,
 * ts-register) it is <repo>/dist/console.
 */
export const CONSOLE_DIR = ((): string => {
  const up = resolve(__dirname, '..', '..');
  return basename(up) === 'dist' ? join(up, 'console') : join(up, 'dist', 'console');
})();

/** Paths that belong to the API, Swagger UI, health and metrics: never the console's. */
const RESERVED = /^\/(api|docs|docs-json|health|metrics)(\/|$|\?|-)/;

/** The answer for `/` and console paths when the node was built without the console. */
export const CONSOLE_MISSING_MESSAGE =
  'The web console is not built into this node. Run `npm run build` (it builds the node and ' +
  'the console into dist/), then restart the node. The API is at /api, Swagger UI at /docs.';

/**
 * Serves the web console (a single-page app) at `/`:
 * - its files (hashed assets under /assets/, cached for a year; the rest revalidated),
 * - index.html for `/` and for any other GET path no route serves outside /api, /docs,
 *   /health, /metrics and /assets, so each screen is reachable by URL (the SPA fallback),
 * - a plain-text 503 naming `npm run build` when the console is not built (no crash).
 * Unmatched paths under the reserved prefixes keep the API's 404 (Nest's not-found handler).
 * Registered by configureApp after configureHttp, so helmet's headers (the CSP) and the
 * Host/Origin checks apply. The files are public: they hold no data; every API call the
 * console makes passes the auth guard.
 */
export function consolePlugin(dir: string = CONSOLE_DIR): FastifyPluginCallback {
  const plugin: FastifyPluginCallback = (instance, _options, done) => {
    const indexFile = join(dir, 'index.html');
    const index = existsSync(indexFile) ? readFileSync(indexFile) : undefined;
    const assets = join(dir, 'assets') + sep;
    if (index) {
      void instance.register(fastifyStatic, {
        root: dir,
        prefix: '/',
        wildcard: false,
        index: false,
        decorateReply: false,
        cacheControl: false,
        // Vite names assets by content hash: a changed file is a new name.
        setHeaders: (reply, path) => {
          reply.header(
            'cache-control',
            path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });
    }
    // The fallback runs only for requests no route matched (is404): the API's routes, the
    // router's own errors (414, bad URL) and the files above are untouched by it.
    instance.addHook('onRequest', (request, reply, next) => {
      const method = request.method;
      const path = request.url;
      if (!request.is404 || (method !== 'GET' && method !== 'HEAD')) return next();
      // Under the API's prefixes, and a missing asset (a browser would run HTML as a
      // script): the API's own 404.
      if (RESERVED.test(path) || path.startsWith('/assets/')) return next();
      if (!index) {
        void reply
          .code(503)
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(CONSOLE_MISSING_MESSAGE);
        return;
      }
      void reply
        .code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(index);
    });
    done();
  };
  // In the root context, so the hook sees the root's not-found requests.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}

/** Registers the console on the node's Fastify instance (see consolePlugin). */
export function serveConsole(fastify: FastifyInstance, dir?: string): void {
  void fastify.register(consolePlugin(dir));
}
