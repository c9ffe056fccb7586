import { Injectable } from '@nestjs/common';
import { GroupRecord, JobRecord, Keyspace } from '@forest/protocol';
import { randomUUID } from 'node:crypto';
import { Compare, CoordinationStore, KeyValue, rangeAll, TxnOp, TxnOpResult } from '@forest/store';
import { InjectStore } from '../store/store.tokens';

export interface Stored<T> {
  record: T;
  /** The key's version: 1 on create, +1 on every write. Jobs expose it as `version`. */
  version: number;
  modRevision: number;
  /** The revision that created the key: tells one incarnation of a name from the next. */
  createRevision: number;
}

/**
 * `group-missing`: the group is gone; `group-deleting`: a delete of the group is running
 * (its marker is set); `group-changed`: the group was deleted and created again since read.
 */
export type WriteOutcome =
  'ok' | 'conflict' | 'missing' | 'group-changed' | 'group-missing' | 'group-deleting';

/** A running group delete: its marker's value and the lease the marker lives on. */
export interface GroupDeleteClaim {
  group: Stored<GroupRecord>;
  /** The marker's value, unique to this delete. */
  marker: string;
  lease: string;
}

/** A group-delete marker outlives a crashed delete by at most this long. */
export const GROUP_DELETE_MARKER_TTL_S = 30;

/** Ops per txn we issue: under etcd's default limit of 128, with room for compares. */
const TXN_CHUNK = 100;

