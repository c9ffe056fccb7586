import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { GroupRecord, JobRecord } from '@forest/protocol';
import { mayAccessGroup, Principal } from '../auth/access';
import { ANY_GROUP, requireGroupInScope, scopeGroups } from '../auth/scope';
import { ValidationFailedError } from '../common/domain-error';
import { pageOf } from '../common/paging';
import {
  CronSchedule,
  InvalidScheduleError,
  describeFireTime,
  validateSchedule,
} from '../schedule/cron-schedule';
import { FireTimesDto } from './dto/schedule.dto';
import { CreateJobDto, JobDto, ListJobsQueryDto, PatchJobDto, ReplaceJobDto } from './dto/job.dto';
import {
  GroupBusyError,
  GroupDeletingError,
  InvalidDispatchOptionsError,
  UnknownAlertChannelError,
  UnknownDispatchStrategyError,
  GroupNotFoundError,
  JobExistsError,
  JobNotFoundError,
  ParamsTooLargeError,
  VersionConflictError,
  VersionRequiredError,
} from './job.errors';
import { JobRepository, Stored } from './job.repository';
import { DispatchStrategies } from '../plugins/dispatch-strategies.service';
import { PluginRegistry } from '../plugins/plugin-registry';

export const MAX_PARAMS_BYTES = 64 * 1024;
/** A write that races a change of its group re-reads and tries again this often. */
const GROUP_RACE_ATTEMPTS = 20;

const DEFAULTS = {
  timezone: 'UTC',
  strategy: 'round-robin',
  concurrency: 'allow',
  retry: { maxAttempts: 0, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 60_000 },
  misfire: { policy: 'fire_once', catchUpWindowMs: 3_600_000 },
  alertEvents: ['failed', 'timed_out', 'lost'],
} as const;

export type JobFields = Omit<JobRecord, 'id' | 'createdAt' | 'updatedAt' | 'activeSince'>;

/**
 * Jobs: validation beyond the DTOs (schedule, group, params), defaults, versioned writes.
 * Methods that take a `scope` (the caller) treat a job of a group outside it as missing
 * (404) and refuse to put a job into such a group (403); see src/auth/scope.ts.
 */
