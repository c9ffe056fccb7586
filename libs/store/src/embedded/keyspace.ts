import { StoreRequestError } from '../store.errors';
import {
  Compare,
  KeyValue,
  LeaseId,
  RangeOptions,
  RangeResult,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WatchEvent,
} from '../store.port';
import { compareKeys, SortedKeys } from './sorted-keys';
import { GrantRecord, isDelete, KeyChange, WalRecord } from './wal-record';

/** etcd's --max-txn-ops default: more operations in compare, success or failure is refused. */
export const MAX_TXN_OPS = 128;
/** etcd's MaxLeaseTTL. */
const MAX_LEASE_TTL = 9_000_000_000;

/** The events of one store revision, in the order its keys were written. */
export interface RevisionEvents {
  revision: number;
  events: WatchEvent[];
}

/** The whole keyspace at one point: what a snapshot stores. */
export interface KeyspaceImage {
  revision: number;
  nextLeaseId: number;
  leases: Array<{ id: LeaseId; ttl: number }>;
  /** Sorted by key. */
  kvs: KeyValue[];
}

/** A planned change: what the caller gets back, and the record to log (absent: nothing to write). */
export interface TxnPlan {
  result: TxnResult;
  record?: WalRecord;
}

interface Lease {
  ttl: number;
  /** The keys attached to the lease, deleted with it. */
  keys: Set<string>;
}

/**
 * The in-memory state machine of the embedded store: keys with etcd's revision metadata,
 * the store revision, and leases with their attached keys. It has no I/O and no clock.
 *
 * Every change goes in two steps: `plan*` validates a request against the current state and
 * returns the record to log (without changing anything), and `apply` performs a record.
 * Live writes and WAL replay both go through `apply`, so a restarted store rebuilds exactly
 * the state it acknowledged. Stored KeyValue objects are never mutated (a write replaces
 * them), so a snapshot can hold on to them while the store moves on.
 */
export class Keyspace {
  private currentRevision = 1;
  private leaseCounter = 1;
  private readonly kvs = new Map<string, KeyValue>();
  private readonly index = new SortedKeys();
  private readonly leases = new Map<string, Lease>();

  static restore(image: KeyspaceImage): Keyspace {
    const keyspace = new Keyspace();
    keyspace.currentRevision = image.revision;
    keyspace.leaseCounter = image.nextLeaseId;
    for (const { id, ttl } of image.leases) keyspace.leases.set(id, { ttl, keys: new Set() });
    for (const kv of image.kvs) {
      keyspace.kvs.set(kv.key, kv);
      keyspace.index.insert(kv.key);
      if (kv.lease !== undefined) keyspace.requireLease(kv.lease).keys.add(kv.key);
    }
    return keyspace;
  }

  get revision(): number {
    return this.currentRevision;
  }

  get(key: string): KeyValue | undefined {
    assertKey(key);
    return copyOf(this.kvs.get(key));
  }

  range(prefix: string, options: RangeOptions = {}): RangeResult {
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    if (options.countOnly) {
      const { count } = this.index.range(prefix, options.after, 1);
      // As in etcd, a count-only read returns no keys and therefore never has "more".
      return { kvs: [], count, more: false, revision: this.currentRevision };
    }
    const { keys, count } = this.index.range(prefix, options.after, limit);
    const kvs = keys.map((key) => ({ ...this.kvs.get(key)! }));
    const more = count > kvs.length;
    return {
      kvs,
      count,
      more,
      next: more ? keys[keys.length - 1] : undefined,
      revision: this.currentRevision,
    };
  }

  leaseTtl(id: LeaseId): number | undefined {
    return this.leases.get(id)?.ttl;
  }

  /** Every lease as [id, ttl] (to arm expiry timers after a restart). */
  leaseTtls(): Array<[LeaseId, number]> {
    return [...this.leases].map(([id, lease]) => [id, lease.ttl]);
  }

