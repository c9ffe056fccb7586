/** Errors every adapter throws in the same situations, so callers need not know which store runs. */

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A watch asked for history that compaction already removed. Re-read state, then watch anew. */
export class StoreCompactedError extends StoreError {
  /** `compactedRevision` is etcd's compact revision: the oldest revision still readable. */
  constructor(
    readonly requestedRevision: number,
    readonly compactedRevision: number,
  ) {
    super(
      `revision ${requestedRevision} has been compacted (history starts at ${compactedRevision}); ` +
        'reload the current state with range() and watch from its revision',
    );
  }
}

/** keepAliveOnce on a lease that expired or was revoked. */
export class LeaseNotFoundError extends StoreError {
  constructor(readonly leaseId: string) {
    super(`lease ${leaseId} not found: it expired or was revoked`);
  }
}

/** The store was closed; no further calls are possible. */
export class StoreClosedError extends StoreError {
  constructor() {
    super('the store is closed');
  }
}

/**
 * The store did not answer (down, partitioned, deadline passed, the client's circuit
 * breaker open, too many requests). Safe to retry later.
 */
export class StoreUnavailableError extends StoreError {}

/** A request the store rejects as malformed (empty key, too many txn ops, bad TTL...). */
export class StoreRequestError extends StoreError {}

/**
 * The store refused this client's credentials or permissions (etcd authentication failed,
 * permission denied, client certificate rejected). Retrying does not help until the
 * configuration (FOREST_ETCD_USERNAME / _PASSWORD, the certificates) or etcd's roles change.
 */
export class StoreAccessDeniedError extends StoreError {}