@Injectable()
export class JobService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly strategies: DispatchStrategies,
    private readonly plugins: PluginRegistry,
  ) {}

  async create(dto: CreateJobDto, scope: Principal = ANY_GROUP): Promise<JobDto> {
    requireGroupInScope(scope, dto.group);
    requireUsableId(dto.id);
    const now = new Date().toISOString();
    const job: JobRecord = {
      id: dto.id ?? randomUUID(),
      ...validFields(withDefaults(dto)),
      createdAt: now,
      updatedAt: now,
      activeSince: now,
    };
    await this.checkPlugins(job);
    for (let attempt = 1; ; attempt++) {
      const group = await this.requireGroup(job.group);
      const outcome = await this.jobs.createJob(job, group);
      if (outcome === 'ok') return toJobDto(job, 1);
      if (outcome === 'conflict') throw new JobExistsError(job.id);
      await groupRace(outcome, job.group, attempt);
    }
  }

  /**
   * The fields create would store for `dto`, without writing: defaults, schedule, params
   * size, plugin names and options checked (the bulk import validates each job with it).
   * Throws what create throws for a bad definition; the group is not checked.
   */
  async definition(dto: CreateJobDto): Promise<JobFields> {
    const fields = validFields(withDefaults(dto));
    await this.checkPlugins(fields);
    return fields;
  }

  async get(id: string, scope: Principal = ANY_GROUP): Promise<JobDto> {
    const stored = await this.require(id, scope);
    return toJobDto(stored.record, stored.version);
  }

  async list(
    query: ListJobsQueryDto,
    scope: Principal = ANY_GROUP,
  ): Promise<{ items: JobDto[]; total: number; next?: string }> {
    const name = query.name?.toLowerCase();
    const matching = (await this.jobs.listJobs()).filter(
      ({ record }) =>
        mayAccessGroup(scope, record.group) &&
        (!query.group || record.group === query.group) &&
        (!query.state || record.state === query.state) &&
        (!name || record.name.toLowerCase().includes(name)) &&
        (!query.strategy || record.dispatch.strategy === query.strategy),
    );
    const page = pageOf(matching, ({ record }) => record.id, query, 'jobs');
    return {
      items: page.items.map(({ record, version }) => toJobDto(record, version)),
      total: matching.length,
      next: page.next,
    };
  }

  /** PUT: every field as given; absent optional fields take their defaults. */
  replace(
    id: string,
    dto: ReplaceJobDto,
    ifMatch?: string,
    scope: Principal = ANY_GROUP,
  ): Promise<JobDto> {
    const version = requireVersion(id, dto.version, ifMatch);
    return this.update(id, version, () => validFields(withDefaults(dto)), scope);
  }

  /** PATCH: only the given fields change; policy blocks merge field by field. */
  patch(
    id: string,
    dto: PatchJobDto,
    ifMatch?: string,
    scope: Principal = ANY_GROUP,
  ): Promise<JobDto> {
    const version = requireVersion(id, dto.version, ifMatch);
    return this.update(id, version, (current) => validFields(merge(current, dto)), scope);
  }

  /**
   * Pause/resume: the version check is optional (the action is idempotent). A job already
   * in that state is answered as it is: no write, its version stays.
   */
  async setState(
    id: string,
    state: JobRecord['state'],
    version?: number,
    ifMatch?: string,
    scope: Principal = ANY_GROUP,
  ): Promise<JobDto> {
    const expected = version ?? parseIfMatch(ifMatch);
    const current = await this.require(id, scope);
    if (current.record.state === state && (expected ?? current.version) === current.version) {
      return toJobDto(current.record, current.version);
    }
    return this.update(id, expected, (record) => ({ ...record, state }), scope);
  }

  async delete(id: string, scope: Principal = ANY_GROUP): Promise<void> {
    if (scopeGroups(scope) === undefined) {
      if (!(await this.jobs.deleteJob(id))) throw new JobNotFoundError(id);
      return;
    }
    // Limited to groups: delete the job only as read (in scope), not one moved meanwhile.
    for (let attempt = 1; ; attempt++) {
      const current = await this.require(id, scope);
      if (await this.jobs.deleteJob(id, current.version)) return;
      if (attempt >= GROUP_RACE_ATTEMPTS) throw new GroupBusyError(current.record.group);
    }
  }

  async nextFires(id: string, count: number, scope: Principal = ANY_GROUP): Promise<FireTimesDto> {
    const { record } = await this.require(id, scope);
    return previewFires(record.schedule.cron, record.schedule.timezone, Date.now(), count);
  }

  /**
   * Read, change, write if still at the version read. `expected` (from the client) must
   * match the stored version; without it (pause/resume) the read version is used.
   */
  private async update(
    id: string,
    expected: number | undefined,
    change: (current: JobRecord) => JobFields,
    scope: Principal,
  ): Promise<JobDto> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.require(id, scope);
      if (expected !== undefined && current.version !== expected) {
        throw new VersionConflictError(id, expected, current.version);
      }
      const fields = change(current.record);
      requireGroupInScope(scope, fields.group);
      await this.checkPlugins(fields, current.record);
      const now = new Date().toISOString();
      const resumed = current.record.state === 'paused' && fields.state === 'active';
      const next: JobRecord = {
        ...fields,
        id,
        createdAt: current.record.createdAt,
        updatedAt: now,
        activeSince: resumed ? now : (current.record.activeSince ?? current.record.createdAt),
      };
      const movedTo =
        next.group !== current.record.group ? await this.requireGroup(next.group) : undefined;
      const outcome = await this.jobs.replaceJob(next, current.version, movedTo);
      if (outcome === 'ok') return toJobDto(next, current.version + 1);
      if (outcome === 'missing') throw new JobNotFoundError(id);
      if (outcome === 'conflict' && expected !== undefined) {
        const latest = await this.jobs.getJob(id);
        if (!latest) throw new JobNotFoundError(id);
        throw new VersionConflictError(id, expected, latest.version);
      }
      await groupRace(outcome, next.group, attempt);
    }
  }

  /**
   * The job's strategy and channels must be loaded, and its dispatch options valid for
   * the strategy. Unchanged settings are not checked again, so pausing a job whose plugin
   * was removed still works.
   */
  private async checkPlugins(fields: JobFields, current?: JobRecord): Promise<void> {
    const { strategy, options } = fields.dispatch;
    if (!current || JSON.stringify(current.dispatch) !== JSON.stringify(fields.dispatch)) {
      const known = this.strategies.names();
      if (!known.includes(strategy)) throw new UnknownDispatchStrategyError(strategy, known);
      const problems = await this.strategies.validate(strategy, options);
      if (problems.length > 0) throw new InvalidDispatchOptionsError(strategy, problems);
    }
    const channels = fields.alerts.channels;
    if (!current || channels.join() !== current.alerts.channels.join()) {
      const known = this.plugins.channelNames();
      const unknown = channels.filter((name) => !known.includes(name));
      if (unknown.length > 0) throw new UnknownAlertChannelError(unknown, known);
    }
  }

  /** The job, if it exists and is in the caller's groups (otherwise 404 either way). */
  private async require(id: string, scope: Principal = ANY_GROUP): Promise<Stored<JobRecord>> {
    const stored = await this.jobs.getJob(id);
    if (!stored || !mayAccessGroup(scope, stored.record.group)) throw new JobNotFoundError(id);
    return stored;
  }

  private async requireGroup(name: string): Promise<Stored<GroupRecord>> {
    const group = await this.jobs.getGroup(name);
    if (!group) throw new GroupNotFoundError(name);
    return group;
  }
}

