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
