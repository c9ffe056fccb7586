import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { StoreAccessDeniedError, StoreClosedError, StoreUnavailableError } from '@forest/store';
import { HistoryUnavailableError } from '../history/history.errors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_RETRY_AFTER_S, DomainError, ErrorCategory } from './domain-error';
import { ErrorResponseDto } from './error-response.dto';

const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Codes for errors raised by Nest or Fastify rather than by Forest's own modules. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** The one code of every "the coordination store cannot answer now" error. */
export const STORE_UNAVAILABLE = 'STORE_UNAVAILABLE';
/** The history database (PostgreSQL) cannot answer now. */
export const HISTORY_UNAVAILABLE = 'HISTORY_UNAVAILABLE';

/**
 * True for every store error that means "try later" as far as an API client is concerned:
 * the store did not answer (etcd down or partitioned, deadline passed, the etcd client's
 * circuit breaker open, too many requests — the etcd adapter translates all of these into
 * StoreUnavailableError), the store refused this node's credentials (an operator must fix
 * them; another node may work meanwhile), or it is closed because the node shuts down.
 */
export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof StoreUnavailableError ||
    error instanceof StoreAccessDeniedError ||
    error instanceof StoreClosedError
  );
}

/**
 * Turns anything thrown while handling a request into the one error shape
 * `{status, code, message, details?}`. Unexpected errors are logged with their stack and
 * answered with a generic 500, so internals never leak to clients.
 */
export function toErrorResponse(error: unknown, bodyLimit?: number): ErrorResponseDto {
  if (error instanceof DomainError) {
    return withDetails(
      STATUS_BY_CATEGORY[error.category],
      error.code,
      error.message,
      error.details,
    );
  }
  if (isStoreUnavailable(error)) {
    return withDetails(
      503,
      STORE_UNAVAILABLE,
      error instanceof StoreClosedError
        ? 'this node is shutting down; retry on another node'
        : 'the coordination store is unavailable; retry shortly',
    );
  }
  if (error instanceof HistoryUnavailableError) {
    return withDetails(
      503,
      HISTORY_UNAVAILABLE,
      'the execution history database is unavailable; retry shortly',
    );
  }
  if (isClientAbortError(error)) {
    return withDetails(
      400,
      'REQUEST_ABORTED',
      'the client closed the request before its body arrived',
    );
  }
  if (error instanceof HttpException) {
    // Nest turns Fastify's own errors (body too large, bad JSON, bad media type) into
    // HttpExceptions with Fastify's wording; the size one gets a message that says the limit.
    const status = error.getStatus();
    const message =
      status === 413 && bodyLimit !== undefined
        ? `request body is too large: send at most ${bodyLimit} bytes`
        : httpMessage(error);
    // Nest's 404 quotes the whole URL ("Cannot GET …"): answer with a short prefix of it.
    return withDetails(status, CODE_BY_STATUS[status] ?? `HTTP_${status}`, shorten(message));
  }
  return withDetails(500, 'INTERNAL', 'internal error; see the node log for details');
}

const MAX_MESSAGE_CHARS = 200;

/** A message quoting client input cut to a bounded length. */
function shorten(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS
    ? message
    : `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length - MAX_MESSAGE_CHARS} more characters)`;
}

/** The `Retry-After` seconds of a 503 answer: the error's own hint, else the default. */
export function retryAfterSeconds(error: unknown): number {
  const hint = (error as { retryAfterS?: unknown } | null | undefined)?.retryAfterS;
  return typeof hint === 'number' && Number.isInteger(hint) && hint > 0
    ? hint
    : DEFAULT_RETRY_AFTER_S;
}

/**
 * Errors of a request body whose stream ended early because the client went away
 * (Node's "aborted" / ECONNRESET, a premature close). Fastify reports them as request
 * errors; they say nothing about the node.
 */
export function isClientAbortError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof HttpException) return false;
  const code = (error as { code?: unknown }).code;
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNABORTED' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    /^(request )?aborted$|^premature close$/i.test(error.message)
  );
}

