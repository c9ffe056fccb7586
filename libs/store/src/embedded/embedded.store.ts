import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LeaseNotFoundError, StoreClosedError, StoreError } from '../store.errors';
import {
  CoordinationStore,
  KeyValue,
  LeaseGrant,
  LeaseId,
  PutOptions,
  RangeOptions,
  RangeResult,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchHandlers,
  WatchOptions,
} from '../store.port';
import { CommitPipeline, Entry } from './commit-pipeline';
import { DataDirLock } from './data-dir-lock';
import { Keyspace, RevisionEvents } from './keyspace';
import { loadLatestSnapshot, removeOtherSnapshots, Snapshot, writeSnapshot } from './snapshot';
import { WalRecord } from './wal-record';
import { WatchHub } from './watch-hub';
import { WriteAheadLog } from './write-ahead-log';

export interface EmbeddedStoreLogger {
  warn(message: string): void;
  log?(message: string): void;
}

export interface EmbeddedStoreOptions {
  /** Where the log, snapshots and lock live; created if missing. One store per directory. */
  dataDir: string;
  /**
   * Accepted for symmetry with EtcdStore and ignored: the data directory already isolates
   * one store's keys, so keys are stored exactly as given.
   */
  prefix?: string;
  /** Clock for lease deadlines (ms since epoch); tests inject a fake one. */
  now?: () => number;
  /** Write a snapshot and start a new log segment once the log segment exceeds this. */
  snapshotEveryBytes?: number;
  /** How many revisions of watch history to keep in memory for watches that resume. */
  historyRevisions?: number;
  logger?: EmbeddedStoreLogger;
}

export interface EmbeddedStoreStats {
  revision: number;
  /** Log sequence number of the last change. */
  lsn: number;
  /** Write + fsync rounds: with group commit, far fewer than writes under load. */
  flushes: number;
  walSegments: number;
  walSegmentBytes: number;
  snapshotsWritten: number;
  /** Oldest revision a watch can resume from. */
  compactRevision: number;
}

const DEFAULT_SNAPSHOT_EVERY_BYTES = 8 * 1024 * 1024;
const DEFAULT_HISTORY_REVISIONS = 10_000;
/** How often lease deadlines are checked; expiry is at most this late. */
const LEASE_SWEEP_MS = 100;

const silentLogger: EmbeddedStoreLogger = { warn: () => undefined };

/** A change applied to memory and waiting for the log: the record and its watch events. */
interface PendingChange {
  record: WalRecord;
  events?: RevisionEvents;
}

/**
 * The CoordinationStore for a single node without etcd: etcd's semantics (revisions, txns,
 * leases, watches that resume from a revision) on an in-memory keyspace, made durable by a
 * write-ahead log in `dataDir`.
 *
 * A change is validated and applied to memory in arrival order, then written to the log by
 * group commit (see CommitPipeline); its promise resolves and its watch events go out only
 * after the fsync. Reads also wait until everything they could have seen is durable. When
 * the log segment grows past `snapshotEveryBytes` the store starts a new segment and writes
 * a snapshot in the background, then deletes the segments it covers.
 *
 * Watches that ask for history older than what is kept (`historyRevisions` revisions, and
 * after a restart only what was replayed from the log since the last snapshot) are refused:
 * watch() rejects with StoreCompactedError, like the etcd adapter.
 *
 * A failed log write or fsync leaves memory ahead of the disk, so the store stops: every
 * later call and every watch fails with the error, and the process should reopen the store
 * (which recovers exactly the durable state). This is what etcd does on a WAL error too.
 */
export class EmbeddedStore implements CoordinationStore {
  readonly kind = 'embedded';
  private readonly pipeline: CommitPipeline<PendingChange>;
  /** Lease deadlines (ms on `now()`); not logged: a restart grants every lease a full TTL. */
  private readonly deadlines = new Map<LeaseId, number>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly logger: EmbeddedStoreLogger;
  private readonly snapshotEveryBytes: number;
  private closed = false;
  private closing?: Promise<void>;
  private failure?: Error;
  private snapshotTask?: Promise<void>;
  private snapshotsWritten = 0;

