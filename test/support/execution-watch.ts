import { Etcd3, IEvent, Watcher } from 'etcd3';
import { ExecutionRecord, ExecutionStatus, FINAL_EXECUTION_STATUSES } from '@forest/protocol';
import { eventually } from './wait';

/** One etcd revision that touched the watched executions: what each became. */
export interface ExecutionRevision {
  revision: number;
  /** Execution id -> its status after this revision (`deleted` when its key went away). */
  changes: Map<string, ExecutionStatus | 'deleted'>;
  /** Ids in pending, assigned or running once this revision applied, sorted. */
  active: string[];
}

const ACTIVE: readonly ExecutionStatus[] = ['pending', 'assigned', 'running'];

/**
 * Every change of one job's execution records, read straight from etcd with the etcd3
 * client: a watch on `{keyPrefix}/executions/{jobId}/` from the revision the watch was
 * opened at, so no status change is missed however quickly it is followed by another.
 * `replay()` applies the changes revision by revision (the keys one txn writes share its
 * revision), which is what "never two active at once" has to be checked on.
 */
export class ExecutionWatch {
  private readonly events: IEvent[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly client: Etcd3,
    private readonly watcher: Watcher,
    readonly prefix: string,
    /** The revision the watch starts after. */
    readonly startRevision: number,
  ) {
    watcher.on('data', (response) => this.events.push(...response.events));
    watcher.on('error', (error) => (this.failure = error));
  }

  /** Opens the watch at the current revision (before the job exists, so it sees everything). */
  static async start(endpoint: string, keyPrefix: string, jobId: string): Promise<ExecutionWatch> {
    const client = new Etcd3({ hosts: `http://${endpoint}` });
    const prefix = `${keyPrefix}/executions/${jobId}/`;
    try {
      const head = await client.get(prefix).exec();
      const revision = Number(head.header.revision);
      const watcher = await client
        .watch()
        .prefix(prefix)
        .startRevision(String(revision + 1))
        .create();
      return new ExecutionWatch(client, watcher, prefix, revision);
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /**
   * The records as the watch has seen them last, by id. A final record whose key is then
   * deleted moved to the execution history: it is kept, as it was last written.
   */
  latest(): Map<string, ExecutionRecord> {
    const byKey = new Map<string, ExecutionRecord>();
    for (const event of this.events) {
      const key = event.kv.key.toString();
      if (event.type === 'Delete') {
        const last = byKey.get(key);
        if (!last || !FINAL_EXECUTION_STATUSES.includes(last.status)) byKey.delete(key);
      } else {
        byKey.set(key, JSON.parse(event.kv.value.toString()) as ExecutionRecord);
      }
    }
    return new Map([...byKey.values()].map((record) => [record.id, record]));
  }

  /** The revision at which each id was first written, and the revisions of its statuses. */
  history(id: string): { revision: number; status: ExecutionStatus }[] {
    return this.events
      .filter((event) => event.type !== 'Delete')
      .map((event) => ({
        revision: Number(event.kv.mod_revision),
        record: JSON.parse(event.kv.value.toString()) as ExecutionRecord,
      }))
      .filter(({ record }) => record.id === id)
      .map(({ revision, record }) => ({ revision, status: record.status }));
  }

  /**
   * Waits until the watch has delivered everything etcd holds now: the records it built
   * equal a fresh range read of the prefix (same ids, same mod revisions).
   */
  async caughtUp(timeoutMs = 10_000): Promise<void> {
    await eventually(async () => {
      if (this.failure) throw this.failure;
      const kvs = await this.client.getAll().prefix(this.prefix).exec();
      const stored = new Map(kvs.kvs.map((kv) => [kv.key.toString(), kv.mod_revision]));
      const seen = new Map<string, string>();
      for (const event of this.events) {
        const key = event.kv.key.toString();
        if (event.type === 'Delete') seen.delete(key);
        else seen.set(key, event.kv.mod_revision);
      }
      const differ = [...new Set([...stored.keys(), ...seen.keys()])].filter(
        (key) => stored.get(key) !== seen.get(key),
      );
      if (differ.length > 0) {
        throw new Error(`the watch on ${this.prefix} lags etcd for ${differ.join(', ')}`);
      }
    }, timeoutMs);
  }

  /** The changes, grouped and ordered by revision, with the active set after each. */
  replay(): ExecutionRevision[] {
    const byRevision = new Map<number, IEvent[]>();
    for (const event of this.events) {
      const revision = Number(event.kv.mod_revision);
      byRevision.set(revision, [...(byRevision.get(revision) ?? []), event]);
    }
    const status = new Map<string, ExecutionStatus>();
    const idOfKey = new Map<string, string>();
    const revisions: ExecutionRevision[] = [];
    for (const revision of [...byRevision.keys()].sort((a, b) => a - b)) {
      const changes = new Map<string, ExecutionStatus | 'deleted'>();
      for (const event of byRevision.get(revision)!) {
        const key = event.kv.key.toString();
        if (event.type === 'Delete') {
          const id = idOfKey.get(key);
          if (id !== undefined) {
            status.delete(id);
            changes.set(id, 'deleted');
          }
          continue;
        }
        const record = JSON.parse(event.kv.value.toString()) as ExecutionRecord;
        idOfKey.set(key, record.id);
        status.set(record.id, record.status);
        changes.set(record.id, record.status);
      }
      const active = [...status]
        .filter(([, s]) => ACTIVE.includes(s))
        .map(([id]) => id)
        .sort();
      revisions.push({ revision, changes, active });
    }
    return revisions;
  }

  async close(): Promise<void> {
    await this.watcher.cancel().catch(() => undefined);
    this.client.close();
  }
}
