import helmet from '@fastify/helmet';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyPluginCallback } from 'fastify';
import { ForestConfig } from '../config/forest.config';
import { requestOriginHook, RequestOriginPolicy } from './host-guard';
import { jobImportLimits } from '../job/job-import.limits';
import { useForestJsonParser } from './json-body';

/**
 * The Content-Security-Policy: scripts only from this node (Swagger UI at /docs loads its
 * own files, as will the web console at /), styles from this node and inline (Swagger UI
 * needs them), images also as data: URLs, fetches to this node only, no plugins, no
 * framing. Without upgrade-insecure-requests: nodes are commonly reached over plain HTTP.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
  },
};

/**
 * The HTTP hardening of a node, applied by configureApp before anything else registers:
 * - application/json is the only body type (depth and width checked before parsing);
 * - security headers (@fastify/helmet, CONTENT_SECURITY_POLICY; no HSTS, which belongs to
 *   whatever terminates TLS in front of the node);
 * - Host and Origin checks (RequestOriginPolicy) on every request, before its body is read;
 * - CORS only for FOREST_CORS_ORIGINS, exactly those origins; off when unset.
 * The timeouts are server options (forestServerOptions), set when the adapter is created.
 */
export function configureHttp(app: NestFastifyApplication, config: ForestConfig): void {
  useForestJsonParser(
    app,
    config.httpBodyLimit,
    { maxDepth: config.jsonMaxDepth, maxKeys: config.jsonMaxKeys },
    [jobImportLimits(config)],
  );

  const fastify = app.getHttpAdapter().getInstance();
  void fastify.register(helmet, {
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
  // Registered after helmet, in the root context, so refusals carry the security headers.
  const policy = new RequestOriginPolicy(config);
  const guard: FastifyPluginCallback = (instance, _options, done) => {
    instance.addHook('onRequest', requestOriginHook(policy));
    done();
  };
  Object.assign(guard, { [Symbol.for('skip-override')]: true });
  void fastify.register(guard);

  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      maxAge: 600,
    });
  }
}
