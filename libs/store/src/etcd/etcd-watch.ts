import { Etcd3, IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import { StoreClosedError, StoreCompactedError } from '../store.errors';
import { Watch, WatchEvent, WatchHandlers } from '../store.port';
import { EtcdKeyCodec } from './etcd-codec';
import { toStoreError } from './etcd-errors';

export interface WatchLogger {
  warn(message: string): void;
}

const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

/**
 * One prefix watch on its own gRPC stream, with our own resume bookkeeping.
 *
 * Why not etcd3's Watcher: it resumes from the response header's revision + 1, and etcd
 * stamps both the create response and catch-up batches with the *current* store revision,
 * so a reconnect during a history replay skips events. Here the resume point is the last
 * delivered event's revision (or a progress notification, which etcd only sends once a
 * watcher is fully synced), and anything at or below it is dropped, so a reconnect gives
 * neither a gap nor a duplicate.
 */
/** How long a closing watch stream may take to end before it is cancelled. */
const CLOSE_GRACE_MS = 5000;

export class EtcdWatch implements Watch {
  private stream?: IDuplexStream<IWatchRequest, IWatchResponse>;
  private cancelled = false;
  private backoffMs = INITIAL_BACKOFF_MS;
  private reconnectTimer?: NodeJS.Timeout;
  private created?: { resolve: () => void; reject: (error: Error) => void };
  private _lastRevision: number;
  private expectCompaction = false;

  constructor(
    private readonly client: Etcd3,
    private readonly codec: EtcdKeyCodec,
    private readonly prefix: string,
    private readonly handlers: WatchHandlers,
    fromRevision: number | undefined,
    private readonly withPrevKv: boolean,
    private readonly logger: WatchLogger,
    /** Told once when the watch ends (cancelled or failed), so the store forgets it. */
    private readonly onEnded: (watch: EtcdWatch) => void,
  ) {
    // Without a start revision the first create response tells where "now" is.
    this._lastRevision = fromRevision === undefined ? -1 : fromRevision - 1;
  }

  get lastRevision(): number {
    return this._lastRevision;
  }

  /**
   * Opens the stream; resolves once etcd confirmed the watch. A start revision that was
   * compacted rejects with StoreCompactedError. etcd confirms such a watch first and cancels
   * it a moment later (with the compact revision), so when a read at the start revision says
   * "compacted" we hold the confirmation back until that cancellation arrives.
   */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.created = { resolve, reject };
      this.startCompacted()
        .then((compacted) => {
          this.expectCompaction = compacted;
          return this.connect();
        })
        .catch((error: unknown) => this.fail(toStoreError(error)));
    });
  }

  private async startCompacted(): Promise<boolean> {
    if (this._lastRevision < 0) return false;
    try {
      await this.client.kv.range({
        ...this.codec.prefixRange(this.prefix),
        revision: this._lastRevision + 1,
        count_only: true,
      });
      return false;
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (/required revision has been compacted/.test(message)) return true;
      if (/required revision is a future revision/.test(message)) return false;
      throw error;
    }
  }

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.onEnded(this);
    clearTimeout(this.reconnectTimer);
    this.closeStream();
    await Promise.resolve();
  }

  private async connect(): Promise<void> {
    const stream = await this.client.watchClient.watch();
    if (this.cancelled) {
      stream.end();
      return;
    }
    this.stream = stream;
    stream.on('data', (response: IWatchResponse) => {
      if (stream === this.stream) this.onResponse(response);
    });
    stream.on('error', (error: Error) => this.onStreamBroken(stream, error));
    stream.on('end', () => this.onStreamBroken(stream, new Error('watch stream ended')));
    stream.write({
      create_request: {
        ...this.codec.prefixRange(this.prefix),
        start_revision: this._lastRevision >= 0 ? this._lastRevision + 1 : undefined,
        prev_kv: this.withPrevKv,
        progress_notify: true,
      },
    });
  }

  private onResponse(response: IWatchResponse): void {
    if (this.cancelled) return;
    if (response.canceled) {
      this.onCanceled(response);
      return;
    }
    if (response.created) {
      if (this.expectCompaction) {
        // The cancellation with the compact revision follows; do not wait forever for it.
        const requested = this._lastRevision + 1;
        this.reconnectTimer = setTimeout(
          () => this.fail(new StoreCompactedError(requested, 0)),
          5000,
        );
        return;
      }
      if (this._lastRevision < 0) this._lastRevision = Number(response.header.revision);
      this.backoffMs = INITIAL_BACKOFF_MS;
      this.created?.resolve();
      this.created = undefined;
      return;
    }
    if (response.events.length === 0) {
      // A progress notification: every change up to this revision has been sent.
      this._lastRevision = Math.max(this._lastRevision, Number(response.header.revision));
      return;
    }
    this.deliver(response.events);
  }

  private deliver(rawEvents: IEvent[]): void {
    let batch: WatchEvent[] = [];
    for (const raw of rawEvents) {
      const revision = Number(raw.kv.mod_revision);
      if (revision <= this._lastRevision) continue; // already delivered before a reconnect
      if (batch.length > 0 && batch[0].revision !== revision) {
        this.emit(batch);
        batch = [];
      }
      batch.push(this.toEvent(raw, revision));
    }
    if (batch.length > 0) this.emit(batch);
  }

  private emit(batch: WatchEvent[]): void {
    const revision = batch[0].revision;
    if (revision <= this._lastRevision) return;
    this._lastRevision = revision;
    try {
      this.handlers.onEvents(batch);
    } catch (error) {
      this.logger.warn(`watch handler for prefix "${this.prefix}" threw: ${String(error)}`);
    }
  }

  private toEvent(raw: IEvent, revision: number): WatchEvent {
    const event: WatchEvent = {
      type: raw.type === 'Delete' ? 'delete' : 'put',
      kv: this.codec.keyValue(raw.kv),
      revision,
    };
    if (raw.prev_kv) event.prevKv = this.codec.keyValue(raw.prev_kv);
    return event;
  }

  private onCanceled(response: IWatchResponse): void {
    const compactRevision = Number(response.compact_revision);
    if (compactRevision > 0) {
      this.fail(new StoreCompactedError(this._lastRevision + 1, compactRevision));
      return;
    }
    // Any other cancellation (for example a leader change inside etcd) is transient: resume.
    this.onStreamBroken(this.stream, new Error(`watch canceled: ${response.cancel_reason}`));
  }

  private onStreamBroken(stream: unknown, error: Error): void {
    if (this.cancelled || stream !== this.stream) return;
    this.closeStream();
    this.logger.warn(
      `watch on "${this.prefix}" lost its stream (${error.message}); resuming from revision ${this._lastRevision + 1}`,
    );
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        if (this.cancelled) return;
        this.logger.warn(`watch on "${this.prefix}" could not reconnect: ${String(error)}`);
        this.scheduleReconnect();
      });
    }, delay);
  }

  /** The watch cannot go on: tell the owner (or reject start()) and stop. */
  private fail(error: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.onEnded(this);
    clearTimeout(this.reconnectTimer);
    this.closeStream();
    if (this.created) {
      this.created.reject(error);
      this.created = undefined;
      return;
    }
    this.handlers.onError?.(error);
  }

  /** Called by the store on close(): owners learn that no more events will come. */
  closeByStore(): void {
    this.fail(new StoreClosedError());
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    // Half-close rather than cancel: etcd then ends the stream with OK. A cancelled call
    // ends in CANCELLED, which etcd3 counts against the connection's circuit breaker that
    // every call shares; a few watches stopped together (a leader stepping down) would
    // open it and fail unrelated requests. Cancel only if the server never answers.
    const force = setTimeout(() => stream.cancel(), CLOSE_GRACE_MS);
    force.unref();
    const settle = () => clearTimeout(force);
    stream.on('error', settle); // an error (CANCELLED after the forced cancel) is expected
    stream.on('end', settle);
    stream.end();
  }
}
