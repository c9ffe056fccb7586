import { DomainError } from '../common/domain-error';

export class GroupNotFoundError extends DomainError {
  constructor(name: string) {
    super(
      'not_found',
      'GROUP_NOT_FOUND',
      `group "${name}" does not exist: create it first (POST /api/groups)`,
    );
  }
}

export class GroupExistsError extends DomainError {
  constructor(name: string) {
    super('conflict', 'GROUP_EXISTS', `group "${name}" already exists`);
  }
}

export class GroupNotEmptyError extends DomainError {
  constructor(name: string, jobCount: number) {
    super(
      'conflict',
      'GROUP_NOT_EMPTY',
      `group "${name}" still has ${jobCount} job(s): delete or move them, or pass ?force=true to delete them too`,
      { jobCount },
    );
  }
}

export class JobNotFoundError extends DomainError {
  constructor(id: string) {
    super('not_found', 'JOB_NOT_FOUND', `job "${id}" does not exist`);
  }
}

export class JobExistsError extends DomainError {
  constructor(id: string) {
    super('conflict', 'JOB_EXISTS', `job "${id}" already exists: choose another id or update it`);
  }
}

export class VersionConflictError extends DomainError {
  constructor(id: string, sent: number, current: number) {
    super(
      'conflict',
      'VERSION_CONFLICT',
      `job "${id}" is at version ${current}, not ${sent}: someone changed it; read it again and retry`,
      { currentVersion: current },
    );
  }
}

export class VersionRequiredError extends DomainError {
  constructor(id: string) {
    super(
      'invalid',
      'VERSION_REQUIRED',
      `updating job "${id}" needs the version you last read: send "version" in the body or an If-Match header`,
    );
  }
}

export class ParamsTooLargeError extends DomainError {
  constructor(bytes: number, limit: number) {
    super(
      'too_large',
      'PARAMS_TOO_LARGE',
      `params is ${bytes} bytes serialized: at most ${limit} allowed`,
    );
  }
}

export class GroupBusyError extends DomainError {
  constructor(name: string) {
    super(
      'conflict',
      'GROUP_BUSY',
      `group "${name}" kept changing while this request ran: retry it`,
    );
  }
}

export class GroupDeletingError extends DomainError {
  constructor(name: string) {
    super(
      'conflict',
      'GROUP_DELETING',
      `group "${name}" is being deleted: retry once the delete has ended (the group is then gone, or still there)`,
    );
  }
}

export class UnknownDispatchStrategyError extends DomainError {
  constructor(name: string, available: string[]) {
    super(
      'invalid',
      'UNKNOWN_DISPATCH_STRATEGY',
      `dispatch.strategy "${name}" is not a loaded dispatch strategy; available: ${available.join(', ') || 'none'}`,
      { available },
    );
  }
}

export class InvalidDispatchOptionsError extends DomainError {
  constructor(strategy: string, problems: string[]) {
    super(
      'invalid',
      'INVALID_DISPATCH_OPTIONS',
      `dispatch.options are not valid for strategy "${strategy}": ${problems.join('; ')}`,
      { problems },
    );
  }
}

export class UnknownAlertChannelError extends DomainError {
  constructor(names: string[], available: string[]) {
    super(
      'invalid',
      'UNKNOWN_ALERT_CHANNEL',
      `alerts.channels: ${names.map((n) => `"${n}"`).join(', ')} ${names.length === 1 ? 'is not a loaded alert channel' : 'are not loaded alert channels'}; available: ${available.join(', ') || 'none'}`,
      { available },
    );
  }
}

/** One invalid job of an import: its index in `jobs`, its id if it has one, what is wrong. */
export interface ImportProblem {
  index: number;
  id?: string;
  field: string;
  problems: string[];
}

export class ImportInvalidError extends DomainError {
  constructor(problems: ImportProblem[], invalidJobs: number, totalProblems: number) {
    const listed = problems
      .slice(0, 5)
      .map((p) => `jobs[${p.index}]${p.field ? `.${p.field}` : ''}: ${p.problems.join('; ')}`)
      .join(', ');
    super(
      'invalid',
      'IMPORT_INVALID',
      `${invalidJobs} job(s) of the import are invalid, nothing was written: ${listed}` +
        (totalProblems > 5 ? `, and ${totalProblems - 5} more (details.problems)` : ''),
      { problems, invalidJobs, totalProblems },
    );
  }
}

export class ImportConflictError extends DomainError {
  constructor(conflicts: string[], notUndone: string[]) {
    super(
      'conflict',
      'IMPORT_CONFLICT',
      `jobs or groups of the import changed while it was written (${conflicts.slice(0, 10).join(', ') || 'a group'}): ` +
        (notUndone.length === 0
          ? 'nothing of it was kept; retry the import'
          : `it was undone except ${notUndone.length} job(s) changed since by others (details.notUndone)`),
      { conflicts: conflicts.slice(0, 100), notUndone },
    );
  }
}
