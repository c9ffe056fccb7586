import { Injectable } from '@nestjs/common';
import {
  Keyspace,
  LogBatchResult,
  MAX_LOG_LINE_BYTES,
  MAX_LOG_LINES_PER_BATCH,
  WorkerLogPolicy,
} from '@forest/protocol';
import { CoordinationStore, getMany } from '@forest/store';
import { ValidationFailedError } from '../common/domain-error';
import { ForestConfig } from '../config/forest.config';
import { LogsNotKeptError } from '../execution-logs/execution-logs.errors';
import { ExecutionLogs } from '../history/history.port';
import { InjectLogs } from '../history/history.tokens';
import { LogArrivals } from '../history/log-arrivals';
import { InjectStore } from '../store/store.tokens';
import { AssignmentInbox } from './assignment-inbox.service';
import { ExecutionLogLinesDto } from './dto/worker-logs.dto';

/**
 * Takes the live log lines workers post (POST /api/workers/{group}/{workerId}/logs) into the
 * execution-logs store, never into the coordination store. Lines are taken only for
 * executions in the posting worker's inbox, as reports are: a worker whose work moved,
 * finished or was cancelled writes nothing into it. The inbox mirror answers the usual case
 * from memory; what it does not hold (it lags the store by a watch hop) is read.
 */
@Injectable()
export class WorkerLogIntake {
  constructor(
    @InjectLogs() private readonly logs: ExecutionLogs | null,
    @InjectStore() private readonly store: CoordinationStore,
    private readonly inbox: AssignmentInbox,
    private readonly config: ForestConfig,
    private readonly arrivals: LogArrivals,
  ) {}

  /** What a registering worker is told about logs. */
  get policy(): WorkerLogPolicy {
    return {
      enabled: this.logs !== null,
      maxBytesPerExecution: this.config.logMaxBytesPerExecution,
      maxLinesPerExecution: this.config.logMaxLinesPerExecution,
      maxLineBytes: MAX_LOG_LINE_BYTES,
      maxLinesPerBatch: MAX_LOG_LINES_PER_BATCH,
    };
  }

  async accept(
    group: string,
    workerId: string,
    executions: readonly ExecutionLogLinesDto[],
  ): Promise<LogBatchResult[]> {
    const logs = this.logs;
    if (logs === null) throw new LogsNotKeptError();
    const lines = executions.reduce((sum, entry) => sum + entry.lines.length, 0);
    if (lines > MAX_LOG_LINES_PER_BATCH) {
      const problem = `at most ${MAX_LOG_LINES_PER_BATCH} lines in one batch (got ${lines})`;
      throw new ValidationFailedError(`executions: ${problem}`, [
        { field: 'executions', problems: [problem] },
      ]);
    }
    const mine = await this.inInbox(
      group,
      workerId,
      executions.map((entry) => entry.executionId),
    );
    // One append per execution, in parallel: each keeps its own bound.
    return Promise.all(
      executions.map(async ({ executionId, lines: batch }): Promise<LogBatchResult> => {
        if (!mine.has(executionId)) {
          return { executionId, outcome: 'conflict', stored: 0, dropped: 0 };
        }
        const { stored, dropped } = await logs.append(executionId, batch);
        if (stored > 0) this.arrivals.stored(executionId);
        return { executionId, outcome: 'accepted', stored, dropped };
      }),
    );
  }

  /** The ids whose assignment is in the worker's inbox now. */
  private async inInbox(
    group: string,
    workerId: string,
    ids: readonly string[],
  ): Promise<Set<string>> {
    const mine = new Set(ids.filter((id) => this.inbox.holds(group, workerId, id) === true));
    const unsure = [...new Set(ids.filter((id) => !mine.has(id)))];
    if (unsure.length === 0) return mine;
    const found = await getMany(
      this.store,
      unsure.map((id) => Keyspace.assignment(group, workerId, id)),
    );
    unsure.forEach((id, i) => {
      if (found[i] !== undefined) mine.add(id);
    });
    return mine;
  }
}
