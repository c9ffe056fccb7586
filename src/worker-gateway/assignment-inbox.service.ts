import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  Assignment,
  AssignmentState,
  decodeAssignmentAt,
  Keyspace,
  parseAssignmentKey,
  PollResponse,
} from '@forest/protocol';
import { CoordinationStore, KeyValue, rangeAll } from '@forest/store';
import {
  AssignmentChange,
  AssignmentMirror,
  HeldAssignment,
} from '../assignments/assignment-mirror';
import { InjectStore } from '../store/store.tokens';
import { WorkerRegistry } from './worker-registry.service';

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
 * Long-polling for assignments on any node.
 *
 * Polls are answered from the node's AssignmentMirror of `assignments/`, so a poll's cost is
 * the worker's new assignments, not a read of its whole inbox (at thousands of fires per
 * second a worker holds thousands of assignments: the fire lookahead writes them up to a
 * second before they are due, and the SDK keeps them until then). A mirrored change wakes
 * the polls of the worker it is for, so a poll answers within a watch hop of the dispatch.
 * While the mirror is not in sync (loading, or its watch restarting) polls read the store.
 *
 * Delivery is at least once: a poll returns assignments newer than `after` at once; one
 * that waited its full time returns every assignment the worker has not yet reported
 * running, so one lost response costs a wait, never the execution.
 */
@Injectable()
export class AssignmentInbox implements OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly workers: WorkerRegistry,
    private readonly mirror: AssignmentMirror,
  ) {}

  onModuleInit(): void {
    this.unsubscribe.push(
      this.mirror.onChange((changes) => this.wakePollsOf(changes)),
      // Polls waiting now would miss what lands while it reloads: let them re-read.
      this.mirror.onSyncLost(() => this.wakeAll()),
      // Polls that read the store meanwhile go back to the mirror.
      this.mirror.onSynced(() => this.wakeAll()),
    );
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.wakeAll();
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
        const { assignments, revision } =
          this.mirror.revision !== undefined
            ? this.fromMirror(request.group, request.workerId)
            : await this.read(prefix);
        const fresh = assignments.filter((a) => a.modRevision > after);
        const timedOut = Date.now() >= deadline || this.stopped || request.signal?.aborted;
        if (fresh.length > 0 || timedOut) {
          return answer(fresh.length > 0 ? fresh : assignments, request.max, revision, after);
        }
        after = Math.max(after, revision);
        await woken.promise;
      } finally {
        woken.cancel();
      }
    }
  }

  /**
   * Whether the mirror holds `assignments/{group}/{workerId}/{executionId}`: undefined while
   * the mirror is not in sync. The mirror lags the store (by a watch hop), so `true` may
   * name an assignment deleted a moment ago and `false` one written a moment ago: read the
   * store before acting on an absence.
   */
  holds(group: string, workerId: string, executionId: string): boolean | undefined {
    if (this.mirror.revision === undefined) return undefined;
    return this.mirror.inbox(group, workerId)?.has(executionId) ?? false;
  }

  /**
   * How many executions the worker holds, by state: from the mirror, or from the store
   * while the mirror is not in sync.
   */
  async load(group: string, workerId: string): Promise<Record<AssignmentState, number>> {
    const held =
      this.mirror.revision !== undefined
        ? [...(this.mirror.inbox(group, workerId)?.values() ?? [])].map((entry) => entry.value)
        : decodedEntries(
            await rangeAll(this.store, Keyspace.workerAssignments(group, workerId)),
          ).map((entry) => entry.value);
    const load = { assigned: 0, running: 0 };
    for (const assignment of held) load[assignment.state] += 1;
    return load;
  }

  private fromMirror(group: string, workerId: string) {
    const assignments: HeldAssignment[] = [];
    for (const held of this.mirror.inbox(group, workerId)?.values() ?? []) {
      if (held.value.state === 'assigned') assignments.push(held);
    }
    return { assignments, revision: this.mirror.revision! };
  }

  private async read(prefix: string) {
    const page = await this.store.range(prefix, { limit: 1000 });
    const assignments = decodedEntries(page.kvs).filter((a) => a.value.state === 'assigned');
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

  private wakePollsOf(changes: readonly AssignmentChange[]): void {
    for (const change of changes) {
      if (!change.held) continue;
      const prefix = Keyspace.workerAssignments(change.group, change.workerId);
      for (const wake of this.waiters.get(prefix) ?? []) wake();
    }
  }

  private wakeAll(): void {
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
  }
}

/**
 * The poll's answer: oldest first, at most `max`. The revision tells the worker where to
 * go on from; when `max` cuts the list it stops before the first assignment left out, so
 * the next poll returns the rest at once (assignments one txn wrote share a revision: a
 * cut inside such a group repeats its first part, which the SDK ignores by execution id).
 */
function answer(due: HeldAssignment[], max: number, revision: number, after: number): PollResponse {
  const sorted = [...due].sort((a, b) => a.modRevision - b.modRevision);
  if (sorted.length <= max) {
    return { assignments: sorted.map((a) => a.value), revision: Math.max(revision, after) };
  }
  return {
    assignments: sorted.slice(0, max).map((a) => a.value),
    revision: sorted[max].modRevision - 1,
  };
}

/**
 * Inbox entries read from the store, decoded; a value that does not decode, or names
 * another inbox than its key, is left out (the mirror skips it the same way and logs it),
 * so one bad key never fails a poll.
 */
function decodedEntries(kvs: KeyValue[]): { value: Assignment; modRevision: number }[] {
  const entries: { value: Assignment; modRevision: number }[] = [];
  for (const kv of kvs) {
    const parts = parseAssignmentKey(kv.key);
    if (!parts) continue;
    try {
      entries.push({
        value: decodeAssignmentAt(parts, kv.key, kv.value),
        modRevision: kv.modRevision,
      });
    } catch {
      // left out: see above
    }
  }
  return entries;
}
