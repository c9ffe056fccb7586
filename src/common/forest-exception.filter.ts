import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { StoreUnavailableError } from '@forest/store';
import { FastifyReply } from 'fastify';
import { DomainError, ErrorCategory } from './domain-error';
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
  if (error instanceof StoreUnavailableError) {
    return withDetails(
      503,
      'STORE_UNAVAILABLE',
      'the coordination store is unavailable; retry shortly',
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
    return withDetails(status, CODE_BY_STATUS[status] ?? `HTTP_${status}`, message);
  }
  return withDetails(500, 'INTERNAL', 'internal error; see the node log for details');
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

@Catch()
export class ForestExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ForestExceptionFilter.name);

  constructor(private readonly bodyLimit?: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = toErrorResponse(exception, this.bodyLimit);
    if (body.status >= 500) {
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error(`request failed: ${body.code}`, stack);
    }
    void reply.status(body.status).header('content-type', 'application/json').send(body);
  }
}
