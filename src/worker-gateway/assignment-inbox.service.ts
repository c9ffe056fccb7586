import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Assignment, Keyspace, PollResponse } from '@forest/protocol';
import { CoordinationStore, StoreClosedError, Watch } from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import { WorkerRegistry } from './worker-registry.service';

const RESTART_WATCH_MS = 1000;

export interface PollRequest {
  group: string;
  workerId: string;
  /** Only assignments changed after this revision return at once. */
  after: number;
  waitMs: number;
  max: number;
  /** Aborted when the worker hangs up. */
  signal?: AbortSignal;
}

/**
 * Long-polling for assignments on any node. One watch on `assignments/` per node wakes the
 * waiting polls of the worker an assignment is for, so a poll answers within a watch hop
 * of the dispatch instead of on its next round.
 *
 * Delivery is at least once: a poll returns assignments newer than `after` at once; one
 * that waited its full time returns every assignment the worker has not yet reported
 * running, so one lost response costs a wait, never the execution.
 */
@Injectable()
export class AssignmentInbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AssignmentInbox.name);
  private readonly waiters = new Map<string, Set<() => void>>();
  private watch?: Watch;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly workers: WorkerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.startWatch();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    await this.watch?.cancel();
  }

  async poll(request: PollRequest): Promise<PollResponse> {
    const prefix = Keyspace.workerAssignments(request.group, request.workerId);
    const deadline = Date.now() + request.waitMs;
    await this.workers.require(request.group, request.workerId);
    let after = request.after;
    for (;;) {
      // Listen before reading, so an assignment written right after the read still wakes us.
      const woken = this.listen(prefix, deadline, request.signal);
      try {
        const { assignments, revision } = await this.read(prefix);
        const fresh = assignments.filter((a) => a.modRevision > after);
        const timedOut = Date.now() >= deadline || this.stopped || request.signal?.aborted;
        if (fresh.length > 0 || timedOut) {
          const due = fresh.length > 0 ? fresh : assignments;
          return { assignments: due.slice(0, request.max).map((a) => a.value), revision };
        }
        after = Math.max(after, revision);
        await woken.promise;
      } finally {
        woken.cancel();
      }
    }
  }

  private async read(prefix: string) {
    const page = await this.store.range(prefix, { limit: 1000 });
    const assignments = page.kvs
      .map((kv) => ({ value: JSON.parse(kv.value) as Assignment, modRevision: kv.modRevision }))
      .filter((a) => a.value.state === 'assigned');
    return { assignments, revision: page.revision };
  }

  /** Resolves when an assignment under `prefix` changes, at the deadline, or on abort. */
  private listen(prefix: string, deadline: number, signal?: AbortSignal) {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
    signal?.addEventListener('abort', wake, { once: true });
    let set = this.waiters.get(prefix);
    if (!set) this.waiters.set(prefix, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(prefix) === set) this.waiters.delete(prefix);
    };
    return { promise, cancel };
  }

  private async startWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      const from = (await this.store.revision()) + 1;
      this.watch = await this.store.watch(
        Keyspace.assignments,
        {
          onEvents: (events) => {
            for (const event of events) {
              if (event.type !== 'put') continue;
              const key = event.kv.key;
              const prefix = key.slice(0, key.lastIndexOf('/') + 1);
              for (const wake of this.waiters.get(prefix) ?? []) wake();
            }
          },
          onError: (error) => this.restart(error),
        },
        { fromRevision: from },
      );
    } catch (error) {
      this.restart(error);
    }
  }

  private restart(error: unknown): void {
    if (this.stopped || error instanceof StoreClosedError) return;
    this.logger.warn(`assignment watch failed (${String(error)}); restarting`);
    // Polls waiting now would miss what lands meanwhile: let them re-read.
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.startWatch(), RESTART_WATCH_MS);
  }
}