/**
 * All store I/O for groups and jobs. Reads always go to the store (no per-node cache), so
 * any node answers with what was last written through any other.
 *
 * Group integrity without range compares and without a shared counter: a write that puts
 * a job into a group only *compares* two keys, never writes them — the group key's create
 * revision (this incarnation of the group exists) and the group's delete marker
 * `groupdeleting/{group}` (absent). Creates into one group therefore never conflict with
 * each other. A group delete first sets the marker (on a short lease, so a crashed delete
 * cannot block the group for long), then lists the group's jobs: every create committed
 * before the marker is in that list, every create after it fails its compare. The jobs
 * and then the group are deleted in txns that compare the marker is still this delete's,
 * so a delete whose marker expired mid-way starts over rather than leave an orphan.
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
   * Sets the group's delete marker (on its own lease) if the group is still the one read.
   * A marker left by another delete is taken over: that delete's later txns then fail
   * their compare. Undefined when the group changed since read.
   */
  async claimGroupDelete(group: Stored<GroupRecord>): Promise<GroupDeleteClaim | undefined> {
    const name = group.record.name;
    const lease = await this.store.grantLease(GROUP_DELETE_MARKER_TTL_S);
    const marker = JSON.stringify({ token: randomUUID(), at: new Date().toISOString() });
    const result = await this.store.txn({
      compare: [
        {
          key: Keyspace.group(name),
          target: 'createRevision',
          op: '==',
          value: group.createRevision,
        },
      ],
      success: [
        {
          type: 'put',
          key: Keyspace.groupDeleting(name),
          value: marker,
          lease: lease.id,
        },
      ],
    });
    if (result.succeeded) return { group, marker, lease: lease.id };
    await this.store.revokeLease(lease.id);
    return undefined;
  }

  /** Ends a delete that did not happen: its marker goes with its lease. */
  async releaseGroupDelete(claim: GroupDeleteClaim): Promise<void> {
    await this.store.revokeLease(claim.lease);
  }

  /**
   * Deletes the given jobs (with their fire state), then the group and its marker, each
   * txn guarded by the claim's marker. Jobs go first so a crash midway leaves a smaller
   * group, never orphans. `group-changed`: the marker is no longer this claim's (it
   * expired, or another delete took over); start again.
   */
  async deleteClaimedGroup(claim: GroupDeleteClaim, jobIds: string[]): Promise<WriteOutcome> {
    const name = claim.group.record.name;
    const guard: Compare = {
      key: Keyspace.groupDeleting(name),
      target: 'value',
      op: '==',
      value: claim.marker,
    };
    try {
      const deletes: TxnOp[] = jobIds.flatMap((id): TxnOp[] => [
        { type: 'delete', key: Keyspace.job(id) },
        { type: 'delete', key: Keyspace.jobState(id) },
      ]);
      let renewedAt = Date.now();
      for (let start = 0; start < deletes.length; start += TXN_CHUNK) {
        if (Date.now() - renewedAt > (GROUP_DELETE_MARKER_TTL_S * 1000) / 3) {
          await this.store.keepAliveOnce(claim.lease);
          renewedAt = Date.now();
        }
        const result = await this.store.txn({
          compare: [guard],
          success: deletes.slice(start, start + TXN_CHUNK),
        });
        if (!result.succeeded) return 'group-changed';
      }
      const result = await this.store.txn({
        compare: [
          guard,
          {
            key: Keyspace.group(name),
            target: 'createRevision',
            op: '==',
            value: claim.group.createRevision,
          },
        ],
        success: [
          { type: 'delete', key: Keyspace.group(name) },
          { type: 'delete', key: Keyspace.groupDeleting(name) },
        ],
      });
      return result.succeeded ? 'ok' : 'group-changed';
    } finally {
      await this.store.revokeLease(claim.lease).catch(() => undefined);
    }
  }

  async getJob(id: string): Promise<Stored<JobRecord> | undefined> {
    return parse<JobRecord>(await this.store.get(Keyspace.job(id)));
  }

  async listJobs(): Promise<Stored<JobRecord>[]> {
    return (await rangeAll(this.store, Keyspace.jobs)).map((kv) => parse<JobRecord>(kv)!);
  }

  /**
   * Creates the job if its id is free, its group is the incarnation read and no delete of
   * the group runs. Writes only the job key: creates in one group do not contend.
   */
  async createJob(job: JobRecord, group: Stored<GroupRecord>): Promise<WriteOutcome> {
    const key = Keyspace.job(job.id);
    const result = await this.store.txn({
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }, ...groupGuard(group)],
      success: [{ type: 'put', key, value: JSON.stringify(job) }],
      failure: [{ type: 'get', key }, ...groupReads(group.record.name)],
    });
    if (result.succeeded) return 'ok';
    const existing = result.results[0];
    if (existing.type === 'get' && existing.kv) return 'conflict';
    return groupOutcome(result.results.slice(1));
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
        ...(newGroup ? groupGuard(newGroup) : []),
      ],
      success: [{ type: 'put', key, value: JSON.stringify(job) }],
      failure: [{ type: 'get', key }, ...(newGroup ? groupReads(newGroup.record.name) : [])],
    });
    if (result.succeeded) return 'ok';
    const current = result.results[0];
    if (current.type !== 'get' || !current.kv) return 'missing';
    if (current.kv.version !== version) return 'conflict';
    return newGroup ? groupOutcome(result.results.slice(1)) : 'group-changed';
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

  /**
   * Writes an import: every job only if its key is still as read (absent, or at the mod
   * revision read) and its group is the incarnation read with no delete running. As many
   * jobs per txn as etcd's op limit allows; when a txn fails, the txns already committed
   * are undone (each key only if it is still as this import wrote it) and the conflicting
   * ids are returned. See JobTransferService for what this does and does not guarantee.
   */
  async writeImport(
    writes: readonly ImportWrite[],
    groups: ReadonlyMap<string, Stored<GroupRecord>>,
  ): Promise<ImportOutcome> {
    const committed: { writes: readonly ImportWrite[]; revision: number }[] = [];
    for (const chunk of importChunks(writes)) {
      const chunkGroups = [...new Set(chunk.map((w) => w.record.group))];
      const result = await this.store.txn({
        compare: [
          ...chunk.map((w): Compare => ({
            key: Keyspace.job(w.record.id),
            target: 'modRevision',
            op: '==',
            value: w.modRevision ?? 0,
          })),
          ...chunkGroups.flatMap((name) => groupGuard(groups.get(name)!)),
        ],
        success: chunk.map((w): TxnOp => ({
          type: 'put',
          key: Keyspace.job(w.record.id),
          value: JSON.stringify(w.record),
        })),
        failure: chunk.map((w): TxnOp => ({ type: 'get', key: Keyspace.job(w.record.id) })),
      });
      if (result.succeeded) {
        committed.push({ writes: chunk, revision: result.revision });
        continue;
      }
      const conflicts = chunk
        .filter((w, i) => {
          const got = result.results[i];
          return (got?.type === 'get' ? (got.kv?.modRevision ?? 0) : -1) !== (w.modRevision ?? 0);
        })
        .map((w) => w.record.id);
      const notUndone = await this.undoImport(committed);
      return { kind: 'conflict', conflicts, notUndone };
    }
    return { kind: 'ok', txns: committed.length };
  }

  /** Puts back what committed import txns replaced (deletes what they created). */
  private async undoImport(
    committed: readonly { writes: readonly ImportWrite[]; revision: number }[],
  ): Promise<string[]> {
    const notUndone: string[] = [];
    const undo = (w: ImportWrite): TxnOp[] =>
      w.previous === undefined
        ? [
            { type: 'delete', key: Keyspace.job(w.record.id) },
            { type: 'delete', key: Keyspace.jobState(w.record.id) },
          ]
        : [{ type: 'put', key: Keyspace.job(w.record.id), value: w.previous }];
    const asWritten = (w: ImportWrite, revision: number): Compare => ({
      key: Keyspace.job(w.record.id),
      target: 'modRevision',
      op: '==',
      value: revision,
    });
    for (const { writes, revision } of committed) {
      for (let start = 0; start < writes.length; start += UNDO_CHUNK) {
        const part = writes.slice(start, start + UNDO_CHUNK);
        const result = await this.store.txn({
          compare: part.map((w) => asWritten(w, revision)),
          success: part.flatMap(undo),
        });
        if (result.succeeded) continue;
        // Someone changed one of them since: undo the others one by one, leave that one.
        for (const w of part) {
          const single = await this.store.txn({
            compare: [asWritten(w, revision)],
            success: undo(w),
          });
          if (!single.succeeded) notUndone.push(w.record.id);
        }
      }
    }
    return notUndone;
  }
}

