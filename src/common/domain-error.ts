/**
 * Errors the domain raises on purpose. Each module defines its own subclasses with a
 * code (e.g. JOB_NOT_FOUND); the category decides the HTTP status in one place,
 * ForestExceptionFilter, so services never deal in HTTP.
 */
export type ErrorCategory =
  | 'invalid' // 400: the request is wrong; the message says what to fix
  | 'not_found' // 404
  | 'conflict' // 409: state changed or already exists
  | 'too_large' // 413
  | 'unavailable'; // 503: try again later

export class DomainError extends Error {
  constructor(
    readonly category: ErrorCategory,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request body or parameters failed validation. */
export class ValidationFailedError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('invalid', 'VALIDATION_FAILED', message, details);
  }
}

/**
 * Seconds a client should wait before retrying a 503 (the `Retry-After` header):
 * ForestExceptionFilter sends it with every 503, unless the error carries its own
 * `retryAfterS`.
 */
export const DEFAULT_RETRY_AFTER_S = 2;