/** Job ids that name a route under /api/jobs (GET /api/jobs/export) are not allowed. */
const RESERVED_JOB_IDS = new Set(['export', 'import']);

export function requireUsableId(id: string | undefined): void {
  if (id === undefined || !RESERVED_JOB_IDS.has(id)) return;
  const problem = `"${id}" is reserved (GET /api/jobs/${id} is a route)`;
  throw new ValidationFailedError(`id: ${problem}`, [{ field: 'id', problems: [problem] }]);
}

/**
 * After a write into `group` failed its group guard: a gone group is 404; a running delete
 * of the group is waited out (it ends within moments: refused as not empty, or the group is
 * gone) and 409 GROUP_DELETING if it does not; a recreated group is simply read again.
 */
export async function groupRace(outcome: string, group: string, attempt: number): Promise<void> {
  if (outcome === 'group-missing') throw new GroupNotFoundError(group);
  if (attempt >= GROUP_RACE_ATTEMPTS) {
    if (outcome === 'group-deleting') throw new GroupDeletingError(group);
    throw new GroupBusyError(group);
  }
  if (outcome === 'group-deleting') {
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, 10 * 2 ** (attempt - 1))));
  }
}

/** The next `count` fire times after `afterMs`, in UTC and in the schedule's zone. */
export function previewFires(
  cron: string,
  timezone: string,
  afterMs: number,
  count: number,
): FireTimesDto {
  const spec = checkSchedule({ cron, timezone }, '');
  const fires = CronSchedule.compile(spec)
    .nextN(afterMs, count)
    .map((ms) => describeFireTime(ms, spec.timezone));
  return { cron: spec.cron, timezone: spec.timezone, fires };
}

