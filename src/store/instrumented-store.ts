import {
  CoordinationStore,
  KeyValue,
  LeaseGrant,
  LeaseId,
  LeaseNotFoundError,
  PutOptions,
  RangeOptions,
  RangeResult,
  StoreAccessDeniedError,
  StoreClosedError,
  StoreCompactedError,
  StoreRequestError,
  StoreUnavailableError,
  TxnRequest,
  TxnResult,
  Watch,
  WatchHandlers,
  WatchOptions,
} from '@forest/store';
import { STORE_OPERATIONS, StoreMetrics, StoreOperation } from '../metrics/metric-families';

/** The label object of each operation, made once. */
const OP_LABELS = Object.fromEntries(STORE_OPERATIONS.map((op) => [op, { op }])) as Record<
  StoreOperation,
  { op: StoreOperation }
>;

/** The error label of a failed store request: the port's error kinds, or `other`. */
export function storeErrorKind(error: unknown): string {
  if (error instanceof StoreUnavailableError) return 'unavailable';
  if (error instanceof StoreCompactedError) return 'compacted';
  if (error instanceof LeaseNotFoundError) return 'lease_not_found';
  if (error instanceof StoreClosedError) return 'closed';
  if (error instanceof StoreRequestError) return 'request';
  if (error instanceof StoreAccessDeniedError) return 'access_denied';
  return 'other';
}

/** `jobs/`, `assignments/g/` -> `jobs`, `assignments`: the keyspace label of a watch. */
export function keyspaceOf(prefix: string): string {
  const slash = prefix.indexOf('/');
  return (slash < 0 ? prefix : prefix.slice(0, slash)) || 'all';
}

/**
 * The CoordinationStore the app uses, measured: every request's latency and failures by
 * operation, and the watches that end (each one's owner reloads and watches anew). A
 * decorator over whichever adapter runs, so neither adapter knows about metrics; it adds a
 * clock read and a histogram observation per request, and nothing per watch event.
 */
export class InstrumentedStore implements CoordinationStore {
  constructor(
    private readonly inner: CoordinationStore,
    private readonly metrics: StoreMetrics,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.measure('get', performance.now(), this.inner.get(key));
  }

  range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    return this.measure('range', performance.now(), this.inner.range(prefix, options));
  }

  put(key: string, value: string, options?: PutOptions): Promise<{ revision: number }> {
    return this.measure('put', performance.now(), this.inner.put(key, value, options));
  }

  delete(key: string): Promise<{ revision: number; deleted: number }> {
    return this.measure('delete', performance.now(), this.inner.delete(key));
  }

  deletePrefix(prefix: string): Promise<{ revision: number; deleted: number }> {
    return this.measure('delete_prefix', performance.now(), this.inner.deletePrefix(prefix));
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    return this.measure('txn', performance.now(), this.inner.txn(request));
  }

  revision(): Promise<number> {
    return this.measure('revision', performance.now(), this.inner.revision());
  }

  grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    return this.measure('grant_lease', performance.now(), this.inner.grantLease(ttlSeconds));
  }

  keepAliveOnce(id: LeaseId): Promise<number> {
    return this.measure('keep_alive', performance.now(), this.inner.keepAliveOnce(id));
  }

  revokeLease(id: LeaseId): Promise<void> {
    return this.measure('revoke_lease', performance.now(), this.inner.revokeLease(id));
  }

  leaseTimeToLive(id: LeaseId): Promise<number> {
    return this.measure('lease_ttl', performance.now(), this.inner.leaseTimeToLive(id));
  }

  watch(prefix: string, handlers: WatchHandlers, options?: WatchOptions): Promise<Watch> {
    const keyspace = keyspaceOf(prefix);
    const onError = (error: Error): void => {
      // A closed store ends every watch on purpose: that is no restart.
      if (!(error instanceof StoreClosedError)) this.metrics.watchRestarts.inc({ keyspace });
      handlers.onError?.(error);
    };
    return this.measure(
      'watch',
      performance.now(),
      this.inner.watch(prefix, { onEvents: handlers.onEvents, onError }, options),
    );
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async measure<T>(op: StoreOperation, startMs: number, request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      this.metrics.errors.inc({ op, error: storeErrorKind(error) });
      throw error;
    } finally {
      this.metrics.duration.observe(OP_LABELS[op], (performance.now() - startMs) / 1000);
    }
  }
}
