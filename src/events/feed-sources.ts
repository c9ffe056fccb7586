import { Logger } from '@nestjs/common';
import {
  decodeAssignment,
  decodeExecution,
  decodeWorker,
  Keyspace,
  parseWorkerKey,
} from '@forest/protocol';
import { CoordinationStore, WatchEvent } from '@forest/store';
import { FeedSource, OpenSource, SourceHandlers } from './event-feed';
import { executionSummary, StreamEvent, workerChange } from './stream-event';

const logger = new Logger('EventSources');

/** A record that does not decode is logged and left out of the stream, never half-shown. */
function decoded<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    logger.warn(`left out of the event stream: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Every change of an execution record under `executions/`. Only puts: a finished execution
 * is put with its final status, then deleted when it moves to the history store, and that
 * delete tells a client nothing new. No prevKv: under load this prefix changes thousands of
 * times a second, and etcd serves prevKv with an extra read per event.
 *
 * A start is not a put of the record (the `running` report writes only the worker's
 * inbox entry, see startOps), so the inbox entries under `assignments/` are watched too,
 * from the same revision, and an entry that turns `running` is a `running` event.
 */
export class ExecutionSource implements FeedSource {
  readonly type = 'execution' as const;

  constructor(private readonly store: CoordinationStore) {}

  async open(handlers: SourceHandlers, fromRevision?: number): Promise<OpenSource> {
    const records = await this.store.watch(
      Keyspace.executions,
      {
        onEvents: (events) => handlers.emit(executionEvents(events)),
        onError: (error) => handlers.fail(error),
      },
      fromRevision === undefined ? {} : { fromRevision },
    );
    const coveredFrom = fromRevision ?? records.lastRevision + 1;
    try {
      const starts = await this.store.watch(
        Keyspace.assignments,
        {
          onEvents: (events) => handlers.emit(startEvents(events)),
          onError: (error) => handlers.fail(error),
        },
        { fromRevision: coveredFrom },
      );
      return {
        coveredFrom,
        close: async () => {
          await Promise.all([records.cancel(), starts.cancel()]);
        },
      };
    } catch (error) {
      await records.cancel();
      throw error;
    }
  }
}

export function executionEvents(events: readonly WatchEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const event of events) {
    if (event.type !== 'put') continue;
    const record = decoded(() => decodeExecution(event.kv.key, event.kv.value));
    if (record)
      out.push({ type: 'execution', revision: event.revision, data: executionSummary(record) });
  }
  return out;
}

/** Inbox entries that turned `running`: the execution started on its worker. */
export function startEvents(events: readonly WatchEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const event of events) {
    // Only a rewrite can be a start: a created entry is `assigned`.
    if (event.type !== 'put' || event.kv.version < 2) continue;
    const entry = decoded(() => decodeAssignment(event.kv.key, event.kv.value));
    if (!entry || entry.state !== 'running') continue;
    out.push({
      type: 'execution',
      revision: event.revision,
      data: {
        id: entry.executionId,
        jobId: entry.jobId,
        jobName: entry.jobName,
        group: entry.group,
        status: 'running',
        worker: entry.workerId,
        trigger: entry.trigger,
        attempt: entry.attempt,
        scheduledAt: entry.scheduledAt,
        startedAt:
          entry.startedAtMs === undefined ? undefined : new Date(entry.startedAtMs).toISOString(),
        finishedAt: undefined,
      },
    });
  }
  return out;
}

/**
 * Workers registering (their key created) and leaving (deleted: a goodbye or an expired
 * lease). With prevKv, so a delete still says which host and capacity left; the prefix
 * changes only when workers come and go.
 */
export class WorkerSource implements FeedSource {
  readonly type = 'worker' as const;

  constructor(private readonly store: CoordinationStore) {}

  async open(handlers: SourceHandlers, fromRevision?: number): Promise<OpenSource> {
    const watch = await this.store.watch(
      Keyspace.workers,
      {
        onEvents: (events) => handlers.emit(workerEvents(events)),
        onError: (error) => handlers.fail(error),
      },
      { prevKv: true, ...(fromRevision === undefined ? {} : { fromRevision }) },
    );
    return { coveredFrom: fromRevision ?? watch.lastRevision + 1, close: () => watch.cancel() };
  }
}

export function workerEvents(events: readonly WatchEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const event of events) {
    const key = parseWorkerKey(event.kv.key);
    if (!key) continue;
    if (event.type === 'put') {
      // Later puts of a live worker (marked leaving) are not a registration.
      if (event.kv.version !== 1) continue;
      const record = decoded(() => decodeWorker(event.kv.key, event.kv.value));
      if (record) {
        out.push({
          type: 'worker',
          revision: event.revision,
          data: workerChange('registered', record),
        });
      }
      continue;
    }
    const previous = event.prevKv && decoded(() => decodeWorker(event.kv.key, event.prevKv!.value));
    out.push({
      type: 'worker',
      revision: event.revision,
      data: previous
        ? workerChange('left', previous)
        : { change: 'left', group: key.group, workerId: key.workerId },
    });
  }
  return out;
}
