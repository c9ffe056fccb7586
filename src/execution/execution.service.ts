import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ExecutionRecord, executionId, Keyspace, uniqueExecKey } from '@forest/protocol';
import { ValidationFailedError } from '../common/domain-error';
import { ForestConfig } from '../config/forest.config';
import { ParamsTooLargeError } from '../job/job.errors';
import { MAX_PARAMS_BYTES, JobService } from '../job/job.service';
import {
  ExecutionDto,
  ExecutionPageDto,
  ExecutionSummaryDto,
  ListExecutionsQueryDto,
  TriggerJobDto,
} from './dto/execution.dto';
import {
  ExecutionBusyError,
  ExecutionNotCancellableError,
  ExecutionNotFoundError,
  JobBusyError,
} from './execution.errors';
import {
  decodeCursor,
  encodeCursor,
  ExecutionFilters,
  firstKeyAfter,
  laterKey,
  matchesFilters,
} from './execution-query';
import { capText, newExecution, transition } from './execution-record';
import { EXECUTION_PAGE, ExecutionRepository, parseExecution } from './execution.repository';

/**
 * Most executions one list request examines. Without a jobId the whole `executions/`
 * range is filtered record by record; this bounds each request's work, and a page that
 * hits it returns `next` even with fewer items than asked for.
 */
export const MAX_SCANNED_PER_REQUEST = 1000;
const DEFAULT_LIMIT = 50;
/** A cancel or trigger that loses a race re-reads and tries again this often. */
const WRITE_ATTEMPTS = 3;
/** Bytes of `error` a list item carries (the full text is in GET /api/executions/{id}). */
const SUMMARY_ERROR_BYTES = 256;

/** Manual triggers, the executions query, cancel. Any node serves them. */
@Injectable()
export class ExecutionService {
  private readonly logger = new Logger(ExecutionService.name);

  constructor(
    private readonly executions: ExecutionRepository,
    private readonly jobs: JobService,
    private readonly config: ForestConfig,
  ) {}

  /**
   * A manual run of the job now, paused or not: a pending execution (trigger `manual`)
   * and its `pending/` entry, written together; the dispatcher assigns it like a fire.
   */
  async trigger(jobId: string, dto: TriggerJobDto): Promise<ExecutionDto> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const job = await this.jobs.get(jobId);
      const params = dto?.params !== undefined ? dto.params : job.params;
      const bytes = Buffer.byteLength(JSON.stringify(params ?? null));
      if (bytes > MAX_PARAMS_BYTES) throw new ParamsTooLargeError(bytes, MAX_PARAMS_BYTES);
      const nowMs = Date.now();
      const id = executionId(jobId, uniqueExecKey(nowMs, randomBytes(4).toString('hex')));
      const record = newExecution(
        {
          id,
          jobId,
          jobName: job.name,
          group: job.group,
          target: job.target,
          params,
          trigger: 'manual',
          attempt: 1,
          scheduledMs: nowMs,
          catchUp: false,
          firedBy: { node: this.config.nodeId, token: 0 },
          timeoutMs: job.timeoutMs,
          dispatch: job.dispatch,
        },
        nowMs,
        this.config.nodeId,
      );
      // 'key-taken' (a random suffix collided) and 'job-changed' (edited or deleted since
      // read) both go round again: a deleted job then answers 404.
      if ((await this.executions.createPending(record, job.version)) === 'ok') {
        this.logger.log(`execution=${id} job=${jobId} triggered manually (pending)`);
        return toExecutionDto(record);
      }
    }
    throw new JobBusyError(jobId);
  }

  async get(id: string): Promise<ExecutionDto> {
    const stored = await this.executions.get(id);
    if (!stored) throw new ExecutionNotFoundError(id);
    return toExecutionDto(stored.record);
  }

  /**
   * Executions in key order: oldest first within a job (by scheduled time), jobs by id.
   * With a jobId only that job's keys are read, from the first key at `from`; without
   * one, `executions/` is scanned and filtered, at most MAX_SCANNED_PER_REQUEST per call.
   */
  async list(query: ListExecutionsQueryDto): Promise<ExecutionPageDto> {
    const filters = toFilters(query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const prefix = filters.jobId ? Keyspace.jobExecutions(filters.jobId) : Keyspace.executions;
    let after = laterKey(
      query.cursor === undefined ? undefined : requireCursor(query.cursor, prefix),
      filters.jobId && filters.fromMs !== undefined
        ? firstKeyAfter(filters.jobId, filters.fromMs)
        : undefined,
    );
    const items: ExecutionSummaryDto[] = [];
    let scanned = 0;
    for (;;) {
      const page = await this.executions.page(
        prefix,
        after,
        Math.min(EXECUTION_PAGE, MAX_SCANNED_PER_REQUEST - scanned),
      );
      for (let i = 0; i < page.kvs.length; i++) {
        const kv = page.kvs[i];
        scanned++;
        after = kv.key;
        const stored = parseExecution(kv);
        if (stored && matchesFilters(stored.record, filters)) {
          items.push(toSummaryDto(stored.record));
          if (items.length === limit) {
            const more = i < page.kvs.length - 1 || page.more;
            return { items, next: more ? encodeCursor(after) : undefined };
          }
        }
      }
      if (!page.more || after === undefined) return { items };
      if (scanned >= MAX_SCANNED_PER_REQUEST) return { items, next: encodeCursor(after) };
    }
  }

  /**
   * Cancels a pending execution (removing its `pending/` entry) or an assigned one that
   * its worker has not started (removing the assignment). Each is one txn guarded by the
   * mod revisions read, so it cannot interleave with a dispatch or a worker's report: a
   * lost race re-reads, and then finds the execution assigned, running or finished.
   */
  async cancel(id: string, reason?: string): Promise<ExecutionDto> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const current = await this.executions.get(id);
      if (!current) throw new ExecutionNotFoundError(id);
      const { record } = current;
      const error =
        `cancelled through the API on node ${this.config.nodeId}` + (reason ? `: ${reason}` : '');
      const cancelled = () =>
        transition(record, 'cancelled', Date.now(), this.config.nodeId, { error });
      let done: ExecutionRecord | undefined;
      if (record.status === 'pending') {
        const next = cancelled();
        if (await this.executions.finishPending(current, next)) done = next;
      } else if (record.status === 'assigned') {
        if (record.worker === undefined) {
          // No worker recorded: nothing to take back from an inbox.
          const next = cancelled();
          if (await this.executions.finishPending(current, next)) done = next;
        } else {
          const assignment = await this.executions.getAssignment(record.group, record.worker, id);
          if (assignment && assignment.assignment.state !== 'assigned') {
            throw new ExecutionNotCancellableError(id, 'running', record.worker);
          }
          const next = cancelled();
          if (await this.executions.finishAssigned(current, next, record.worker, assignment)) {
            done = next;
          }
        }
      } else {
        throw new ExecutionNotCancellableError(id, record.status, record.worker);
      }
      if (done) {
        this.logger.log(`execution=${id} job=${record.jobId} cancelled (was ${record.status})`);
        return toExecutionDto(done);
      }
    }
    throw new ExecutionBusyError(id);
  }
}

