import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { decodeWorker, Keyspace, parseWorkerKey, WorkerRecord } from '@forest/protocol';
import { CoordinationStore, StoreClosedError, Watch, WatchEvent } from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import {
  WorkerForbiddenError,
  WorkerNotFoundError,
  WorkerUnauthenticatedError,
} from './worker.errors';

/** Longest a verified session is trusted without reading the worker's record again. */
const CACHE_MAX_AGE_MS = 60_000;
/** Most sessions cached per node (oldest dropped first). */
const CACHE_MAX_ENTRIES = 100_000;
/** How long an ended lease is remembered, so a read that raced its deletion is not cached. */
const ENDED_KEEP_MS = 10 * 60_000;
const ENDED_MAX_ENTRIES = 100_000;
const RESTART_WATCH_MS = 1000;

interface VerifiedSession {
  group: string;
  workerId: string;
  /** SHA-256 of the secret, as the worker's record holds it. */
  hash: Buffer;
  until: number;
}

/** A new session secret (256 random bits, base64url) and the SHA-256 (hex) the record keeps. */
export function newSessionSecret(): { secret: string; sha256: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, sha256: sha256(secret).toString('hex') };
}

/**
 * A worker id: `{hostSlug}-{80 random bits, base32}-{leaseId}`. The random part makes ids
 * unguessable (they were host name + a lease counter); the lease id stays last, so any node
 * finds the lease from the id alone (leaseOf). At most 24 + 1 + 16 + 1 + 19 = 61 characters:
 * a key segment.
 */
export function newWorkerId(host: string, lease: string): string {
  return `${hostSlug(host)}-${base32(randomBytes(10))}-${lease}`;
}

/** The lease id at the end of a worker id; undefined when there is none. */
export function leaseOf(workerId: string): string | undefined {
  const lease = workerId.slice(workerId.lastIndexOf('-') + 1);
  return /^\d+$/.test(lease) ? lease : undefined;
}

/** The secret of `Authorization: Bearer <secret>`; undefined when absent or another scheme. */
export function bearerOf(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
  return match?.[1];
}

/**
 * Checks the session secret of every worker call after registration against the hash in
 * the worker's record (`workers/{group}/{id}`), with or without FOREST_AUTH: no secret is
 * 401 WORKER_UNAUTHENTICATED, a wrong one 403 WORKER_FORBIDDEN, and nothing happens.
 *
 * Verified sessions are cached per lease, so the report path (thousands of reports per
 * second) costs no store read per batch. The cache holds the record's hash, never what a
 * caller sent, so a wrong secret never matches it; and it holds entries only while this
 * node watches `workers/`: the deletion of a worker's key (its lease expired, or it left)
 * drops its entry, and a failed watch empties the cache until the watch is back.
 */
