/** A node answered with an error `{status, code, message, details}` (4xx: retrying elsewhere will not help). */
export class ForestNodeError extends Error {
  override readonly name = 'ForestNodeError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** `METHOD path` of the request. */
    readonly request: string,
    /** The node base URL that answered. */
    readonly node: string,
  ) {
    super(`${request} -> ${status} ${code}: ${message}`);
  }
}

/** No node gave a usable answer (network errors, timeouts, 5xx) — every node was tried. */
export class ForestUnavailableError extends Error {
  override readonly name = 'ForestUnavailableError';

  constructor(
    readonly request: string,
    readonly failures: ReadonlyArray<{ node: string; reason: string }>,
  ) {
    super(
      `${request}: no node answered (${failures.map((f) => `${f.node}: ${f.reason}`).join('; ')})`,
    );
  }
}

/** Bad options or handlers, found before anything is sent. */
export class ForestWorkerConfigError extends Error {
  override readonly name = 'ForestWorkerConfigError';
}

/** The abort reason when an execution's own time limit (`timeoutMs`) passes. */
export class ExecutionTimeoutError extends Error {
  override readonly name = 'ExecutionTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`execution timed out after ${timeoutMs}ms`);
  }
}

/** The abort reason when the worker stops and the stop deadline passed. */
export class WorkerStoppingError extends Error {
  override readonly name = 'WorkerStoppingError';

  constructor(readonly timeoutMs: number) {
    super(`worker is stopping: the handler did not finish within ${timeoutMs}ms`);
  }
}

/**
 * The abort reason when the execution is no longer this worker's: a heartbeat's answer
 * named it (the node timed it out, it was cancelled or replaced, moved to another worker),
 * the worker's lease was lost (`lost`), or the node refused a report for it. `status` is
 * what the node says it is now; no report is sent for it any more.
 */
export class ExecutionRevokedError extends Error {
  override readonly name = 'ExecutionRevokedError';

  constructor(
    readonly executionId: string,
    readonly status: string,
    readonly reason: string,
  ) {
    super(
      `execution ${executionId} is no longer this worker's (${status}${reason ? `: ${reason}` : ''})`,
    );
  }
}

/** True for the 404 that means the worker's lease is gone and it must register again. */
export function isWorkerNotFound(error: unknown): error is ForestNodeError {
  return (
    error instanceof ForestNodeError && error.status === 404 && error.code === 'WORKER_NOT_FOUND'
  );
}

/**
 * True when the node will not take calls under this worker id any more, so the worker must
 * register again (new id, new session secret): its lease is gone (404 WORKER_NOT_FOUND), or
 * the node refuses its session secret (401 WORKER_UNAUTHENTICATED, 403 WORKER_FORBIDDEN).
 */
export function isWorkerSessionLost(error: unknown): error is ForestNodeError {
  return (
    isWorkerNotFound(error) ||
    (error instanceof ForestNodeError &&
      ((error.status === 401 && error.code === 'WORKER_UNAUTHENTICATED') ||
        (error.status === 403 && error.code === 'WORKER_FORBIDDEN')))
  );
}
