import {
  BrokenCircuitError,
  BulkheadRejectedError,
  HydratingCircuitError,
  IsolatedCircuitError,
  TaskCancelledError,
} from 'cockatiel';
import {
  castGrpcError,
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCAbortedError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCGenericError,
  GRPCInternalError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
} from 'etcd3';
import {
  LeaseNotFoundError,
  StoreAccessDeniedError,
  StoreClosedError,
  StoreError,
  StoreRequestError,
  StoreUnavailableError,
} from '../store.errors';
import { toStoreError } from './etcd-errors';

/** A raw gRPC error as @grpc/grpc-js rejects with it (before etcd3 casts it). */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('toStoreError', () => {
  const unavailable: Array<[string, unknown]> = [
    [
      'gRPC UNAVAILABLE (connection refused)',
      new GRPCUnavailableError(
        '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379',
      ),
    ],
    [
      'gRPC DEADLINE_EXCEEDED',
      new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'),
    ],
    ['gRPC CANCELLED', new GRPCCancelledError('1 CANCELLED: call cancelled')],
    ['gRPC ABORTED', new GRPCAbortedError('10 ABORTED: aborted')],
    ['circuit breaker open (BrokenCircuitError)', new BrokenCircuitError()],
    ['circuit breaker isolated (IsolatedCircuitError)', new IsolatedCircuitError()],
    ['circuit breaker half-open (HydratingCircuitError)', new HydratingCircuitError()],
    ['bulkhead rejected', new BulkheadRejectedError(1, 0)],
    ['policy timeout', new TaskCancelledError()],
    ['etcd "too many requests"', new GRPCResourceExhastedError('etcdserver: too many requests')],
    ['etcd "no leader"', castGrpcError(grpcError(14, 'etcdserver: no leader'))],
    ['etcd "leader changed"', new EtcdError('etcdserver: leader changed')],
    ['etcd "request timed out"', new EtcdError('etcdserver: request timed out')],
    [
      'gRPC INTERNAL from a reset stream',
      new GRPCInternalError('13 INTERNAL: Received RST_STREAM with code 2'),
    ],
    ['a generic gRPC error of a dropped connection', new GRPCGenericError('Connection dropped')],
    ['ECONNREFUSED by errno', errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:2379')],
    ['ECONNRESET by errno', errno('ECONNRESET', 'read ECONNRESET')],
    [
      'a raw gRPC UNAVAILABLE, cast',
      castGrpcError(grpcError(14, 'UNAVAILABLE: Connection dropped')),
    ],
    [
      'a stale auth token (etcd restarted)',
      new EtcdInvalidAuthTokenError('etcdserver: invalid auth token'),
    ],
    [
      'an error named as older etcd3 versions name it',
      namedError('GRPCConnectFailedError', 'connect failed'),
    ],
  ];

  it.each(unavailable)('%s becomes StoreUnavailableError', (_name, error) => {
    const translated = toStoreError(error);
    expect(translated).toBeInstanceOf(StoreUnavailableError);
    expect(translated.message).toMatch(/^etcd unavailable: /);
    expect(translated.cause).toBe(error);
  });

  it('says what an open circuit breaker means', () => {
    expect(toStoreError(new BrokenCircuitError()).message).toMatch(
      /circuit breaker is open .*retries the connection/,
    );
  });

  it.each([
    [
      'authentication failed',
      new EtcdAuthenticationFailedError(
        'etcdserver: authentication failed, invalid user ID or password',
      ),
    ],
    ['permission denied', new EtcdPermissionDeniedError('etcdserver: permission denied')],
    [
      'unauthenticated (auth on, no credentials)',
      new GRPCUnauthenticatedError('16 UNAUTHENTICATED: etcdserver: user name is empty'),
    ],
  ])('%s becomes StoreAccessDeniedError naming the settings', (_name, error) => {
    const translated = toStoreError(error);
    expect(translated).toBeInstanceOf(StoreAccessDeniedError);
    expect(translated).not.toBeInstanceOf(StoreUnavailableError);
    expect(translated.message).toMatch(/FOREST_ETCD_USERNAME/);
  });

  it('a closed client becomes StoreClosedError', () => {
    expect(toStoreError(new ClientClosedError('KV'))).toBeInstanceOf(StoreClosedError);
  });

  it.each([
    'etcdserver: too many operations in txn request',
    'etcdserver: duplicate key given in txn request',
    'etcdserver: requested lease not found',
    'etcdserver: request is too large',
  ])('"%s" becomes StoreRequestError', (message) => {
    expect(toStoreError(new EtcdError(message))).toBeInstanceOf(StoreRequestError);
  });

  it('keeps the port\u2019s own errors as they are', () => {
    const error = new LeaseNotFoundError('7');
    expect(toStoreError(error)).toBe(error);
  });

  it('wraps anything else in a plain StoreError with the cause', () => {
    const error = new TypeError('boom');
    const translated = toStoreError(error);
    expect(translated.constructor).toBe(StoreError);
    expect(translated.message).toBe('etcd request failed: boom');
    expect(translated.cause).toBe(error);
    // A resource-exhausted answer that is not etcd's rate limit is not "try later".
    expect(
      toStoreError(new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: message larger than max')),
    ).not.toBeInstanceOf(StoreUnavailableError);
  });
});

function namedError(name: string, message: string): Error {
  const Named = { [name]: class extends Error {} }[name];
  return new Named(message);
}
