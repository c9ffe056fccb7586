import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { ExecutionRecord, ExecutionReport, ReportResult } from '@forest/protocol';
import { Compare, CoordinationStore, getMany, TxnOp } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { ExecutionFinished } from '../execution/execution.events';
import {
  ExecutionState,
  finishOps,
  fitsOneTxn,
  joinParts,
  readStates,
  startOps,
  TxnPart,
} from '../execution/execution-ops';
import { isFinal } from '../execution/execution-record';
import { ExecutionMetrics } from '../metrics/metric-families';
import { MetricsService } from '../metrics/metrics.service';
import { HistoryMover } from '../history/history-mover';
import { ExecutionHistory } from '../history/history.port';
import { EXECUTION_HISTORY } from '../history/history.tokens';
import { InjectStore } from '../store/store.tokens';

/**
 * Reports decided from one read (3 gets each: execution, assignment, the job's marker);
 * their writes are split into txns by etcd's op limit.
 */
const REPORTS_PER_TXN = 40;
const ATTEMPTS = 4;

interface Decision {
  result: ReportResult;
  /** The record as this report finishes it (final status), for the finished$ event. */
  finished?: ExecutionFinished;
  /** The write records the handler's start: its group and start lag (seconds), when reported. */
  started?: { group: string; lagS: number };
  compare?: Compare[];
  ops?: TxnOp[];
}

/**
 * Worker reports, on any node. A report is accepted only while the execution is still in
 * this worker's inbox (`assignments/{group}/{worker}/{id}`): each write compares the mod
 * revisions of the assignment and the execution it read, so a report from a worker whose
 * work was moved, cancelled or declared lost changes nothing (`conflict`, HTTP 409).
 * Repeating an accepted report is accepted again without a write, so workers can retry.
 *
 * A batch is read in one txn and written in one txn per 60 reports, those txns in
 * parallel (they touch different keys); a txn that loses a race (the leader moved an
 * execution meanwhile) is decided again from a fresh read.
 *
 * A fast handler's `running` and final report often arrive in one batch: the final one
 * alone is written (it records the start too, see decideOne) and the `running` one gets its
 * outcome. Only a report that a later one of the same batch cannot stand for (a final
 * report followed by a different one) waits for a second round.
 */
@Injectable()
export class ReportService implements OnModuleDestroy {
  private readonly finished = new Subject<ExecutionFinished>();
  /** Executions this node recorded as finished (any final status a worker reports). */
  readonly finished$: Observable<ExecutionFinished> = this.finished.asObservable();
  private readonly metrics?: ExecutionMetrics;

