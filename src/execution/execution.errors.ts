import { ExecutionStatus } from '@forest/protocol';
import { DomainError } from '../common/domain-error';

export class ExecutionNotFoundError extends DomainError {
  constructor(id: string) {
    super(
      'not_found',
      'EXECUTION_NOT_FOUND',
      `execution "${id}" does not exist (finished executions are deleted by retention)`,
    );
  }
}

/** A finished execution cannot be cancelled. */
export class ExecutionNotCancellableError extends DomainError {
  constructor(id: string, status: ExecutionStatus, worker?: string) {
    super(
      'conflict',
      'EXECUTION_NOT_CANCELLABLE',
      `execution "${id}" already finished (${status}${worker ? ` on worker "${worker}"` : ''}): ` +
        'only pending, assigned or running executions can be cancelled',
      { status },
    );
  }
}

/** A manual trigger of a `forbid` job while one of its executions is active, without force. */
export class JobActiveError extends DomainError {
  constructor(jobId: string, activeId: string) {
    super(
      'conflict',
      'JOB_ACTIVE',
      `job "${jobId}" has concurrency forbid and execution "${activeId}" is still active: ` +
        'wait for it, cancel it, or trigger with force: true',
      { activeExecution: activeId },
    );
  }
}

/** A write lost its race (dispatch, a worker report) more often than it retries. */
export class ExecutionBusyError extends DomainError {
  constructor(id: string) {
    super(
      'conflict',
      'EXECUTION_BUSY',
      `execution "${id}" kept changing while this request ran: read it again and retry`,
    );
  }
}

/** The job was edited or deleted again and again while a manual trigger was being written. */
export class JobBusyError extends DomainError {
  constructor(jobId: string) {
    super(
      'conflict',
      'JOB_BUSY',
      `job "${jobId}" kept changing while it was being triggered: retry`,
    );
  }
}
