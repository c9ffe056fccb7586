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
import { isValidExecutionId } from './execution-query';
import { decodeListCursor, encodeListCursor, ListOrder, mergeListing } from './execution-listing';
import { matchesHistoryFilters } from '../history/history-filters';
import { HistoryMover } from '../history/history-mover';
import { ExecutionHistory, HistoryFilters } from '../history/history.port';
import { InjectHistory } from '../history/history.tokens';
import { admitOps, finishOps, holdsMarker, liveView, readStates } from './execution-ops';
import { capText, isFinal, newExecution, policyFields } from './execution-record';
import { ExecutionRepository } from './execution.repository';

/** Most attempts of one fire listed (a retry policy allows at most 100 extra attempts). */
const MAX_ATTEMPTS_LISTED = 500;
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
    @InjectHistory() private readonly history: ExecutionHistory,
    private readonly mover: HistoryMover,
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
      const revision = await this.executions.commitAt(admission, [jobGuard]);
      if (revision !== undefined) {
        if (admission.replaced) {
          this.mover.moveSoon([admission.replaced], revision);
          this.metrics.executions.recordFinished(job.group, 'cancelled', false);
        }
        const replaced = admission.replaced ? ` (replaced ${admission.replaced.id})` : '';
        this.logger.log(`execution=${id} job=${jobId} triggered manually (pending)${replaced}`);
        return toExecutionDto(admission.created);
      }
    }
    throw new JobBusyError(jobId);
  }

  /** An execution by id: live from the store, else finished from the history. */
  async get(id: string, scope: Principal = ANY_GROUP): Promise<ExecutionDto> {
    const [state] = await readStates((keys) => this.executions.read(keys), [{ id }]);
    const live = state.execution
      ? liveView(state.execution.record, state.assignment?.assignment)
      : undefined;
    const record = live ?? (await this.history.get(id));
    if (!record || !mayAccessGroup(scope, record.group)) throw new ExecutionNotFoundError(id);
    return toExecutionDto(record);
  }

  /**
   * Live and finished executions together, newest first (`order=desc`, the default) or
   * oldest first, by key time (scheduled time; for a manual trigger, when it was
   * triggered) then id, behind one cursor (see execution-listing.ts). Live executions are
   * read whole from the store (`executions/` holds only what has not finished, or only the
   * job's with a jobId); finished ones one page at a time from the history.
   */
  async list(
    query: ListExecutionsQueryDto,
    scope: Principal = ANY_GROUP,
  ): Promise<ExecutionPageDto> {
    if (query.attemptsOf !== undefined) return this.attempts(query.attemptsOf, scope);
    const order = query.order ?? 'desc';
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor === undefined ? undefined : requireCursor(query.cursor, order);
    const filters = { ...toFilters(query), ...scopeFilter(scope) };
    const [live, history] = await Promise.all([
      this.executions.live(filters.jobId),
      this.history.list({ ...filters, limit, order, before: after }),
    ]);
    // Filtered after the inbox overlay: a `status=running` filter must see started ones.
    const viewed = await this.executions.withInboxState(live);
    const page = mergeListing(
      viewed.filter((record) => matchesHistoryFilters(record, filters)),
      history,
      { limit, order, after },
    );
    return {
      items: page.items.map(toSummaryDto),
      ...(page.next !== undefined ? { next: encodeListCursor(page.next, order) } : {}),
    };
  }

  /**
   * Every attempt of the fire `id` belongs to, attempt 1 first: the live ones share the
   * first attempt's key as a prefix (`{key}.r{n}`), the finished ones are the history's.
   */
  private async attempts(id: string, scope: Principal): Promise<ExecutionPageDto> {
    const first = firstAttemptId(id);
    const prefix = executionKeyOf(first);
    if (prefix === undefined || !isValidExecutionId(first)) {
      const problem = 'not an execution id';
      throw new ValidationFailedError(`attemptsOf: ${problem}`, [
        { field: 'attemptsOf', problems: [problem] },
      ]);
    }
    const filters = { attemptsOf: first, ...scopeFilter(scope) };
    const [live, finished] = await Promise.all([
      this.executions.liveUnder(prefix),
      this.history.list({ ...filters, limit: MAX_ATTEMPTS_LISTED, order: 'asc' }),
    ]);
    const byId = new Map<string, ExecutionRecord>();
    for (const record of await this.executions.withInboxState(live)) {
      if (matchesHistoryFilters(record, filters)) byId.set(record.id, record);
    }
    for (const record of finished.items) byId.set(record.id, record);
    const records = [...byId.values()].sort((a, b) => a.attempt - b.attempt);
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
      const record = state.execution?.record ?? (await this.history.get(id));
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
      const revision = await this.executions.commitAt(part);
      if (revision !== undefined) {
        this.mover.moveSoon([part.finished], revision);
        this.metrics.executions.recordFinished(record.group, 'cancelled', false);
        this.logger.log(`execution=${id} job=${record.jobId} cancelled (was ${record.status})`);
        return toExecutionDto(part.finished);
      }
    }
    throw new ExecutionBusyError(id);
  }
}

function toFilters(query: ListExecutionsQueryDto): HistoryFilters {
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
    ...(query.q !== undefined ? { text: query.q } : {}),
  };
}

/** What a caller limited to groups may see, as a history filter. */
function scopeFilter(scope: Principal): Pick<HistoryFilters, 'groups'> {
  return scope.kind === 'token' && scope.groups !== undefined ? { groups: scope.groups } : {};
}

function requireCursor(cursor: string, order: ListOrder): string {
  const key = decodeListCursor(cursor, order);
  if (key === undefined) {
    const problem = 'not a `next` this API returned for this order';
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
