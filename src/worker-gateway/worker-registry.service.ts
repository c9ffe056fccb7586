import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  decodeWorkerAt,
  parseWorkerKey,
  HeartbeatResponse,
  Keyspace,
  RegisterWorkerRequest,
  RegisterWorkerResponse,
  WorkerRecord,
} from '@forest/protocol';
import { CoordinationStore, LeaseNotFoundError, rangeAll, StoreError } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { GroupNotFoundError } from '../job/job.errors';
import { ExecutionHistory } from '../history/history.port';
import { EXECUTION_HISTORY } from '../history/history.tokens';
import { InjectStore } from '../store/store.tokens';
import { heldAbortNotices, InboxLookup } from './held-executions';
import { WorkerNotFoundError } from './worker.errors';
import { leaseOf, newSessionSecret, newWorkerId } from './worker-sessions.service';

/**
 * Worker presence: a worker is live while its lease is. The lease id is the last part of
 * the worker id, so any node can keep any worker's lease alive from the id alone, and a
 * worker can heartbeat through whichever node answers. The id's middle part is random, and
 * registration returns a session secret (the record keeps its SHA-256) that every later
 * call must carry: WorkerSessions checks it before any of the methods below is called.
 */
@Injectable()
export class WorkerRegistry {
  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly config: ForestConfig,
    @Optional() @Inject(EXECUTION_HISTORY) private readonly history?: ExecutionHistory,
  ) {}

  async register(request: RegisterWorkerRequest): Promise<RegisterWorkerResponse> {
    if (!(await this.store.get(Keyspace.group(request.group)))) {
      throw new GroupNotFoundError(request.group);
    }
    const lease = await this.store.grantLease(this.config.workerTtlS);
    const workerId = newWorkerId(request.host, lease.id);
    const session = newSessionSecret();
    const record: WorkerRecord = {
      id: workerId,
      group: request.group,
      targets: [...new Set(request.targets)],
      capacity: request.capacity,
      host: request.host,
      pid: request.pid,
      labels: request.labels ?? {},
      registeredAt: new Date().toISOString(),
      node: this.config.nodeId,
      lease: lease.id,
      sessionSecretSha256: session.sha256,
    };
    try {
      await this.store.put(Keyspace.worker(request.group, workerId), JSON.stringify(record), {
        lease: lease.id,
      });
    } catch (error) {
      await this.store.revokeLease(lease.id).catch(() => undefined);
      throw error;
    }
    return {
      workerId,
      sessionSecret: session.secret,
      group: request.group,
      leaseTtlS: lease.ttlSeconds,
      heartbeatIntervalMs: Math.floor((lease.ttlSeconds * 1000) / 3),
      node: this.config.nodeId,
    };
  }

  /**
   * Refreshes the worker's lease (WorkerNotFoundError when it is gone) and answers which of
   * the executions it holds are no longer its own (see heldAbortNotices). `inbox` is the
   * node's mirror of the worker's inbox, so held ids it knows cost no read.
   */
  async heartbeat(
    group: string,
    workerId: string,
    held: readonly string[] = [],
    inbox: InboxLookup = () => undefined,
  ): Promise<HeartbeatResponse> {
    const lease = leaseOf(workerId);
    if (lease === undefined) throw new WorkerNotFoundError(group, workerId);
    // In parallel with the lease: a heartbeat's latency is what keeps the lease alive.
    const [{ leaseTtlS }, abort] = await Promise.all([
      this.keepAlive(group, workerId, lease),
      held.length === 0
        ? []
        : heldAbortNotices(this.store, group, workerId, held, inbox, (ids) =>
            this.history ? this.history.getMany(ids) : Promise.resolve([]),
          ),
    ]);
    return { leaseTtlS, abort };
  }

  private async keepAlive(
    group: string,
    workerId: string,
    lease: string,
  ): Promise<{ leaseTtlS: number }> {
    const [kv, ttl] = await Promise.all([
      this.store.get(Keyspace.worker(group, workerId)),
      this.store.keepAliveOnce(lease).catch((error: unknown) => {
        if (error instanceof LeaseNotFoundError) return undefined;
        throw error;
      }),
    ]);
    if (!kv || kv.lease !== lease || ttl === undefined) {
      throw new WorkerNotFoundError(group, workerId);
    }
    return { leaseTtlS: ttl };
  }

  async require(group: string, workerId: string): Promise<WorkerRecord> {
    const kv = await this.store.get(Keyspace.worker(group, workerId));
    if (!kv) throw new WorkerNotFoundError(group, workerId);
    return JSON.parse(kv.value) as WorkerRecord;
  }

  /** Revokes the worker's lease: its key goes, and the leader moves its unstarted work. */
  async leave(group: string, workerId: string): Promise<void> {
    const worker = await this.require(group, workerId);
    // Marked first, so the leader tells a goodbye from a lost worker (no worker_lost alert).
    const leaving: WorkerRecord = { ...worker, leavingAt: new Date().toISOString() };
    await this.store
      .put(Keyspace.worker(group, workerId), JSON.stringify(leaving), { lease: worker.lease })
      .catch(() => undefined); // the lease may be gone already; revoking below settles it
    await this.store.revokeLease(worker.lease);
  }

  /**
   * When the worker's lease was last refreshed, to the second: etcd keeps no time of the
   * last keep-alive, only the seconds left, and a refresh restores the full TTL. Undefined
   * once the lease is gone.
   */
  async lastHeartbeatAt(worker: WorkerRecord, nowMs = Date.now()): Promise<string | undefined> {
    let secondsLeft: number;
    try {
      secondsLeft = await this.store.leaseTimeToLive(worker.lease);
    } catch (error) {
      // A lease the store cannot answer for (gone meanwhile, or not a lease id) only leaves
      // this worker's heartbeat unknown; the store's own failures (outage, access, closed)
      // are the store's to report.
      if (error instanceof StoreError && !(error instanceof LeaseNotFoundError)) throw error;
      return undefined;
    }
    if (secondsLeft < 0) return undefined;
    const sinceRefreshS = Math.max(0, this.config.workerTtlS - secondsLeft);
    return new Date(nowMs - sinceRefreshS * 1000).toISOString();
  }

  async list(group?: string): Promise<WorkerRecord[]> {
    const prefix = group ? Keyspace.groupWorkers(group) : Keyspace.workers;
    const workers: WorkerRecord[] = [];
    for (const kv of await rangeAll(this.store, prefix)) {
      // A value that does not decode, or names another worker than its key, is no worker
      // (dispatch skips it the same way).
      const parts = parseWorkerKey(kv.key);
      if (!parts) continue;
      try {
        workers.push(decodeWorkerAt(parts, kv.key, kv.value));
      } catch {
        // left out: see above
      }
    }
    return workers;
  }
}