  onModuleDestroy(): void {
    this.finished.complete();
  }

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly config: ForestConfig,
    @Optional() metrics?: MetricsService,
    /** Moves what the reports finish into the history (absent in unit tests). */
    @Optional() private readonly mover?: HistoryMover,
    /** Where a finished execution is once moved: a repeated final report is found there. */
    @Optional() @Inject(EXECUTION_HISTORY) private readonly history?: ExecutionHistory,
  ) {
    this.metrics = metrics?.executions;
  }

  async report(
    group: string,
    workerId: string,
    reports: ExecutionReport[],
  ): Promise<ReportResult[]> {
    const results = new Map<number, ReportResult>();
    let round = reports.map((report, index) => ({ report, index }));
    while (round.length > 0) {
      // Per execution id, the report this round writes; the ones it stands for copy its result.
      const effective = new Map<string, { report: ExecutionReport; index: number }>();
      const folded = new Map<number, number>();
      const later: typeof round = [];
      for (const item of round) {
        const current = effective.get(item.report.executionId);
        if (!current) {
          effective.set(item.report.executionId, item);
        } else if (current.report.status === 'running' || sameReport(current.report, item.report)) {
          // A final report also records the start; a repeat is the report it repeats.
          if (current.report.status === 'running') {
            folded.set(current.index, item.index);
            effective.set(item.report.executionId, item);
          } else {
            folded.set(item.index, current.index);
          }
        } else {
          later.push(item);
        }
      }
      const items = [...effective.values()].sort((a, b) => a.index - b.index);
      const chunks: (typeof items)[] = [];
      for (let i = 0; i < items.length; i += REPORTS_PER_TXN) {
        chunks.push(items.slice(i, i + REPORTS_PER_TXN));
      }
      await Promise.all(chunks.map((chunk) => this.writeChunk(group, workerId, chunk, results)));
      for (const [index, standsFor] of resolveFolds(folded)) {
        const result = results.get(standsFor)!;
        results.set(index, { ...result, executionId: reports[index].executionId });
      }
      round = later;
    }
    return reports.map((_, index) => results.get(index)!);
  }

  private async writeChunk(
    group: string,
    workerId: string,
    chunk: { report: ExecutionReport; index: number }[],
    results: Map<number, ReportResult>,
  ): Promise<void> {
    let todo = chunk;
    for (let attempt = 1; todo.length > 0; attempt++) {
      const decisions = await this.decide(
        group,
        workerId,
        todo.map((item) => item.report),
      );
      // Reports that need no write stand as decided; the writes go out in as many txns as
      // etcd's op limit needs (a final report of a retried `forbid` execution writes five
      // keys, a `running` one two), all at once: they touch different keys.
      const txns: number[][] = [];
      let current: number[] = [];
      decisions.forEach((decision, i) => {
        if (!decision.ops) return void results.set(todo[i].index, decision.result);
        const parts = [...current, i].map((j) => partOf(decisions[j]));
        if (current.length > 0 && !fitsOneTxn(parts, 0)) {
          txns.push(current);
          current = [];
        }
        current.push(i);
      });
      if (current.length > 0) txns.push(current);
      const outcomes = await Promise.all(
        txns.map((members) => this.store.txn(joinParts(members.map((i) => partOf(decisions[i]))))),
      );
      // Txns that lost a race (something changed between read and write) are decided again
      // (alone, after the first retry, so one hot key cannot keep failing the whole batch).
      const retry: typeof todo = [];
      txns.forEach((members, t) => {
        const moved: ExecutionRecord[] = [];
        for (const i of members) {
          if (!outcomes[t].succeeded) {
            retry.push(todo[i]);
            continue;
          }
          results.set(todo[i].index, decisions[i].result);
          this.count(decisions[i]);
          const finished = decisions[i].finished;
          if (finished) {
            moved.push(finished.record);
            this.finished.next(finished);
          }
        }
        this.mover?.moveSoon(moved, outcomes[t].revision);
      });
      if (retry.length === 0) return;
      if (attempt >= ATTEMPTS) {
        throw new Error(`reports of worker ${workerId} kept racing other writes; retry them`);
      }
      if (attempt >= 2 && retry.length > 1) {
        for (const item of retry) await this.writeChunk(group, workerId, [item], results);
        return;
      }
      todo = retry;
    }
  }

  /** The metrics of a committed decision: the handler's start, the final status. */
  private count({ started, finished }: Decision): void {
    if (!this.metrics) return;
    if (started) this.metrics.handlerStartLag.observe({ group: started.group }, started.lagS);
    if (finished) {
      const { record, retry } = finished;
      this.metrics.recordFinished(record.group, record.status, retry !== undefined);
    }
  }

  /** Reads the executions, assignments and markers the reports are about; decides each one. */
  private async decide(group: string, workerId: string, reports: ExecutionReport[]) {
    const states = await readStates(
      (keys) => getMany(this.store, keys),
      reports.map((report) => ({ id: report.executionId, group, workerId })),
    );
    // An execution gone from the store may have finished and moved to the history: a
    // repeat of the final report that finished it is still accepted (the worker retried
    // after losing the answer), anything else is a conflict.
    const gone = reports.filter((_, i) => !states[i].execution).map((r) => r.executionId);
    const moved = new Map<string, ExecutionRecord>();
    if (gone.length > 0 && this.history) {
      for (const record of await this.history.getMany(gone)) moved.set(record.id, record);
    }
    const now = Date.now();
    return reports.map((report, i) => {
      const record = moved.get(report.executionId);
      if (record) return decideFinished(workerId, report, record);
      return this.decideOne(workerId, report, states[i], now);
    });
  }

  private decideOne(
    workerId: string,
    report: ExecutionReport,
    state: ExecutionState,
    now: number,
  ): Decision {
    const execution = state.execution;
    if (!execution) return notFound(report);
    const { record } = execution;
    const accepted: ReportResult = { executionId: report.executionId, outcome: 'accepted' };
    if (!state.assignment || isFinal(record.status)) {
      return decideFinished(workerId, report, record);
    }
    const node = this.config.nodeId;
    if (report.status === 'running') {
      if (state.assignment.assignment.state === 'running') return { result: accepted };
      const { compare, success } = startOps(execution, state.assignment, workerId, now, node);
      return { result: accepted, started: startOf(record, report), compare, ops: success };
    }
    // A final report without a `running` first still records when it ran.
    const { compare, success, finished, retry } = finishOps(state, report.status, now, node, {
      worker: workerId,
      output: report.output,
      error: report.error,
    });
    return {
      result: accepted,
      finished: { record: finished, retry },
      started:
        state.assignment.assignment.state === 'assigned' ? startOf(record, report) : undefined,
      compare,
      ops: success,
    };
  }
}

