import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  GRPCAbortedError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  GRPCUnknownError,
} from 'etcd3';
import {
  StoreAccessDeniedError,
  StoreClosedError,
  StoreError,
  StoreRequestError,
  StoreUnavailableError,
} from '../store.errors';

/**
 * Maps whatever the etcd3 client throws onto the port's errors, so callers never import
 * etcd3, gRPC or cockatiel and every "try later" reaches them as StoreUnavailableError:
 *
 * - gRPC UNAVAILABLE (connection refused or dropped, no leader, server stopping),
 *   DEADLINE_EXCEEDED, CANCELLED and ABORTED;
 * - the client's circuit breaker (cockatiel's BrokenCircuitError / IsolatedCircuitError
 *   "circuit breaker is open", HydratingCircuitError while it half-opens; bulkhead and
 *   timeout rejections): etcd3 throws these, not a gRPC error, once a host failed three
 *   times in a row, so during an outage they are the usual error;
 * - RESOURCE_EXHAUSTED from etcd's "too many requests", INTERNAL / UNKNOWN / any error
 *   whose message or errno says the connection failed (ECONNREFUSED, ECONNRESET, RST_STREAM,
 *   "No connection established", "Connection dropped", TLS handshake failures);
 * - older etcd3 names (GRPCConnectFailedError) by name, in case the client is swapped.
 *
 * A stale auth token (etcd restarted) is "try later" too: the client authenticates again.
 * Authentication and permission errors become StoreAccessDeniedError, a closed client
 * StoreClosedError, malformed requests StoreRequestError; anything else a plain StoreError
 * with the original as `cause`.
 */
export function toStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isUnavailable(error, message)) {
    return new StoreUnavailableError(`etcd unavailable: ${unavailableReason(error, message)}`, {
      cause: error,
    });
  }
  if (isAccessDenied(error, message)) {
    return new StoreAccessDeniedError(
      `etcd refused this node's credentials: ${message} (check FOREST_ETCD_USERNAME / ` +
        'FOREST_ETCD_PASSWORD, the client certificate and the etcd user\u2019s roles)',
      { cause: error },
    );
  }
  if (error instanceof ClientClosedError) return new StoreClosedError();
  for (const pattern of REQUEST_ERRORS) {
    if (pattern.test(message)) return new StoreRequestError(message, { cause: error });
  }
  return new StoreError(`etcd request failed: ${message}`, { cause: error });
}

/** True for every error that means "the store cannot answer now; try again later". */
function isUnavailable(error: unknown, message: string): boolean {
  if (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCDeadlineExceededError ||
    error instanceof GRPCCancelledError ||
    error instanceof GRPCAbortedError ||
    // A token etcd forgot (it restarted): the client authenticates again on the next call.
    error instanceof EtcdInvalidAuthTokenError ||
    COCKATIEL_REJECTIONS.some((marker) => hasMarker(error, marker))
  ) {
    return true;
  }
  if (error instanceof Error && UNAVAILABLE_NAMES.has(error.constructor.name)) return true;
  if (error instanceof GRPCResourceExhastedError) return /too many requests/i.test(message);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CONNECTION_ERRNOS.has(code)) return true;
  if (
    error instanceof GRPCInternalError ||
    error instanceof GRPCUnknownError ||
    !(error instanceof Error) ||
    error.constructor === Error ||
    error.constructor.name === 'EtcdError' ||
    error.constructor.name === 'GRPCGenericError'
  ) {
    return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
  }
  return false;
}

function unavailableReason(error: unknown, message: string): string {
  if (hasMarker(error, 'isBrokenCircuitError') || hasMarker(error, 'isHydratingCircuitError')) {
    return `${message} (recent calls failed; the client retries the connection within a second)`;
  }
  return message;
}

function isAccessDenied(error: unknown, message: string): boolean {
  return (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdPermissionDeniedError ||
    error instanceof EtcdUserNotFoundError ||
    error instanceof GRPCUnauthenticatedError ||
    /etcdserver: (authentication failed|permission denied|user name not found)/.test(message)
  );
}

/**
 * cockatiel marks its rejections with a property (its own `isTaskCancelledError` helper
 * checks the wrong one in 3.2.1, so the markers are checked here). IsolatedCircuitError
 * extends BrokenCircuitError and carries both.
 */
const COCKATIEL_REJECTIONS = [
  'isBrokenCircuitError',
  'isHydratingCircuitError',
  'isBulkheadRejectedError',
  'isTaskCancelledError',
] as const;

function hasMarker(error: unknown, marker: string): boolean {
  return error instanceof Error && marker in error;
}

/** Error class names of other etcd3 versions that mean the connection failed. */
const UNAVAILABLE_NAMES = new Set(['GRPCConnectFailedError', 'GRPCUnavailableError']);

/** errno codes of a connection that failed or broke. */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages of transport failures and of etcd's own "try later" answers. */
const UNAVAILABLE_MESSAGES = [
  /ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/,
  /No connection established|Connection dropped|connection closed|socket hang up/i,
  /RST_STREAM/,
  /circuit breaker is (open|half-open)/i,
  /etcdserver: (no leader|leader changed|request timed out|server stopped|too many requests|not capable|timeout)/,
];

/** etcd rejections caused by the request itself: retrying the same request cannot succeed. */
const REQUEST_ERRORS = [
  /requested lease not found/,
  /too many operations in txn request/,
  /duplicate key given in txn request/,
  /key is not provided/,
  /request is too large/,
  /lease TTL/i,
];
