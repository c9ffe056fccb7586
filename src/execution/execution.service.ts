import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  ExecutionRecord,
  executionId,
  executionKeyOf,
  firstAttemptId,
  Keyspace,
  uniqueExecKey,
} from '@forest/protocol';
import { Compare } from '@forest/store';
import { actorOf, mayAccessGroup, Principal } from '../auth/access';
import { ANY_GROUP } from '../auth/scope';
import { ValidationFailedError } from '../common/domain-error';
import { ForestConfig } from '../config/forest.config';
import { MetricsService } from '../metrics/metrics.service';
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
  JobActiveError,
  JobBusyError,
} from './execution.errors';
import {
  afterJob,
  decodeCursor,
  encodeCursor,
  ExecutionFilters,
  ExecutionOrder,
  firstKeyAfter,
  laterKey,
  matchesFilters,
  parseExecutionKey,
} from './execution-query';
import { admitOps, finishOps, holdsMarker, readStates } from './execution-ops';
import { capText, isFinal, newExecution, policyFields } from './execution-record';
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

/**
 * Manual triggers, the executions query, cancel. Any node serves them. With a `scope` (the
 * caller), an execution or job of a group outside it is missing (404) and lists skip them.
 */
@Injectable()
export class ExecutionService {
  private readonly logger = new Logger(ExecutionService.name);