function toFilters(query: ListExecutionsQueryDto): ExecutionFilters {
  const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
  const toMs = query.to === undefined ? undefined : Date.parse(query.to);
  for (const [field, ms] of [
    ['from', fromMs],
    ['to', toMs],
  ] as const) {
    if (ms !== undefined && Number.isNaN(ms)) {
      throw new ValidationFailedError(`${field}: not a valid date-time`, [
        { field, problems: ['not a valid date-time'] },
      ]);
    }
  }
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
    throw new ValidationFailedError(`from: ${query.from} is after to ${query.to}`, [
      { field: 'from', problems: ['must not be after to'] },
    ]);
  }
  return {
    jobId: query.jobId,
    group: query.group,
    status: query.status,
    worker: query.worker,
    trigger: query.trigger,
    fromMs,
    toMs,
  };
}

function requireCursor(cursor: string, prefix: string): string {
  const key = decodeCursor(cursor, prefix);
  if (key === undefined) {
    const problem = 'not a `next` this API returned for these filters';
    throw new ValidationFailedError(`cursor: ${problem}`, [
      { field: 'cursor', problems: [problem] },
    ]);
  }
  return key;
}

export function toSummaryDto(record: ExecutionRecord): ExecutionSummaryDto {
  return {
    id: record.id,
    jobId: record.jobId,
    jobName: record.jobName,
    group: record.group,
    target: record.target,
    trigger: record.trigger,
    status: record.status,
    attempt: record.attempt,
    scheduledMs: record.scheduledMs,
    scheduledAt: record.scheduledAt,
    firedAt: record.firedAt,
    catchUp: record.catchUp,
    timeoutMs: record.timeoutMs,
    ...optional(record, 'worker', 'startedAt', 'finishedAt', 'durationMs'),
    ...(record.shard ? { shard: { index: record.shard.index, total: record.shard.total } } : {}),
    ...(record.error === undefined ? {} : { error: capText(record.error, SUMMARY_ERROR_BYTES) }),
  };
}

export function toExecutionDto(record: ExecutionRecord): ExecutionDto {
  return {
    ...toSummaryDto(record),
    ...optional(record, 'error', 'output'),
    params: record.params ?? null,
    firedBy: { node: record.firedBy.node, token: record.firedBy.token },
    ...(record.dispatch
      ? { dispatch: { strategy: record.dispatch.strategy, options: record.dispatch.options } }
      : {}),
    timeline: record.timeline.map((entry) => ({
      status: entry.status,
      at: entry.at,
      node: entry.node,
      ...(entry.worker === undefined ? {} : { worker: entry.worker }),
    })),
  };
}

/** The named fields of `record` that are set, so absent ones stay absent in the JSON. */
function optional<K extends keyof ExecutionRecord>(
  record: ExecutionRecord,
  ...keys: K[]
): Partial<Pick<ExecutionRecord, K>> {
  const picked: Partial<Pick<ExecutionRecord, K>> = {};
  for (const key of keys) {
    if (record[key] !== undefined) picked[key] = record[key];
  }
  return picked;
}