  planGrant(ttlSeconds: number): GrantRecord {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_LEASE_TTL) {
      throw new StoreRequestError(
        `lease TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`,
      );
    }
    return { type: 'grant', lease: String(this.leaseCounter), ttl: ttlSeconds };
  }

  /** Undefined when the lease does not exist: revoking it again is no error. */
  planRevoke(id: LeaseId): WalRecord | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    return lease.keys.size > 0
      ? { type: 'revoke', lease: id, revision: this.currentRevision + 1 }
      : { type: 'revoke', lease: id };
  }

  planTxn(request: TxnRequest): TxnPlan {
    const failure = request.failure ?? [];
    for (const ops of [request.compare, request.success, failure]) {
      if (ops.length > MAX_TXN_OPS) {
        throw new StoreRequestError(
          `too many operations in txn request (${ops.length} > ${MAX_TXN_OPS})`,
        );
      }
    }
    request.compare.forEach((compare) => assertKey(compare.key));
    // etcd validates both branches, whichever one runs.
    validateBranch(request.success);
    validateBranch(failure);
    const succeeded = request.compare.every((compare) => this.holds(compare));
    const { results, changes, revision } = this.execute(succeeded ? request.success : failure);
    return {
      result: { succeeded, revision, results },
      record: changes.length > 0 ? { type: 'write', revision, changes } : undefined,
    };
  }

  /** Performs a logged change and returns the events of the revision it wrote, if any. */
  apply(record: WalRecord): RevisionEvents | undefined {
    switch (record.type) {
      case 'write':
        return this.applyWrite(record.revision, record.changes);
      case 'grant':
        this.leases.set(record.lease, { ttl: record.ttl, keys: new Set() });
        this.leaseCounter = Math.max(this.leaseCounter, Number(record.lease) + 1);
        return undefined;
      case 'revoke': {
        const lease = this.leases.get(record.lease);
        const keys = lease ? [...lease.keys].sort(compareKeys) : [];
        if (keys.length > 0 !== (record.revision !== undefined)) {
          throw new Error(
            `revoke of lease ${record.lease} does not match its ${keys.length} attached keys`,
          );
        }
        // etcd deletes a revoked lease's keys in key order, in one revision.
        const events =
          record.revision === undefined
            ? undefined
            : this.applyWrite(
                record.revision,
                keys.map((key) => ({ key, delete: true as const })),
              );
        this.leases.delete(record.lease);
        return events;
      }
    }
  }

  capture(): KeyspaceImage {
    return {
      revision: this.currentRevision,
      nextLeaseId: this.leaseCounter,
      leases: [...this.leases].map(([id, lease]) => ({ id, ttl: lease.ttl })),
      kvs: Array.from(this.index, (key) => this.kvs.get(key)!),
    };
  }

  /** Runs a branch against a private overlay, so a later op sees the branch's earlier writes. */
  private execute(ops: TxnOp[]): {
    results: TxnOpResult[];
    changes: KeyChange[];
    revision: number;
  } {
    const revision = this.currentRevision + 1;
    const overlay = new Map<string, KeyValue | null>();
    const changes: KeyChange[] = [];
    const view = (key: string) =>
      overlay.has(key) ? (overlay.get(key) ?? undefined) : this.kvs.get(key);
    const deleteKey = (key: string) => {
      overlay.set(key, null);
      changes.push({ key, delete: true });
    };

    const results = ops.map((op): TxnOpResult => {
      switch (op.type) {
        case 'put': {
          const lease = normalizeLease(op.lease);
          if (lease !== undefined && !this.leases.has(lease)) {
            throw new StoreRequestError(`requested lease not found: ${lease}`);
          }
          overlay.set(op.key, nextKeyValue(view(op.key), op.key, op.value, lease, revision));
          changes.push(
            lease === undefined
              ? { key: op.key, value: op.value }
              : { key: op.key, value: op.value, lease },
          );
          return { type: 'put' };
        }
        case 'delete': {
          if (!view(op.key)) return { type: 'delete', deleted: 0 };
          deleteKey(op.key);
          return { type: 'delete', deleted: 1 };
        }
        case 'deletePrefix': {
          let deleted = 0;
          for (const key of this.index.range(op.prefix, undefined, 0).keys) {
            if (overlay.get(key) === null) continue; // an earlier delete of this txn got it
            deleteKey(key);
            deleted++;
          }
          return { type: 'deletePrefix', deleted };
        }
        case 'get':
          return { type: 'get', kv: copyOf(view(op.key)) };
      }
    });
    return { results, changes, revision: changes.length > 0 ? revision : this.currentRevision };
  }

  private applyWrite(revision: number, changes: KeyChange[]): RevisionEvents {
    if (revision !== this.currentRevision + 1) {
      throw new Error(
        `a write of revision ${revision} cannot follow revision ${this.currentRevision}`,
      );
    }
    const events: WatchEvent[] = [];
    for (const change of changes) {
      const previous = this.kvs.get(change.key);
      if (isDelete(change)) {
        if (!previous) throw new Error(`revision ${revision} deletes missing key ${change.key}`);
        this.detach(previous);
        this.kvs.delete(change.key);
        this.index.delete(change.key);
        const kv = {
          key: change.key,
          value: '',
          createRevision: 0,
          modRevision: revision,
          version: 0,
        };
        events.push({ type: 'delete', kv, prevKv: previous, revision });
        continue;
      }
      const kv = nextKeyValue(previous, change.key, change.value, change.lease, revision);
      if (previous) this.detach(previous);
      else this.index.insert(change.key);
      if (kv.lease !== undefined) this.requireLease(kv.lease).keys.add(kv.key);
      this.kvs.set(change.key, kv);
      events.push(
        previous ? { type: 'put', kv, prevKv: previous, revision } : { type: 'put', kv, revision },
      );
    }
    this.currentRevision = revision;
    return { revision, events };
  }

  private detach(kv: KeyValue): void {
    if (kv.lease !== undefined) this.leases.get(kv.lease)?.keys.delete(kv.key);
  }

  private requireLease(id: LeaseId): Lease {
    const lease = this.leases.get(id);
    if (!lease) throw new Error(`key attached to unknown lease ${id}`);
    return lease;
  }

  private holds(compare: Compare): boolean {
    const kv = this.kvs.get(compare.key);
    let order: number;
    switch (compare.target) {
      case 'value':
        // etcd: a value comparison on a missing key is false, whatever the operator.
        if (!kv) return false;
        order = compareKeys(kv.value, String(compare.value));
        break;
      case 'version':
        order = (kv?.version ?? 0) - toNumber(compare);
        break;
      case 'createRevision':
        order = (kv?.createRevision ?? 0) - toNumber(compare);
        break;
      case 'modRevision':
        order = (kv?.modRevision ?? 0) - toNumber(compare);
        break;
      case 'lease': {
        const actual = BigInt(kv?.lease ?? '0');
        const expected = toLeaseNumber(compare);
        order = actual === expected ? 0 : actual < expected ? -1 : 1;
        break;
      }
    }
    switch (compare.op) {
      case '==':
        return order === 0;
      case '!=':
        return order !== 0;
      case '<':
        return order < 0;
      case '>':
        return order > 0;
    }
  }
}