  constructor(
    private readonly executions: ExecutionRepository,
    private readonly jobs: JobService,
    private readonly config: ForestConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * A manual run of the job now, paused or not: a pending execution (trigger `manual`)
   * and its `pending/` entry, written together; the dispatcher assigns it like a fire.
   * The job's concurrency policy applies unless `force`: under `forbid` a busy job answers
   * 409, under `replace` the running execution is cancelled in the same write.
   */
  async trigger(
    jobId: string,
    dto: TriggerJobDto,
    scope: Principal = ANY_GROUP,
  ): Promise<ExecutionDto> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const job = await this.jobs.get(jobId, scope);
      const params = dto?.params !== undefined ? dto.params : job.params;
      const bytes = Buffer.byteLength(JSON.stringify(params ?? null));
      if (bytes > MAX_PARAMS_BYTES) throw new ParamsTooLargeError(bytes, MAX_PARAMS_BYTES);
      const nowMs = Date.now();
      const node = this.config.nodeId;
      const id = executionId(jobId, uniqueExecKey(nowMs, randomBytes(4).toString('hex')));
      const record: ExecutionRecord = {
        ...newExecution(
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
            firedBy: { node, token: 0 },
            timeoutMs: job.timeoutMs,
            dispatch: job.dispatch,
          },
          nowMs,
          node,
        ),
        ...policyFields({
          concurrency: job.concurrency,
          retry: dto?.retry === false ? { ...job.retry, maxAttempts: 0 } : job.retry,
        }),
        ...(dto?.force && job.concurrency !== 'allow' ? { forced: true } : {}),
      };
      const marker = holdsMarker(record) ? await this.executions.marker(jobId) : undefined;
      const [holder] = marker
        ? await readStates((keys) => this.executions.read(keys), [{ id: marker.value }])
        : [undefined];
      const admission = admitOps(record, marker, holder, { nowMs, node });
      if (admission.kind === 'busy') throw new JobActiveError(jobId, admission.holderId);
      // The job must still be as read (edited or deleted meanwhile: read again).
      const jobGuard: Compare = {
        key: Keyspace.job(jobId),
        target: 'version',
        op: '==',
        value: job.version,
      };
      if (await this.executions.commit(admission, [jobGuard])) {
        if (admission.replaced) {
          this.metrics.executions.recordFinished(job.group, 'cancelled', false);
        }
        const replaced = admission.replaced ? ` (replaced ${admission.replaced.id})` : '';
        this.logger.log(`execution=${id} job=${jobId} triggered manually (pending)${replaced}`);
        return toExecutionDto(admission.created);
      }
    }
    throw new JobBusyError(jobId);
  }

  async get(id: string, scope: Principal = ANY_GROUP): Promise<ExecutionDto> {
    const stored = await this.executions.get(id);
    if (!stored || !mayAccessGroup(scope, stored.record.group)) {
      throw new ExecutionNotFoundError(id);
    }
    return toExecutionDto(stored.record);
  }

  /**
   * Executions newest first (`order=desc`, the default) or oldest first (`asc`), within a
   * job by scheduled time; across jobs (no jobId) job by job, by job id. With a jobId only
   * that job's keys are read; without one, `executions/` is walked job by job. Either way
   * at most MAX_SCANNED_PER_REQUEST keys are read per call.
   */
  async list(
    query: ListExecutionsQueryDto,
    scope: Principal = ANY_GROUP,
  ): Promise<ExecutionPageDto> {
    if (query.attemptsOf !== undefined) return this.attempts(query.attemptsOf, scope);
    const filters = toFilters(query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const prefix = filters.jobId ? Keyspace.jobExecutions(filters.jobId) : Keyspace.executions;
    if ((query.order ?? 'desc') === 'desc') {
      const bound =
        query.cursor === undefined ? undefined : requireCursor(query.cursor, prefix, 'desc');
      return this.newestFirst(filters, limit, bound, scope);
    }
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
        if (
          stored &&
          matchesFilters(stored.record, filters) &&
          mayAccessGroup(scope, stored.record.group)
        ) {
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
   * Newest first. One job: its keys read backwards in time windows (readNewestFirst, as
   * the audit log). Without a jobId, job after job in id order, each newest first: a job
   * costs a key lookup to find plus the reader's count-only ranges, so every job visited
   * counts against the scan budget (at least one key) besides the keys it reads.
   */
  private async newestFirst(
    filters: ExecutionFilters,
    limit: number,
    cursorBound: string | undefined,
    scope: Principal,
  ): Promise<ExecutionPageDto> {
    const read = (jobId: string, bound: string | undefined, want: number, budget: number) =>
      this.executions.newestFirst<ExecutionRecord>({
        prefix: Keyspace.jobExecutions(jobId),
        limit: want,
        budget,
        bound,
        fromMs: filters.fromMs,
        toMs: filters.toMs,
        decode: (kv) => parseExecution(kv)?.record,
        accept: (record) => matchesFilters(record, filters) && mayAccessGroup(scope, record.group),
      });
    const summaries = (records: ExecutionRecord[]) => records.map(toSummaryDto);
    if (filters.jobId) {
      const page = await read(filters.jobId, cursorBound, limit, MAX_SCANNED_PER_REQUEST);
      return {
        items: summaries(page.items),
        ...(page.next ? { next: encodeCursor(page.next, 'desc') } : {}),
      };
    }
    // Across jobs: the cursor names the job to go on with, and where in it.
    let jobId: string | undefined;
    let bound: string | undefined;
    if (cursorBound !== undefined) {
      const parsed = parseExecutionKey(cursorBound);
      if (parsed) {
        jobId = parsed.jobId;
        bound = cursorBound;
      } else {
        // `executions/{jobId}/`: that job is done.
        jobId = await this.nextJobWithExecutions(cursorBound.slice(Keyspace.executions.length, -1));
      }
    } else {
      jobId = await this.nextJobWithExecutions(undefined);
    }
    const items: ExecutionSummaryDto[] = [];
    let scanned = 0;
    while (jobId !== undefined) {
      const page = await read(
        jobId,
        bound,
        limit - items.length,
        MAX_SCANNED_PER_REQUEST - scanned,
      );
      items.push(...summaries(page.items));
      scanned += Math.max(1, page.scanned);
      const resume = page.next ?? Keyspace.jobExecutions(jobId);
      if (page.next !== undefined || items.length >= limit || scanned >= MAX_SCANNED_PER_REQUEST) {
        return { items, next: encodeCursor(resume, 'desc') };
      }
      jobId = await this.nextJobWithExecutions(jobId);
      bound = undefined;
    }
    return { items };
  }

  /** The first job id (with executions) after `jobId`, or the first of all. */
  private async nextJobWithExecutions(jobId: string | undefined): Promise<string | undefined> {
    const page = await this.executions.page(
      Keyspace.executions,
      jobId === undefined ? undefined : afterJob(jobId),
      1,
    );
    const kv = page.kvs[0];
    return kv ? parseExecutionKey(kv.key)?.jobId : undefined;
  }

  /**
   * Every attempt of the fire `id` belongs to, attempt 1 first. Attempts share the first
   * attempt's key as a prefix (`{key}.r{n}`), so this reads one short key range.
   */
  private async attempts(id: string, scope: Principal): Promise<ExecutionPageDto> {
    const first = firstAttemptId(id);
    const prefix = executionKeyOf(first);
    if (prefix === undefined) {
      const problem = 'not an execution id';
      throw new ValidationFailedError(`attemptsOf: ${problem}`, [
        { field: 'attemptsOf', problems: [problem] },
      ]);
    }
    const records: ExecutionRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.executions.page(prefix, after, EXECUTION_PAGE);
      for (const kv of page.kvs) {
        const stored = parseExecution(kv);
        if (
          stored &&
          firstAttemptId(stored.record.id) === first &&
          mayAccessGroup(scope, stored.record.group)
        ) {
          records.push(stored.record);
        }
      }
      after = page.kvs.at(-1)?.key;
      if (!page.more || after === undefined) break;
    }
    records.sort((a, b) => a.attempt - b.attempt);
    return { items: records.map(toSummaryDto) };
  }

  /**
   * Cancels an execution that has not finished: a pending one leaves `pending/`, an
   * assigned or running one leaves its worker's inbox (the worker aborts the handler when
   * its next heartbeat says so). One txn guarded by what was read, so it cannot interleave
   * with a dispatch, a worker's report or the leader's deadline: a lost race re-reads.
   * A cancelled execution is never retried; it releases the job's concurrency marker.
   */
  async cancel(id: string, reason?: string, scope: Principal = ANY_GROUP): Promise<ExecutionDto> {
    const node = this.config.nodeId;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const [state] = await readStates((keys) => this.executions.read(keys), [{ id }]);
      const record = state.execution?.record;
      if (!record || !mayAccessGroup(scope, record.group)) throw new ExecutionNotFoundError(id);
      if (isFinal(record.status)) {
        throw new ExecutionNotCancellableError(id, record.status, record.worker);
      }
      const part = finishOps(state, 'cancelled', Date.now(), node, {
        error: `cancelled through the API on node ${node}` + (reason ? `: ${reason}` : ''),
        cancelledBy: {
          kind: 'api',
          node,
          // Who, when a token says so (FOREST_AUTH=on): its name, as the audit log has it.
          ...(scope.kind === 'token' ? { by: actorOf(scope) } : {}),
          ...(reason ? { reason } : {}),
        },
        noRetry: true,
      });
      if (await this.executions.commit(part)) {
        this.metrics.executions.recordFinished(record.group, 'cancelled', false);
        this.logger.log(`execution=${id} job=${record.jobId} cancelled (was ${record.status})`);
        return toExecutionDto(part.finished);
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

function requireCursor(cursor: string, prefix: string, order: ExecutionOrder = 'asc'): string {
  const key = decodeCursor(cursor, prefix, order);
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
    ...(record.retryOf === undefined ? {} : { retryOf: record.retryOf }),
    ...(record.retryAtMs === undefined
      ? {}
      : { retryAt: new Date(record.retryAtMs).toISOString() }),
    ...(record.skipReason === undefined ? {} : { skipReason: record.skipReason }),
    ...(record.cancelledBy === undefined ? {} : { cancelledBy: { ...record.cancelledBy } }),
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
    ...(record.retry ? { retryPolicy: { ...record.retry } } : {}),
    ...(record.concurrency ? { concurrency: record.concurrency } : {}),
    ...(record.forced ? { forced: true } : {}),
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
