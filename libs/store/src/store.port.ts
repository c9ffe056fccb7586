/**
 * The coordination-store port: the small part of etcd's model that Forest needs.
 *
 * Every key is relative to the adapter's prefix (for example `jobs/a` is stored as
 * `/forest/jobs/a`). Revisions follow etcd: one store-wide counter that a write
 * (put, delete, or a txn with at least one write) advances by exactly one; every key
 * remembers the revision that created it, the revision of its last change, and how many
 * times it was written since creation (its version).
 */

/** A lease id. etcd lease ids are int64, so they travel as decimal strings. */
export type LeaseId = string;

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to, if any. */
  lease?: LeaseId;
}

export interface RangeOptions {
  /** Return keys strictly after this one (continuation token from a previous page). */
  after?: string;
  /** At most this many keys (0 or absent: no limit). */
  limit?: number;
  /** Only count the keys, return no values. */
  countOnly?: boolean;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** Keys in the prefix (after `after`), including those not returned because of the limit. */
  count: number;
  /** True when more keys follow; pass `next` as `after` to read them. */
  more: boolean;
  next?: string;
  /** The store revision the page was read at. */
  revision: number;
}

export interface PutOptions {
  lease?: LeaseId;
}

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';
export type CompareOp = '==' | '!=' | '<' | '>';

/**
 * One condition of a txn. Absent keys compare as etcd does: version, createRevision and
 * modRevision are 0, lease is '0', and a value comparison is false whatever the operator.
 */
export interface Compare {
  key: string;
  target: CompareTarget;
  op: CompareOp;
  value: string | number;
}

export type TxnOp =
  | { type: 'put'; key: string; value: string; lease?: LeaseId }
  | { type: 'delete'; key: string }
  | { type: 'deletePrefix'; prefix: string }
  | { type: 'get'; key: string };

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

/** What one op of the chosen branch returned (in order). */
export type TxnOpResult =
  | { type: 'put' }
  | { type: 'delete'; deleted: number }
  | { type: 'deletePrefix'; deleted: number }
  | { type: 'get'; kv?: KeyValue };

export interface TxnResult {
  succeeded: boolean;
  /** Store revision after the txn (unchanged if the chosen branch wrote nothing). */
  revision: number;
  results: TxnOpResult[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key with modRevision = the deleting revision and an empty value. */
  kv: KeyValue;
  /** The key before this change, when the watch asked for it (`prevKv: true`). */
  prevKv?: KeyValue;
  /** The revision of the change (equal for every event of one txn). */
  revision: number;
}

export interface WatchOptions {
  /**
   * Deliver every change with revision >= this one (history replay), then live changes.
   * Absent: only changes after the watch starts.
   */
  fromRevision?: number;
  /**
   * Attach each key's previous value to its events. Off by default: etcd serves it with an
   * extra read per event (about half its CPU under a busy scheduler's watches).
   */
  prevKv?: boolean;
}

export interface WatchHandlers {
  /** Events of one revision arrive in one call, in key-write order; revisions ascend. */
  onEvents: (events: WatchEvent[]) => void;
  /**
   * The watch cannot go on: the start revision was compacted (StoreCompactedError) or the
   * store was closed. Transient disconnects are retried inside the adapter and never
   * reach this handler.
   */
  onError?: (error: Error) => void;
}

export interface Watch {
  /** Last revision delivered to onEvents (or the revision the watch started after). */
  readonly lastRevision: number;
  cancel(): Promise<void>;
}

export interface LeaseGrant {
  id: LeaseId;
  ttlSeconds: number;
}

export interface CoordinationStore {
  /** 'etcd' or 'embedded': for logs and health. */
  readonly kind: string;

  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, sorted ascending by key. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  put(key: string, value: string, options?: PutOptions): Promise<{ revision: number }>;
  delete(key: string): Promise<{ revision: number; deleted: number }>;
  deletePrefix(prefix: string): Promise<{ revision: number; deleted: number }>;
  txn(request: TxnRequest): Promise<TxnResult>;
  /** The current store revision. */
  revision(): Promise<number>;

  grantLease(ttlSeconds: number): Promise<LeaseGrant>;
  /** Refreshes a lease to its full TTL; returns the TTL. Throws LeaseNotFoundError if it expired. */
  keepAliveOnce(id: LeaseId): Promise<number>;
  /** Revokes a lease and deletes its keys. Revoking an unknown lease is not an error. */
  revokeLease(id: LeaseId): Promise<void>;
  /** Seconds left, or -1 when the lease does not exist (expired or revoked). */
  leaseTimeToLive(id: LeaseId): Promise<number>;

  /** Watches every key under `prefix`. Resolves once the watch is established. */
  watch(prefix: string, handlers: WatchHandlers, options?: WatchOptions): Promise<Watch>;

  /** Stops background work, cancels watches and closes connections or files. */
  close(): Promise<void>;
}