/**
 * etcd's checkIntervals: a branch may not put one key twice, nor put a key it also deletes
 * (directly or through a deleted prefix). Overlapping deletes are allowed.
 */
function validateBranch(ops: TxnOp[]): void {
  const puts = new Set<string>();
  const deletes = new Set<string>();
  const deletedPrefixes: string[] = [];
  for (const op of ops) {
    switch (op.type) {
      case 'put':
        assertKey(op.key);
        if (puts.has(op.key)) throw duplicateKey(op.key);
        puts.add(op.key);
        break;
      case 'delete':
        assertKey(op.key);
        deletes.add(op.key);
        break;
      case 'deletePrefix':
        deletedPrefixes.push(op.prefix);
        break;
      case 'get':
        assertKey(op.key);
        break;
      default:
        throw new StoreRequestError(`unknown txn op ${JSON.stringify(op)}`);
    }
  }
  for (const key of puts) {
    if (deletes.has(key) || deletedPrefixes.some((prefix) => key.startsWith(prefix))) {
      throw duplicateKey(key);
    }
  }
}

function duplicateKey(key: string): StoreRequestError {
  return new StoreRequestError(`duplicate key given in txn request: ${key}`);
}

function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StoreRequestError('key is not provided');
  }
}

function nextKeyValue(
  previous: KeyValue | undefined,
  key: string,
  value: string,
  lease: LeaseId | undefined,
  revision: number,
): KeyValue {
  const kv: KeyValue = {
    key,
    value,
    createRevision: previous ? previous.createRevision : revision,
    modRevision: revision,
    version: previous ? previous.version + 1 : 1,
  };
  if (lease !== undefined) kv.lease = lease;
  return kv;
}

/** Lease '0' (or empty) is etcd's "no lease". */
function normalizeLease(lease: LeaseId | undefined): LeaseId | undefined {
  return lease === undefined || lease === '' || lease === '0' ? undefined : lease;
}

function copyOf(kv: KeyValue | undefined): KeyValue | undefined {
  return kv ? { ...kv } : undefined;
}

function toNumber(compare: Compare): number {
  const value = Number(compare.value);
  if (!Number.isFinite(value)) {
    throw new StoreRequestError(
      `compare on ${compare.target} needs a number, got ${compare.value}`,
    );
  }
  return value;
}

function toLeaseNumber(compare: Compare): bigint {
  try {
    return BigInt(compare.value);
  } catch {
    throw new StoreRequestError(`compare on lease needs a lease id, got ${compare.value}`);
  }
}
