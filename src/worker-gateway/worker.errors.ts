import { DomainError } from '../common/domain-error';

export class WorkerNotFoundError extends DomainError {
  constructor(group: string, workerId: string) {
    super(
      'not_found',
      'WORKER_NOT_FOUND',
      `worker "${workerId}" of group "${group}" is not registered (its lease expired or it left): register again`,
    );
  }
}

export class ReportConflictError extends DomainError {
  constructor(executionId: string, message: string) {
    super('conflict', 'EXECUTION_NOT_YOURS', message, { executionId });
  }
}

export class ReportedExecutionNotFoundError extends DomainError {
  constructor(executionId: string) {
    super('not_found', 'EXECUTION_NOT_FOUND', `execution "${executionId}" does not exist`);
  }
}

/**
 * A worker call refused for its credentials. The domain error categories have no 401/403,
 * so WorkerCredentialsFilter (on WorkersController) answers these itself, in the one
 * `{status, code, message}` shape (the codes of registration refusals are the auth guard's).
 */
export abstract class WorkerCredentialsError extends Error {
  abstract readonly status: 401 | 403;
  abstract readonly code: string;
}

/** 401: a worker call without `Authorization: Bearer <sessionSecret>`. */
export class WorkerUnauthenticatedError extends WorkerCredentialsError {
  readonly status = 401;
  readonly code = 'WORKER_UNAUTHENTICATED';

  constructor(workerId: string) {
    super(
      `calls of worker "${workerId}" need its session secret (from its registration) as ` +
        '`Authorization: Bearer <sessionSecret>`',
    );
  }
}

/** 403: a session secret that is not this worker's. */
export class WorkerForbiddenError extends WorkerCredentialsError {
  readonly status = 403;
  readonly code = 'WORKER_FORBIDDEN';

  constructor(workerId: string, why = 'the session secret is not this worker\u2019s') {
    super(`worker "${workerId}": ${why}`);
  }
}

/** 401 / 403 at registration: no token with FOREST_AUTH=on, or one that may not register here. */
export class WorkerRegistrationRefusedError extends WorkerCredentialsError {
  constructor(
    readonly status: 401 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
