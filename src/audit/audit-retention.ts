import { Keyspace } from '@forest/protocol';

/** Retention of the audit log: at most `keep` entries, none older than `cutoffMs`. */
export interface AuditRetentionPolicy {
  keep: number;
  /** Entries at before this epoch ms are deleted. */
  cutoffMs: number;
}

/** The epoch ms an audit key (`audit/{15 digits}-{suffix}`) starts with; undefined for another shape. */
export function auditKeyTimeMs(key: string): number | undefined {
  if (!key.startsWith(Keyspace.audit)) return undefined;
  const match = /^(\d{15})(?:-|$)/.exec(key.slice(Keyspace.audit.length));
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether the entry at `index` (0 = oldest) of `total` goes. Keys sort by time, so the
 * entries to delete are always a prefix of the log: the first one kept ends the pass.
 * A key of another shape under `audit/` (not written by Forest) counts toward the cap
 * and is deleted with its neighbours.
 */
export function auditEntryExpires(
  key: string,
  index: number,
  total: number,
  policy: AuditRetentionPolicy,
): boolean {
  if (index < total - policy.keep) return true;
  const atMs = auditKeyTimeMs(key);
  return atMs === undefined || atMs < policy.cutoffMs;
}