@Injectable()
export class WorkerSessions implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WorkerSessions.name);
  /** Lease id -> the session verified for it. */
  private readonly cache = new Map<string, VerifiedSession>();
  /** Leases whose worker key was deleted (-> when), so a racing read is not cached. */
  private readonly ended = new Map<string, number>();
  /** Bumped whenever the watch (re)starts or fails; a read started under another is not cached. */
  private generation = 0;
  private watching = false;
  private watch?: Watch;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.startWatch();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.watching = false;
    this.cache.clear();
    clearTimeout(this.restartTimer);
    await this.watch?.cancel().catch(() => undefined);
  }

  /**
   * Resolves when `authorization` carries the session secret of worker `workerId` of
   * `group`; throws WorkerUnauthenticatedError (none), WorkerForbiddenError (not its
   * secret) or WorkerNotFoundError (no such worker: its lease ended). Returns the worker's
   * record when it had to read it.
   */
  async verify(
    group: string,
    workerId: string,
    authorization: string | string[] | undefined,
  ): Promise<WorkerRecord | undefined> {
    const secret = bearerOf(authorization);
    if (secret === undefined) throw new WorkerUnauthenticatedError(workerId);
    const lease = leaseOf(workerId);
    if (lease === undefined) throw new WorkerNotFoundError(group, workerId);
    const presented = sha256(secret);
    const cached = this.cache.get(lease);
    if (
      cached &&
      cached.group === group &&
      cached.workerId === workerId &&
      cached.until > Date.now() &&
      this.watching
    ) {
      if (timingSafeEqual(cached.hash, presented)) return undefined;
      throw new WorkerForbiddenError(workerId);
    }
    const generation = this.generation;
    const watching = this.watching;
    const key = Keyspace.worker(group, workerId);
    const kv = await this.store.get(key);
    if (!kv) throw new WorkerNotFoundError(group, workerId);
    const record = decodeWorker(key, kv.value);
    if (record.lease !== lease || kv.lease !== lease)
      throw new WorkerNotFoundError(group, workerId);
    const stored = hashOf(record);
    if (stored === undefined) {
      throw new WorkerForbiddenError(
        workerId,
        'it registered without a session secret (through an older node): register again',
      );
    }
    if (!timingSafeEqual(stored, presented)) throw new WorkerForbiddenError(workerId);
    // Only a read made while the watch ran, and before any deletion of the key it reports.
    if (watching && generation === this.generation && !this.ended.has(lease)) {
      this.remember(lease, { group, workerId, hash: stored, until: Date.now() + CACHE_MAX_AGE_MS });
    }
    return record;
  }

  /** The worker left through this node: its session ends here at once (the watch tells the others). */
  forget(workerId: string): void {
    const lease = leaseOf(workerId);
    if (lease !== undefined) this.endLease(lease);
  }

  /** Cached sessions (for tests). */
  get cachedSessions(): number {
    return this.cache.size;
  }

  private remember(lease: string, session: VerifiedSession): void {
    this.cache.delete(lease);
    this.cache.set(lease, session);
    if (this.cache.size > CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  private endLease(lease: string): void {
    this.cache.delete(lease);
    const now = Date.now();
    this.ended.delete(lease);
    this.ended.set(lease, now);
    // Oldest first: drop what is past its time, and the oldest beyond the cap.
    for (const [old, at] of this.ended) {
      if (at > now - ENDED_KEEP_MS && this.ended.size <= ENDED_MAX_ENTRIES) break;
      this.ended.delete(old);
    }
  }

  // ---- the watch of workers/ ----

  private async startWatch(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.watching = false;
    this.cache.clear();
    const previous = this.watch;
    this.watch = undefined;
    await previous?.cancel().catch(() => undefined);
    try {
      const watch = await this.store.watch(Keyspace.workers, {
        onEvents: (events) => {
          if (generation === this.generation) this.onEvents(events);
        },
        onError: (error) => {
          if (generation === this.generation) this.restart(error);
        },
      });
      if (generation !== this.generation || this.stopped) return void watch.cancel();
      this.watch = watch;
      this.watching = true;
    } catch (error) {
      if (generation === this.generation) this.restart(error);
    }
  }

  private onEvents(events: WatchEvent[]): void {
    for (const event of events) {
      const parts = parseWorkerKey(event.kv.key);
      const lease = parts && leaseOf(parts.workerId);
      if (lease === undefined) continue;
      if (event.type === 'delete') {
        this.endLease(lease);
        continue;
      }
      // The registry never changes a worker's secret; a record that does is not trusted.
      const cached = this.cache.get(lease);
      if (!cached) continue;
      let stored: Buffer | undefined;
      try {
        stored = hashOf(decodeWorker(event.kv.key, event.kv.value));
      } catch {
        stored = undefined;
      }
      if (
        stored === undefined ||
        parts?.workerId !== cached.workerId ||
        !timingSafeEqual(stored, cached.hash)
      ) {
        this.cache.delete(lease);
      }
    }
  }

  private restart(error: unknown): void {
    this.generation++;
    this.watching = false;
    this.cache.clear();
    if (this.stopped || error instanceof StoreClosedError) return;
    this.logger.warn(
      `worker watch failed (${String(error)}); sessions are read from the store until it is back`,
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.startWatch(), RESTART_WATCH_MS);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function hashOf(record: WorkerRecord): Buffer | undefined {
  const hex = record.sessionSecretSha256;
  return typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex)
    ? Buffer.from(hex, 'hex')
    : undefined;
}

/** A key-segment-safe prefix from the worker's host name, for readable worker ids. */
function hostSlug(host: string): string {
  const slug = host
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 24)
    .replace(/[-.]+$/, '');
  return slug || 'worker';
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: letters and digits only. */
function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}
