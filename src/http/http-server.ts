import type { Server } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyHttpOptions, FastifyReply } from 'fastify';
import type { ErrorResponseDto } from '../common/error-response.dto';
import { ForestConfig } from '../config/forest.config';

/** Fastify's default maxParamLength: ids have at most 64 characters plus a short suffix. */
const MAX_PARAM_LENGTH = 100;

/** The Fastify options the config implies: body limit and the request-side timeouts. */
export type ForestServerOptions = FastifyHttpOptions<Server> & { bodyLimit: number };

/**
 * Server options of a node, the one place main.ts and the test harness take them from.
 *
 * Only RECEIVING a request is bounded: its headers (headersTimeout) and its whole body
 * (requestTimeout); an idle keep-alive connection is closed after keepAliveTimeout. Answers
 * may take longer (the worker long-poll holds its response up to 60 s), so no socket
 * inactivity timeout (connectionTimeout) is set. Node checks the two request timeouts every
 * connectionsCheckingInterval (30 s by default, far too coarse for a 1-10 s limit).
 */
export function forestServerOptions(config: ForestConfig): ForestServerOptions {
  const requestTimeout = config.httpRequestTimeoutMs;
  // Node refuses headersTimeout > requestTimeout: the headers are part of the request.
  const headersTimeout = Math.min(config.httpHeadersTimeoutMs, requestTimeout);
  const connectionsCheckingInterval = Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4)));
  return {
    bodyLimit: config.httpBodyLimit,
    forceCloseConnections: true,
    requestTimeout,
    keepAliveTimeout: config.httpIdleTimeoutMs,
    connectionTimeout: 0,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval },
    frameworkErrors: (error, _request, reply) => {
      const answer = frameworkErrorAnswer(error.code, error.statusCode);
      void (reply as FastifyReply)
        .code(answer.status)
        .header('content-type', 'application/json')
        .send(answer);
    },
  };
}

/**
 * The one error shape for the errors Fastify's router raises before any route or hook runs
 * (its own answers would echo the whole path back and differ in shape).
 */
export function frameworkErrorAnswer(code: string, statusCode?: number): ErrorResponseDto {
  switch (code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        status: 414,
        code: 'PATH_PARAM_TOO_LONG',
        message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
      };
    case 'FST_ERR_BAD_URL':
      return { status: 400, code: 'INVALID_URL', message: 'the URL path is not valid' };
    default:
      return statusCode !== undefined && statusCode < 500
        ? { status: statusCode, code: 'BAD_REQUEST', message: 'the request is not valid' }
        : {
            status: 500,
            code: 'INTERNAL',
            message: 'internal error; see the node log for details',
          };
  }
}

/** The Fastify adapter of a node (see forestServerOptions). */
export function createForestAdapter(config: ForestConfig): FastifyAdapter {
  return new FastifyAdapter(forestServerOptions(config));
}

/**
 * Nest application options a node is created with. Nest's own body parsers (JSON and
 * application/x-www-form-urlencoded) stay off: configureHttp registers the only parser.
 */
export const FOREST_NEST_OPTIONS = { bodyParser: false } as const;