  private constructor(
    private readonly dataDir: string,
    private readonly keyspace: Keyspace,
    private readonly wal: WriteAheadLog,
    private readonly hub: WatchHub,
    private readonly lock: DataDirLock,
    lastLsn: number,
    options: EmbeddedStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.snapshotEveryBytes = options.snapshotEveryBytes ?? DEFAULT_SNAPSHOT_EVERY_BYTES;
    this.pipeline = new CommitPipeline<PendingChange>(lastLsn, {
      write: (batch) => this.writeBatch(batch),
      durable: (batch) => batch.forEach(({ item }) => item.events && this.hub.publish(item.events)),
      failed: (error) => this.onLogFailure(error),
    });
    // Leases come back from a restart with a full TTL, counted from now.
    for (const [id, ttl] of keyspace.leaseTtls()) this.deadlines.set(id, this.now() + ttl * 1000);
    this.sweepTimer = setInterval(() => this.expireLeases(), LEASE_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Opens (or creates) the store in `dataDir`, recovering whatever it holds. */
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const logger = options.logger ?? silentLogger;
    const warn = (message: string) => logger.warn(message);
    const dataDir = resolve(options.dataDir);
    await mkdir(dataDir, { recursive: true });
    const lock = await DataDirLock.acquire(dataDir);
    let wal: WriteAheadLog | undefined;
    try {
      const loaded = await loadLatestSnapshot(dataDir, warn);
      const keyspace = loaded ? Keyspace.restore(loaded.snapshot) : new Keyspace();
      // History before the snapshot is gone; everything replayed from the log is retained.
      const hub = new WatchHub(
        Math.max(1, options.historyRevisions ?? DEFAULT_HISTORY_REVISIONS),
        loaded ? loaded.snapshot.revision + 1 : 1,
        keyspace.revision,
        logger,
      );
      let replayed = 0;
      const opened = await WriteAheadLog.open(dataDir, {
        afterLsn: loaded?.snapshot.lsn ?? 0,
        onRecord: (record) => {
          const events = keyspace.apply(record);
          if (events) hub.publish(events);
          replayed++;
        },
        warn,
      });
      wal = opened.wal;
      await removeOtherSnapshots(dataDir, loaded?.name);
      logger.log?.(
        `embedded store opened in ${dataDir}: revision ${keyspace.revision}` +
          (loaded ? `, snapshot ${loaded.name}` : '') +
          `, ${replayed} log records replayed`,
      );
      return new EmbeddedStore(dataDir, keyspace, wal, hub, lock, opened.lastLsn, options);
    } catch (error) {
      await wal?.close();
      await lock.release();
      throw error;
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertUsable();
    const kv = this.keyspace.get(key);
    await this.pipeline.barrier();
    return kv;
  }

  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    this.assertUsable();
    const result = this.keyspace.range(prefix, options);
    await this.pipeline.barrier();
    return result;
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<{ revision: number }> {
    const { revision } = await this.txn({
      compare: [],
      success: [{ type: 'put', key, value, lease: options.lease }],
    });
    return { revision };
  }

  async delete(key: string): Promise<{ revision: number; deleted: number }> {
    const { revision, results } = await this.txn({
      compare: [],
      success: [{ type: 'delete', key }],
    });
    return { revision, deleted: deletedCount(results[0]) };
  }

  async deletePrefix(prefix: string): Promise<{ revision: number; deleted: number }> {
    const { revision, results } = await this.txn({
      compare: [],
      success: [{ type: 'deletePrefix', prefix }],
    });
    return { revision, deleted: deletedCount(results[0]) };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.assertUsable();
    const plan = this.keyspace.planTxn(request);
    await this.commit(plan.record);
    return plan.result;
  }

  async revision(): Promise<number> {
    this.assertUsable();
    const revision = this.keyspace.revision;
    await this.pipeline.barrier();
    return revision;
  }

  async grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    this.assertUsable();
    const record = this.keyspace.planGrant(ttlSeconds);
    this.deadlines.set(record.lease, this.now() + ttlSeconds * 1000);
    await this.commit(record);
    return { id: record.lease, ttlSeconds };
  }

  async keepAliveOnce(id: LeaseId): Promise<number> {
    this.assertUsable();
    const ttl = this.keyspace.leaseTtl(id);
    const deadline = this.deadlines.get(id);
    if (ttl === undefined || deadline === undefined) throw new LeaseNotFoundError(id);
    if (deadline <= this.now()) {
      // Past its deadline but not swept yet: it is expired (etcd refuses to renew it too).
      this.expire(id);
      throw new LeaseNotFoundError(id);
    }
    this.deadlines.set(id, this.now() + ttl * 1000);
    await this.pipeline.barrier();
    return ttl;
  }

  async revokeLease(id: LeaseId): Promise<void> {
    this.assertUsable();
    const record = this.keyspace.planRevoke(id);
    this.deadlines.delete(id);
    await this.commit(record);
  }

  async leaseTimeToLive(id: LeaseId): Promise<number> {
    this.assertUsable();
    const deadline = this.deadlines.get(id);
    const remainingMs = deadline === undefined ? -1 : deadline - this.now();
    await this.pipeline.barrier();
    // Whole seconds, truncated, as etcd reports them.
    return remainingMs > 0 ? Math.floor(remainingMs / 1000) : -1;
  }

  async watch(prefix: string, handlers: WatchHandlers, options: WatchOptions = {}): Promise<Watch> {
    this.assertUsable();
    // Only durable revisions are in the hub, so a watch needs no barrier: its start is
    // never ahead of what a crash would keep.
    return Promise.resolve(this.hub.open(prefix, handlers, options.fromRevision));
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** Numbers for health and metrics (not part of the port). */
  stats(): EmbeddedStoreStats {
    return {
      revision: this.keyspace.revision,
      lsn: this.pipeline.lastLsn,
      flushes: this.pipeline.flushes,
      walSegments: this.wal.segmentCount,
      walSegmentBytes: this.wal.currentSegmentBytes,
      snapshotsWritten: this.snapshotsWritten,
      compactRevision: this.hub.compactRevision,
    };
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.pipeline.drain(); // changes already accepted still reach the disk
    await this.snapshotTask;
    this.hub.failAll(new StoreClosedError());
    try {
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }

  /** Applies a planned change to memory now, and resolves once it is durable. */
  private commit(record: WalRecord | undefined): Promise<void> {
    if (!record) return this.pipeline.barrier();
    const events = this.keyspace.apply(record);
    return this.pipeline.submit({ record, events });
  }

  private async writeBatch(batch: Array<Entry<PendingChange>>): Promise<void> {
    try {
      await this.startSnapshotIfDue();
      await this.wal.append(batch.map(({ lsn, item }) => ({ lsn, record: item.record })));
    } catch (error) {
      throw new StoreError(
        `embedded store: writing the log in ${this.dataDir} failed; the store stopped and ` +
          `must be reopened: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Between two log writes: if the segment is full, start a new one and snapshot the state
   * in the background. The state already includes every change queued so far (applied but
   * maybe not yet logged), so the snapshot covers lsns up to the last applied one; those
   * changes will be logged in the new segment too, and replay skips them by lsn.
   */
  private async startSnapshotIfDue(): Promise<void> {
    if (this.snapshotTask || this.wal.currentSegmentBytes < this.snapshotEveryBytes) return;
    await this.wal.rotate();
    const snapshot: Snapshot = { lsn: this.pipeline.lastLsn, ...this.keyspace.capture() };
    this.snapshotTask = this.persistSnapshot(snapshot).finally(() => {
      this.snapshotTask = undefined;
    });
  }

  private async persistSnapshot(snapshot: Snapshot): Promise<void> {
    try {
      const name = await writeSnapshot(this.dataDir, snapshot);
      // Only once the snapshot is durable may what it replaces go.
      await removeOtherSnapshots(this.dataDir, name);
      await this.wal.removeSegmentsCoveredBy(snapshot.lsn);
      this.snapshotsWritten++;
      this.logger.log?.(`embedded store: snapshot ${name} written (revision ${snapshot.revision})`);
    } catch (error) {
      // The log still holds everything; the next full segment tries again.
      this.logger.warn(`embedded store: snapshot failed: ${(error as Error).message}`);
    }
  }

  private onLogFailure(error: Error): void {
    this.failure = error;
    clearInterval(this.sweepTimer);
    this.logger.warn(error.message);
    this.hub.failAll(error);
  }

  private expireLeases(): void {
    if (this.closed || this.failure) return;
    const now = this.now();
    for (const [id, deadline] of this.deadlines) {
      if (deadline <= now) this.expire(id);
    }
  }

  /** Expiry is a revoke: the lease's keys go in one revision, with delete events. */
  private expire(id: LeaseId): void {
    this.deadlines.delete(id);
    const record = this.keyspace.planRevoke(id);
    if (!record) return;
    this.commit(record).catch((error: unknown) => {
      this.logger.warn(`embedded store: expiring lease ${id} failed: ${String(error)}`);
    });
  }

  private assertUsable(): void {
    if (this.closed) throw new StoreClosedError();
    if (this.failure) throw this.failure;
  }
}

function deletedCount(result: TxnOpResult): number {
  return result.type === 'delete' || result.type === 'deletePrefix' ? result.deleted : 0;
}
