import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { CallContext, Etcd3, IOptions, isRecoverableError } from 'etcd3';
import {
  LeaseNotFoundError,
  StoreAccessDeniedError,
  StoreClosedError,
  StoreError,
  StoreRequestError,
  StoreUnavailableError,
} from '../store.errors';
import {
  CoordinationStore,
  KeyValue,
  LeaseGrant,
  LeaseId,
  PutOptions,
  RangeOptions,
  RangeResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchHandlers,
  WatchOptions,
} from '../store.port';
import { EtcdKeyCodec } from './etcd-codec';
import { toStoreError } from './etcd-errors';
import { EtcdCompactor } from './etcd-compactor';
import { EtcdWatch, WatchLogger } from './etcd-watch';

export interface EtcdStoreOptions {
  endpoints: string[];
  /** Every key lives under this prefix, e.g. `/forest/`. */
  prefix: string;
  /** Deadline for one unary call (range, put, txn, lease...). */
  requestTimeoutMs?: number;
  /**
   * TLS: `ca` verifies the server (absent: the system's roots); `cert` + `key` are the
   * client certificate for mutual TLS. An `https://` endpoint turns TLS on by itself.
   */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
  /**
   * Compact history older than this, so the database does not grow without bound. 0 (and
   * no `compactionRevisions`) disables (for clusters that run etcd's own auto-compaction).
   */
  compactionIntervalMs?: number;
  /** Keep at most this many revisions of history, checked every few seconds (0: time only). */
  compactionRevisions?: number;
  /**
   * Compact to the last check's revision while the database in use is over this many bytes
   * (0: no size bound). See `EtcdCompactionPolicy.maxInUseBytes`.
   */
  compactionMaxInUseBytes?: number;
  /** How often the revision and size bounds are checked (default 5 s; tests shorten it). */
  compactionCheckMs?: number;
  logger?: WatchLogger;
}

const silentLogger: WatchLogger = { warn: () => undefined };

/** The production adapter: the port on a real etcd v3 cluster through the `etcd3` client. */
export class EtcdStore implements CoordinationStore {
  readonly kind = 'etcd';
  private readonly client: Etcd3;
  private readonly codec: EtcdKeyCodec;
  private readonly watches = new Set<EtcdWatch>();
  private readonly compactor?: EtcdCompactor;
  private readonly logger: WatchLogger;
  private closed = false;
  private readonly tls: boolean;
  /** The member status was refused once: the compaction size bound is off. */
  private sizeBoundRefused = false;