/** One job of an import, as it will be written. */
export interface ImportWrite {
  record: JobRecord;
  /** The key's mod revision as read; undefined: the key must be absent. */
  modRevision?: number;
  /** The value it replaces (undefined: a new job), put back if the import is undone. */
  previous?: string;
}

export type ImportOutcome =
  | { kind: 'ok'; txns: number }
  /** Nothing of the import stays, except the ids in `notUndone` (changed since by others). */
  | { kind: 'conflict'; conflicts: string[]; notUndone: string[] };

/** Compares + ops per import txn: under etcd's 128 per branch. */
const IMPORT_TXN_BUDGET = 120;
const UNDO_CHUNK = 60;

/** Consecutive runs of writes whose txn fits: one compare and op per job, two compares per group. */
function* importChunks(writes: readonly ImportWrite[]): Generator<ImportWrite[]> {
  let chunk: ImportWrite[] = [];
  let groups = new Set<string>();
  for (const write of writes) {
    const withGroup = groups.has(write.record.group) ? groups.size : groups.size + 1;
    if (chunk.length > 0 && chunk.length + 1 + 2 * withGroup > IMPORT_TXN_BUDGET) {
      yield chunk;
      chunk = [];
      groups = new Set();
    }
    chunk.push(write);
    groups.add(write.record.group);
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The compares that admit a job into `group` without writing it: the group is the
 * incarnation read, and no delete of it runs (its marker is absent).
 */
export function groupGuard(group: Stored<GroupRecord>): Compare[] {
  const name = group.record.name;
  return [
    {
      key: Keyspace.group(name),
      target: 'createRevision',
      op: '==',
      value: group.createRevision,
    },
    { key: Keyspace.groupDeleting(name), target: 'version', op: '==', value: 0 },
  ];
}

/** Reads (in a failure branch) that tell why groupGuard failed; see groupOutcome. */
export function groupReads(name: string): TxnOp[] {
  return [
    { type: 'get', key: Keyspace.group(name) },
    { type: 'get', key: Keyspace.groupDeleting(name) },
  ];
}

/** Why groupGuard failed, from the results of groupReads. */
export function groupOutcome(
  results: TxnOpResult[],
): 'group-missing' | 'group-deleting' | 'group-changed' {
  const [current, marker] = results;
  if (current?.type !== 'get' || !current.kv) return 'group-missing';
  if (marker?.type === 'get' && marker.kv) return 'group-deleting';
  return 'group-changed';
}

function parse<T>(kv: KeyValue | undefined): Stored<T> | undefined {
  if (!kv) return undefined;
  return {
    record: JSON.parse(kv.value) as T,
    version: kv.version,
    modRevision: kv.modRevision,
    createRevision: kv.createRevision,
  };
}
