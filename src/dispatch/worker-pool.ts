import { WorkerRecord } from '@forest/protocol';

/** An inbox slot: reserved by a dispatch in flight, or an assignment the store holds. */
export type SlotState = 'reserved' | 'assigned' | 'running';

export interface PoolWorker {
  readonly record: WorkerRecord;
  /** Execution id -> slot. Its size is the worker's load, reservations included. */
  readonly inbox: Map<string, SlotState>;
  /** Slots in state `running`, counted as they change (strategies ask on every dispatch). */
  running: number;
}

/**
 * The leader's view of live workers and their load, kept from watches on `workers/` and
 * `assignments/` plus its own reservations (a slot is reserved when a dispatch is decided,
 * before its txn commits, so two dispatches in flight cannot both take a worker's last
 * slot). Assignments of workers it does not know are kept as orphans to be recovered.
 */
export class WorkerPool {
  private readonly groups = new Map<string, Map<string, PoolWorker>>();
  /** Per group, its workers sorted by id; rebuilt after a worker joins or leaves. */
  private readonly sorted = new Map<string, PoolWorker[]>();
  private readonly orphans = new Map<string, Map<string, SlotState>>();

  upsertWorker(record: WorkerRecord): void {
    let group = this.groups.get(record.group);
    if (!group) this.groups.set(record.group, (group = new Map<string, PoolWorker>()));
    const orphanKey = `${record.group}/${record.id}`;
    const inbox =
      group.get(record.id)?.inbox ?? this.orphans.get(orphanKey) ?? new Map<string, SlotState>();
    this.orphans.delete(orphanKey);
    let running = 0;
    for (const state of inbox.values()) if (state === 'running') running++;
    group.set(record.id, { record, inbox, running });
    this.sorted.delete(record.group);
  }

  /** Removes a worker; returns it as it was (what it held when it died). */
  removeWorker(group: string, workerId: string): PoolWorker | undefined {
    const workers = this.groups.get(group);
    const worker = workers?.get(workerId);
    workers?.delete(workerId);
    if (workers?.size === 0) this.groups.delete(group);
    this.sorted.delete(group);
    return worker;
  }

  get(group: string, workerId: string): PoolWorker | undefined {
    return this.groups.get(group)?.get(workerId);
  }

  /** True when the slot belongs to a worker the pool knows. */
  setSlot(group: string, workerId: string, executionId: string, state: SlotState): boolean {
    const worker = this.get(group, workerId);
    if (worker) {
      const previous = worker.inbox.get(executionId);
      worker.inbox.set(executionId, state);
      worker.running += (state === 'running' ? 1 : 0) - (previous === 'running' ? 1 : 0);
      return true;
    }
    const key = `${group}/${workerId}`;
    let inbox = this.orphans.get(key);
    if (!inbox) this.orphans.set(key, (inbox = new Map<string, SlotState>()));
    inbox.set(executionId, state);
    return false;
  }

  deleteSlot(group: string, workerId: string, executionId: string): void {
    const worker = this.get(group, workerId);
    if (worker) {
      if (worker.inbox.get(executionId) === 'running') worker.running--;
      worker.inbox.delete(executionId);
    }
    const key = `${group}/${workerId}`;
    const orphan = this.orphans.get(key);
    orphan?.delete(executionId);
    if (orphan?.size === 0) this.orphans.delete(key);
  }

  /** Takes a free slot of the worker for `executionId`; false when unknown or full. */
  reserve(group: string, workerId: string, executionId: string): boolean {
    const worker = this.get(group, workerId);
    if (!worker || worker.inbox.size >= worker.record.capacity) return false;
    worker.inbox.set(executionId, 'reserved');
    return true;
  }

  /** Gives back a reservation that did not become an assignment. */
  release(group: string, workerId: string, executionId: string): void {
    const worker = this.get(group, workerId);
    if (worker?.inbox.get(executionId) === 'reserved') worker.inbox.delete(executionId);
  }

  /** Live workers of the group that declared `target`, full ones included, in id order. */
  eligible(group: string, target: string): PoolWorker[] {
    return this.byId(group).filter((w) => w.record.targets.includes(target));
  }

  /** True when a worker of the group that declared `target` has a free slot. */
  hasFreeSlotFor(group: string, target: string): boolean {
    return this.byId(group).some(
      (w) => w.inbox.size < w.record.capacity && w.record.targets.includes(target),
    );
  }

  /** Orphaned slots (worker unknown), by group and worker; removed from the pool. */
  takeOrphans(): { group: string; workerId: string; inbox: Map<string, SlotState> }[] {
    const taken = [...this.orphans].map(([key, inbox]) => {
      const at = key.indexOf('/');
      return { group: key.slice(0, at), workerId: key.slice(at + 1), inbox };
    });
    this.orphans.clear();
    return taken;
  }

  groupsWithWorkers(): string[] {
    return [...this.groups.keys()];
  }

  /** Live workers of the group, in id order. */
  workersOf(group: string): readonly PoolWorker[] {
    return this.byId(group);
  }

  clear(): void {
    this.groups.clear();
    this.sorted.clear();
    this.orphans.clear();
  }

  private byId(group: string): PoolWorker[] {
    let sorted = this.sorted.get(group);
    if (!sorted) {
      sorted = [...(this.groups.get(group)?.values() ?? [])].sort((a, b) =>
        a.record.id < b.record.id ? -1 : 1,
      );
      this.sorted.set(group, sorted);
    }
    return sorted;
  }
}