  constructor(options: EtcdStoreOptions) {
    this.codec = new EtcdKeyCodec(options.prefix);
    this.tls =
      options.tls !== undefined || options.endpoints.some((host) => host.startsWith('https://'));
    this.logger = options.logger ?? silentLogger;
    this.client = new Etcd3(clientOptions(options));
    const maxInUseBytes = options.compactionMaxInUseBytes ?? 0;
    if (options.compactionIntervalMs || options.compactionRevisions || maxInUseBytes) {
      this.compactor = new EtcdCompactor(
        { revision: () => this.revision(), inUseBytes: () => this.dbSizeInUse() },
        (revision) => this.client.kv.compact({ revision }).then(() => undefined),
        {
          intervalMs: options.compactionIntervalMs ?? 0,
          keepRevisions: options.compactionRevisions ?? 0,
          maxInUseBytes,
          checkMs: options.compactionCheckMs,
        },
        this.logger,
      );
      this.compactor.start();
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const response = await this.call(() => this.client.kv.range({ key: this.codec.key(key) }));
    const raw = response.kvs[0];
    return raw ? this.codec.keyValue(raw) : undefined;
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    const { key, range_end } = this.codec.prefixRange(prefix);
    // Keys strictly after `after`: the smallest key greater than it is `after` + NUL.
    const start = options.after === undefined ? key : this.codec.key(options.after + '\0');
    const response = await this.call(() =>
      this.client.kv.range({
        key: Buffer.compare(start, key) > 0 ? start : key,
        range_end,
        limit: options.limit ?? 0,
        count_only: options.countOnly ?? false,
      }),
    );
    const kvs = response.kvs.map((raw) => this.codec.keyValue(raw));
    return {
      kvs,
      count: Number(response.count),
      more: response.more,
      next: response.more && kvs.length > 0 ? kvs[kvs.length - 1].key : undefined,
      revision: Number(response.header.revision),
    };
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<{ revision: number }> {
    const response = await this.call(() =>
      this.client.kv.put({
        key: this.codec.key(key),
        value: Buffer.from(value),
        lease: options.lease ?? 0,
      }),
    );
    return { revision: Number(response.header.revision) };
  }

  async delete(key: string): Promise<{ revision: number; deleted: number }> {
    const response = await this.call(() =>
      this.client.kv.deleteRange({ key: this.codec.key(key) }),
    );
    return { revision: Number(response.header.revision), deleted: Number(response.deleted) };
  }

  async deletePrefix(prefix: string): Promise<{ revision: number; deleted: number }> {
    const response = await this.call(() =>
      this.client.kv.deleteRange(this.codec.prefixRange(prefix)),
    );
    return { revision: Number(response.header.revision), deleted: Number(response.deleted) };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const failure = request.failure ?? [];
    const response = await this.call(() =>
      this.client.kv.txn({
        compare: request.compare.map((compare) => this.codec.compare(compare)),
        success: request.success.map((op) => this.codec.requestOp(op)),
        failure: failure.map((op) => this.codec.requestOp(op)),
      }),
    );
    const ops = response.succeeded ? request.success : failure;
    return {
      succeeded: response.succeeded,
      revision: Number(response.header.revision),
      results: ops.map((op, index) => this.codec.opResult(op, response.responses[index])),
    };
  }

  /**
   * The responding member's database size in use, for the compaction size bound; undefined
   * when etcd does not report it (before 3.4) or refuses the status call to this user (some
   * etcd versions want the root role for it): then the size bound is off, said once, and
   * the time and revision bounds go on.
   */
  private async dbSizeInUse(): Promise<number | undefined> {
    if (this.sizeBoundRefused) return undefined;
    let status: { dbSizeInUse?: string };
    try {
      status = await this.call(() => this.client.maintenance.status());
    } catch (error) {
      if (!(error instanceof StoreAccessDeniedError)) throw error;
      this.sizeBoundRefused = true;
      this.logger.warn(
        `etcd refuses its status to this user (${error.message}): the compaction size bound ` +
          '(FOREST_ETCD_COMPACTION_MAX_MB) is off; the time and revision bounds still apply',
      );
      return undefined;
    }
    const inUseBytes = Number(status.dbSizeInUse);
    return Number.isFinite(inUseBytes) && inUseBytes > 0 ? inUseBytes : undefined;
  }

  async revision(): Promise<number> {
    // A count-only read of one key is the cheapest way to read the header revision.
    const response = await this.call(() =>
      this.client.kv.range({ key: this.codec.key(''), count_only: true }),
    );
    return Number(response.header.revision);
  }

  async grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
      throw new StoreRequestError(
        `lease TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`,
      );
    }
    const response = await this.call(() => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }));
    return { id: response.ID, ttlSeconds: Number(response.TTL) };
  }

  async keepAliveOnce(id: LeaseId): Promise<number> {
    this.assertOpen();
    try {
      const stream = await this.client.leaseClient.leaseKeepAlive();
      try {
        const answer = new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
        });
        stream.write({ ID: id });
        const { TTL } = await answer;
        const ttl = Number(TTL);
        if (ttl <= 0) throw new LeaseNotFoundError(id);
        return ttl;
      } finally {
        stream.on('error', () => undefined);
        stream.end();
      }
    } catch (error) {
      throw this.translate(error);
    }
  }

  async revokeLease(id: LeaseId): Promise<void> {
    try {
      await this.call(() => this.client.leaseClient.leaseRevoke({ ID: id }));
    } catch (error) {
      // Revoking a lease that is already gone is what the caller wanted anyway.
      if (error instanceof Error && /requested lease not found/.test(error.message)) return;
      throw error;
    }
  }

  async leaseTimeToLive(id: LeaseId): Promise<number> {
    const response = await this.call(() => this.client.leaseClient.leaseTimeToLive({ ID: id }));
    const ttl = Number(response.TTL);
    return ttl < 0 ? -1 : ttl;
  }

  async watch(prefix: string, handlers: WatchHandlers, options: WatchOptions = {}): Promise<Watch> {
    this.assertOpen();
    const watch = new EtcdWatch(
      this.client,
      this.codec,
      prefix,
      handlers,
      options.fromRevision,
      options.prevKv ?? false,
      this.logger,
      (ended) => this.watches.delete(ended),
    );
    this.watches.add(watch);
    await watch.start();
    return watch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.compactor?.stop();
    for (const watch of [...this.watches]) watch.closeByStore();
    this.client.close();
    await Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await operation();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * The port's error for an etcd3 error. Over TLS, "no connection established" is most
   * often a refused handshake (no or wrong client certificate, a CA that did not sign the
   * server's certificate); gRPC does not say so, so the message does.
   */
  private translate(error: unknown): StoreError {
    const translated = toStoreError(error);
    if (
      this.tls &&
      translated instanceof StoreUnavailableError &&
      /No connection established/i.test(translated.message)
    ) {
      return new StoreUnavailableError(
        `${translated.message} (over TLS: if etcd is up, the handshake may have failed: does ` +
          'etcd require a client certificate (FOREST_ETCD_CERT_FILE / FOREST_ETCD_KEY_FILE), and ' +
          'did FOREST_ETCD_CA_FILE sign its server certificate?)',
        { cause: translated.cause },
      );
    }
    return translated;
  }
}

function clientOptions(options: EtcdStoreOptions): IOptions {
  const timeout = options.requestTimeoutMs ?? 5000;
  return {
    hosts: options.endpoints,
    credentials: options.tls
      ? {
          // etcd3 types the CA as required, but passes it to grpc's createSsl, which takes
          // none for "the system's roots" (a server certificate from a public CA).
          rootCertificate: options.tls.ca as Buffer,
          certChain: options.tls.cert,
          privateKey: options.tls.key,
        }
      : undefined,
    auth: options.auth,
    // Unary calls get a deadline so a partition surfaces as an error instead of a hang;
    // streams (watch, keepalive) live on and rely on gRPC keepalive below.
    defaultCallOptions: (context: CallContext) =>
      context.isStream ? {} : { deadline: Date.now() + timeout },
    grpcOptions: {
      // gRPC's default 4 MiB would make a page of large job records fail for good (and
      // trip the circuit breaker every call shares); rangePages aims for 2 MiB pages.
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      // The default 64 KiB window lets busy watch streams fall behind (etcd marks them
      // slow and they lag by seconds); a larger window keeps them flowing.
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
    },
    faultHandling: {
      // etcd3's default breaker stays open 5 s after three failures; after an etcd restart
      // we want to be back within a second.
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: 1000,
          breaker: new ConsecutiveBreaker(3),
        }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 2 }),
    },
  };
}
