/**
 * What the write-ahead log records: the *effects* of each acknowledged change, not the
 * request. A txn is logged as the key changes its chosen branch made, a deletePrefix as the
 * keys it removed, so replay never re-evaluates compares and cannot diverge from what the
 * caller was told.
 */

/** A put of `key` (with its lease, if any) or a delete of `key`. */
export type KeyChange =
  { key: string; value: string; lease?: string } | { key: string; delete: true };

export type WalRecord =
  /** One store revision: every key change of a put, delete or txn, in op order. */
  | { type: 'write'; revision: number; changes: KeyChange[] }
  | { type: 'grant'; lease: string; ttl: number }
  /**
   * A revoke or an expiry. The lease's keys (known from the state being replayed) are deleted
   * at `revision`; a lease without keys writes no revision, as in etcd.
   */
  | { type: 'revoke'; lease: string; revision?: number };

export type GrantRecord = Extract<WalRecord, { type: 'grant' }>;

export function encodeRecord(record: WalRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

/** Parses a payload whose checksum already matched; a shape error here means a bug, not a crash. */
export function decodeRecord(payload: Buffer): WalRecord {
  const record = JSON.parse(payload.toString()) as WalRecord;
  switch (record?.type) {
    case 'write':
      if (Number.isInteger(record.revision) && Array.isArray(record.changes)) return record;
      break;
    case 'grant':
      if (typeof record.lease === 'string' && Number.isInteger(record.ttl)) return record;
      break;
    case 'revoke':
      if (typeof record.lease === 'string') return record;
      break;
  }
  throw new Error(`unknown write-ahead-log record: ${payload.toString().slice(0, 200)}`);
}

export function isDelete(change: KeyChange): change is { key: string; delete: true } {
  return 'delete' in change;
}