/** Nest's HttpExceptions carry their message as a string or a list (from pipes). */
function httpMessage(error: HttpException): string {
  const body = error.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join(', ');
  return typeof message === 'string' ? message : error.message;
}

function withDetails(
  status: number,
  code: string,
  message: string,
  details?: unknown,
): ErrorResponseDto {
  return details === undefined ? { status, code, message } : { status, code, message, details };
}

/** During an outage every request fails the same way: one log line per interval says so. */
const STORE_LOG_INTERVAL_MS = 5000;

@Catch()
export class ForestExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ForestExceptionFilter.name);
  private storeLog = { lastAtMs: 0, suppressed: 0 };

  constructor(private readonly bodyLimit?: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest | undefined>();
    const body = toErrorResponse(exception, this.bodyLimit);
    if (isClientAbortError(exception) || (clientHungUp(request) && body.status < 500)) {
      // The client went away mid-request: nothing to answer and nothing wrong with the node.
      this.logger.debug(
        `request aborted by the client: ${request?.method ?? ''} ${request?.url ?? ''} ` +
          `(${exception instanceof Error ? exception.message : String(exception)})`,
      );
    } else if (body.code === STORE_UNAVAILABLE || body.code === HISTORY_UNAVAILABLE) {
      this.logStoreUnavailable(exception);
    } else if (exception instanceof HttpException && body.status === 503) {
      // Deliberate 503s (the health check while the store is down, a node shutting down):
      // the cause is reported where it happens, so no stack here.
      this.logger.debug(`answered 503 ${body.code}: ${body.message}`);
    } else if (body.status >= 500) {
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error(`request failed: ${body.code}`, stack);
    }
    if (body.status === 503) void reply.header('retry-after', String(retryAfterSeconds(exception)));
    void reply.status(body.status).header('content-type', 'application/json').send(body);
  }

  /** One line (no stack: it is not a bug) at most every few seconds, with how many it stands for. */
  private logStoreUnavailable(exception: unknown): void {
    const now = Date.now();
    if (now - this.storeLog.lastAtMs < STORE_LOG_INTERVAL_MS) {
      this.storeLog.suppressed++;
      return;
    }
    const more = this.storeLog.suppressed;
    this.storeLog = { lastAtMs: now, suppressed: 0 };
    const line =
      `answered 503 ${exception instanceof HistoryUnavailableError ? HISTORY_UNAVAILABLE : STORE_UNAVAILABLE}: ${(exception as Error).message}` +
      (more > 0 ? ` (${more} more since the last line)` : '');
    if (exception instanceof StoreAccessDeniedError) this.logger.error(line);
    else this.logger.warn(line);
  }
}

/** The client closed the connection (or aborted the request) before the answer. */
function clientHungUp(request: FastifyRequest | undefined): boolean {
  const raw = request?.raw;
  return raw !== undefined && (raw.aborted || raw.socket?.destroyed === true);
}

/**
 * The level of pino-http's request log line: 2xx/3xx at debug (a worker fleet polls
 * constantly), 4xx and 503 at warn, other 5xx at error; a request the client abandoned
 * before its answer was complete (an aborted upload) at debug.
 */
export function requestLogLevel(
  req: IncomingMessage,
  res: ServerResponse,
  error?: Error,
): 'debug' | 'warn' | 'error' {
  if (req.aborted || !res.writableFinished || (error && isClientAbortError(error))) return 'debug';
  if (res.statusCode === 503) return 'warn';
  if (error || res.statusCode >= 500) return 'error';
  return res.statusCode >= 400 ? 'warn' : 'debug';
}

/**
 * pino-http's error object of a request log line, without the error pino-http makes up
 * for a 503 ("failed with status code 503", with its own stack): a store outage or a
 * failing health check is an expected answer, and ForestExceptionFilter already said why.
 */
export function requestErrorObject(
  _req: IncomingMessage,
  res: ServerResponse,
  _error: Error,
  value: Record<string, unknown>,
): Record<string, unknown> {
  if (res.statusCode !== 503 && res.writableFinished) return value;
  const { err: _err, ...rest } = value;
  return rest;
}
