import { Injectable } from '@nestjs/common';
import { GroupRecord, JobRecord, Keyspace } from '@forest/protocol';
import { CoordinationStore, KeyValue, rangeAll, TxnOp } from '@forest/store';
import { InjectStore } from '../store/store.tokens';

export interface Stored<T> {
  record: T;
  /** The key's version: 1 on create, +1 on every write. Jobs expose it as `version`. */
  version: number;
  modRevision: number;
}

export type WriteOutcome = 'ok' | 'conflict' | 'missing' | 'group-changed';

/** Ops per txn we issue: under etcd's default limit of 128, with room for compares. */
const TXN_CHUNK = 100;

/**
 * All store I/O for groups and jobs. Reads always go to the store (no per-node cache), so
 * any node answers with what was last written through any other.
 *
 * Group integrity without range compares: every write that puts a job into a group also
 * rewrites the group key in the same txn (a "touch"), so the group's mod revision changes
 * whenever its membership grows. Deleting a group compares that revision, so a job created
 * concurrently makes the delete retry instead of leaving an orphan.
 */
@Injectable()
export class JobRepository {
  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  async getGroup(name: string): Promise<Stored<GroupRecord> | undefined> {
    return parse<GroupRecord>(await this.store.get(Keyspace.group(name)));
  }

  async listGroups(): Promise<GroupRecord[]> {
    return (await rangeAll(this.store, Keyspace.groups)).map(
      (kv) => JSON.parse(kv.value) as GroupRecord,
    );
  }

  /** False when the group already exists. */
  async createGroup(group: GroupRecord): Promise<boolean> {
    const key = Keyspace.group(group.name);
    const result = await this.store.txn({
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }],
      success: [{ type: 'put', key, value: JSON.stringify(group) }],
    });
    return result.succeeded;
  }

  async replaceGroup(current: Stored<GroupRecord>, next: GroupRecord): Promise<boolean> {
    const key = Keyspace.group(next.name);
    const result = await this.store.txn({
      compare: [{ key, target: 'modRevision', op: '==', value: current.modRevision }],
      success: [{ type: 'put', key, value: JSON.stringify(next) }],
    });
    return result.succeeded;
  }

  /**
   * Deletes the given jobs and then the group, each txn guarded by the group's mod
   * revision. Jobs go first so a crash midway leaves a smaller group, never orphans.
   */
  async deleteGroupWithJobs(group: Stored<GroupRecord>, jobIds: string[]): Promise<WriteOutcome> {
    const groupKey = Keyspace.group(group.record.name);
    const guard = {
      key: groupKey,
      target: 'modRevision' as const,
      op: '==' as const,
      value: group.modRevision,
    };
    const deletes: TxnOp[] = jobIds.map((id) => ({ type: 'delete', key: Keyspace.job(id) }));
    for (let start = 0; ; start += TXN_CHUNK) {
      const chunk = deletes.slice(start, start + TXN_CHUNK);
      const last = start + TXN_CHUNK >= deletes.length;
      const result = await this.store.txn({
        compare: [guard],
        success: last ? [...chunk, { type: 'delete', key: groupKey }] : chunk,
      });
      if (!result.succeeded) return 'group-changed';
      if (last) return 'ok';
    }
  }

  async getJob(id: string): Promise<Stored<JobRecord> | undefined> {
    return parse<JobRecord>(await this.store.get(Keyspace.job(id)));
  }

  async listJobs(): Promise<Stored<JobRecord>[]> {
    return (await rangeAll(this.store, Keyspace.jobs)).map((kv) => parse<JobRecord>(kv)!);
  }

  /** Creates the job if its id is free and its group is unchanged since `group` was read. */
  async createJob(job: JobRecord, group: Stored<GroupRecord>): Promise<WriteOutcome> {
    const key = Keyspace.job(job.id);
    const result = await this.store.txn({
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }, ...this.groupGuard(group)],
      success: [{ type: 'put', key, value: JSON.stringify(job) }, this.touch(group)],
      failure: [{ type: 'get', key }],
    });
    if (result.succeeded) return 'ok';
    const existing = result.results[0];
    return existing.type === 'get' && existing.kv ? 'conflict' : 'group-changed';
  }

  /**
   * Replaces the job if it is still at `version`. When the job moves to another group,
   * that group must be unchanged since it was read, and is touched.
   */
  async replaceJob(
    job: JobRecord,
    version: number,
    newGroup?: Stored<GroupRecord>,
  ): Promise<WriteOutcome> {
    const key = Keyspace.job(job.id);
    const result = await this.store.txn({
      compare: [
        { key, target: 'version', op: '==', value: version },
        ...(newGroup ? this.groupGuard(newGroup) : []),
      ],
      success: [
        { type: 'put', key, value: JSON.stringify(job) },
        ...(newGroup ? [this.touch(newGroup)] : []),
      ],
      failure: [{ type: 'get', key }],
    });
    if (result.succeeded) return 'ok';
    const current = result.results[0];
    if (current.type !== 'get' || !current.kv) return 'missing';
    return current.kv.version === version ? 'group-changed' : 'conflict';
  }

  /**
   * Deletes the job and its fire state; its execution history stays (retention ages it out).
   * False when there was no such job (or, with `expectedVersion`, it changed since).
   */
  async deleteJob(id: string, expectedVersion?: number): Promise<boolean> {
    const result = await this.store.txn({
      compare:
        expectedVersion === undefined
          ? []
          : [{ key: Keyspace.job(id), target: 'version', op: '==', value: expectedVersion }],
      success: [
        { type: 'delete', key: Keyspace.job(id) },
        { type: 'delete', key: Keyspace.jobState(id) },
      ],
    });
    if (!result.succeeded) return false;
    const deleted = result.results[0];
    return deleted.type === 'delete' && deleted.deleted > 0;
  }

  private groupGuard(group: Stored<GroupRecord>) {
    const key = Keyspace.group(group.record.name);
    return [{ key, target: 'modRevision' as const, op: '==' as const, value: group.modRevision }];
  }

  private touch(group: Stored<GroupRecord>): TxnOp {
    return {
      type: 'put',
      key: Keyspace.group(group.record.name),
      value: JSON.stringify(group.record),
    };
  }
}

function parse<T>(kv: KeyValue | undefined): Stored<T> | undefined {
  if (!kv) return undefined;
  return { record: JSON.parse(kv.value) as T, version: kv.version, modRevision: kv.modRevision };
}