/**
 * The handler's start lag as the report gives it: its `startedAtMs` (the worker's clock)
 * less the time the execution was due (its scheduled time; for a retry, the end of its
 * backoff). Never negative (the clocks of worker and node differ a little).
 */
function startOf(
  record: ExecutionRecord,
  report: ExecutionReport,
): Decision['started'] | undefined {
  const startedAtMs = report.startedAtMs;
  if (typeof startedAtMs !== 'number' || !Number.isFinite(startedAtMs)) return undefined;
  const dueMs = record.retryAtMs ?? record.scheduledMs;
  return { group: record.group, lagS: Math.max(0, startedAtMs - dueMs) / 1000 };
}

/** Both say the same: a retried report (the text of output and error included). */
function sameReport(a: ExecutionReport, b: ExecutionReport): boolean {
  return a.status === b.status && a.output === b.output && a.error === b.error;
}

/** Follows chains of folds (running -> running -> succeeded) to the report that was written. */
function resolveFolds(folded: Map<number, number>): [number, number][] {
  return [...folded.keys()].map((index) => {
    let target = folded.get(index)!;
    while (folded.has(target)) target = folded.get(target)!;
    return [index, target];
  });
}

/**
 * A report about an execution no longer in this worker's inbox: a repeat of a report we
 * accepted (accepted again, nothing written), or late (conflict).
 */
function decideFinished(
  workerId: string,
  report: ExecutionReport,
  record: ExecutionRecord,
): Decision {
  const repeat =
    record.worker === workerId &&
    (record.status === report.status ||
      (report.status === 'running' &&
        ['running', 'succeeded', 'failed', 'timed_out'].includes(record.status)));
  if (repeat) return { result: { executionId: report.executionId, outcome: 'accepted' } };
  const where = record.worker ? ` on worker ${record.worker}` : '';
  return {
    result: {
      executionId: report.executionId,
      outcome: 'conflict',
      message: `execution ${report.executionId} is no longer assigned to worker ${workerId}: it is ${record.status}${where}`,
    },
  };
}

function partOf(decision: Decision): TxnPart {
  return { compare: decision.compare ?? [], success: decision.ops ?? [] };
}

function notFound(report: ExecutionReport): Decision {
  return {
    result: {
      executionId: report.executionId,
      outcome: 'not_found',
      message: `execution ${report.executionId} does not exist`,
    },
  };
}