function withDefaults(dto: CreateJobDto | ReplaceJobDto): JobFields {
  return {
    name: dto.name,
    group: dto.group,
    schedule: { cron: dto.schedule.cron, timezone: dto.schedule.timezone ?? DEFAULTS.timezone },
    target: dto.target,
    params: dto.params ?? null,
    state: dto.state ?? 'active',
    dispatch: {
      strategy: dto.dispatch?.strategy ?? DEFAULTS.strategy,
      options: dto.dispatch?.options ?? {},
    },
    concurrency: dto.concurrency ?? DEFAULTS.concurrency,
    timeoutMs: dto.timeoutMs ?? 0,
    retry: { ...DEFAULTS.retry, ...defined(dto.retry) },
    misfire: { ...DEFAULTS.misfire, ...defined(dto.misfire) },
    alerts: {
      channels: dto.alerts?.channels ?? [],
      events: dto.alerts?.events ?? [...DEFAULTS.alertEvents],
    },
    remark: dto.remark ?? '',
  };
}

function merge(current: JobRecord, dto: PatchJobDto): JobFields {
  const { version, params, ...patch } = dto; // version was checked by the caller
  return {
    ...current,
    ...defined(patch),
    // params may be set to null on purpose; every other field treats null as "not given".
    params: params === undefined ? current.params : params,
    schedule: { ...current.schedule, ...defined(dto.schedule) },
    dispatch: { ...current.dispatch, ...defined(dto.dispatch) },
    retry: { ...current.retry, ...defined(dto.retry) },
    misfire: { ...current.misfire, ...defined(dto.misfire) },
    alerts: { ...current.alerts, ...defined(dto.alerts) },
  };
}

/** Checks what the DTO decorators cannot: cron and zone, delays, params size. */
function validFields(fields: JobFields): JobFields {
  const schedule = checkSchedule(fields.schedule, 'schedule.');
  if (fields.retry.initialDelayMs > fields.retry.maxDelayMs) {
    throw new ValidationFailedError(
      `retry.initialDelayMs: ${fields.retry.initialDelayMs} is larger than retry.maxDelayMs ${fields.retry.maxDelayMs}`,
      [{ field: 'retry.initialDelayMs', problems: ['must not exceed retry.maxDelayMs'] }],
    );
  }
  const bytes = Buffer.byteLength(JSON.stringify(fields.params ?? null));
  if (bytes > MAX_PARAMS_BYTES) throw new ParamsTooLargeError(bytes, MAX_PARAMS_BYTES);
  return { ...fields, schedule };
}

function checkSchedule(
  schedule: { cron: string; timezone: string },
  fieldPrefix: string,
): { cron: string; timezone: string } {
  try {
    return validateSchedule(schedule);
  } catch (error) {
    if (!(error instanceof InvalidScheduleError)) throw error;
    const field = `${fieldPrefix}${error.field}`;
    throw new ValidationFailedError(`${field}: ${error.message}`, [
      { field, problems: [error.message] },
    ]);
  }
}

function requireVersion(id: string, bodyVersion?: number, ifMatch?: string): number {
  const version = bodyVersion ?? parseIfMatch(ifMatch);
  if (version === undefined) throw new VersionRequiredError(id);
  return version;
}

/** If-Match: `3`, `"3"` or `W/"3"`. */
function parseIfMatch(header?: string): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!match) {
    throw new ValidationFailedError(
      `If-Match: "${header}" is not a job version (e.g. If-Match: "3")`,
    );
  }
  return Number(match[1]);
}

/**
 * Drops absent properties (undefined, or null: class-validator's IsOptional lets null
 * through), so spreading a partial DTO never erases a value or stores a null.
 */
function defined<T extends object>(value: T | undefined | null): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && v !== null),
  ) as Partial<T>;
}

export function toJobDto(job: JobRecord, version: number): JobDto {
  return {
    id: job.id,
    name: job.name,
    group: job.group,
    schedule: { ...job.schedule },
    target: job.target,
    params: job.params,
    state: job.state,
    dispatch: { strategy: job.dispatch.strategy, options: job.dispatch.options },
    concurrency: job.concurrency,
    timeoutMs: job.timeoutMs,
    retry: { ...job.retry },
    misfire: { ...job.misfire },
    alerts: { channels: [...job.alerts.channels], events: [...job.alerts.events] },
    remark: job.remark,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    version,
  };
}
