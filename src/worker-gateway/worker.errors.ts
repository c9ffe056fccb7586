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
