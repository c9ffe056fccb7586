import { Logger } from '@nestjs/common';
import { JobRecord, JobStateRecord, Keyspace } from '@forest/protocol';
import {
  CoordinationStore,
  KeyValue,
  rangePages,
  StoreClosedError,
  Watch,
  WatchEvent,
} from '@forest/store';
import { Clock } from './clock';
import { Plan } from './plan';

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Keeps a Plan in step with the store: loads `jobs/` and `jobstate/` page by page, then
 * watches both from the first page's revision, so no change between the load and the watch
 * is missed (changes the later pages already showed replay harmlessly: the plan ignores
 * events not newer than what it has). A watch that cannot go on (compaction, store closed)
 * triggers a full reload; a store that is down at start is retried with backoff.
 */
export class PlanFeed {
  private readonly logger = new Logger(PlanFeed.name);
  private watches: Watch[] = [];
  private stopped = false;
  private generation = 0;
  private retryMs = MIN_RETRY_MS;
  private retryTimer?: NodeJS.Timeout;
  private loaded = false;
  /** Job events up to this revision may replay what the load already applied. */
  private replayUntil = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly store: CoordinationStore,
    private readonly plan: Plan,
    private readonly clock: Clock,
    /** Called after every change the plan applied (the fire loop re-arms its timer). */
    private readonly onChanged: () => void,
  ) {}

  /** Loads and watches; resolves after the first successful load (retrying until then). */
  start(): Promise<void> {
    this.resync();
    return this.ready();
  }

  /** Resolves once the plan holds every job (immediately if it already does). */
  ready(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.cancelWatches();
  }

  /**
   * Reads every `jobstate/` key again. A new leader does this before it fires: the watch
   * may still be delivering the last writes of the leader before it.
   */
  async refreshJobStates(): Promise<void> {
    await this.loadPrefix(Keyspace.jobStates, (kv) => this.applyJobState(kv));
  }

  /** sync() in the background: it handles its own failures; this only guards the promise. */
  private resync(): void {
    this.sync().catch((error: unknown) => this.logger.error(`plan sync failed (${String(error)})`));
  }

  private async sync(): Promise<void> {
    const generation = ++this.generation;
    await this.cancelWatches();
    if (this.stopped) return;
    try {
      this.plan.beginReplay();
      const seen = new Set<string>();
      const jobs = await this.loadPrefix(Keyspace.jobs, (kv) => {
        seen.add(kv.key.slice(Keyspace.jobs.length));
        this.applyJobPut(kv);
      });
      this.plan.removeUnseen(seen, jobs.first);
      this.replayUntil = jobs.last;
      const states = await this.loadPrefix(Keyspace.jobStates, (kv) => this.applyJobState(kv));
      const onError = (error: Error) => this.onWatchError(generation, error);
      this.watches.push(
        await this.store.watch(
          Keyspace.jobs,
          { onEvents: (events) => this.onJobEvents(events), onError },
          { fromRevision: jobs.first + 1 },
        ),
        await this.store.watch(
          Keyspace.jobStates,
          { onEvents: (events) => this.onJobStateEvents(events), onError },
          { fromRevision: states.first + 1 },
        ),
      );
      if (generation !== this.generation || this.stopped) return;
      this.retryMs = MIN_RETRY_MS;
      this.logger.log(`plan loaded: ${this.plan.size} active jobs`);
      this.onChanged();
      this.loaded = true;
      for (const resolve of this.waiters.splice(0)) resolve();
    } catch (error) {
      if (this.stopped || error instanceof StoreClosedError) return;
      this.logger.warn(`plan load failed (${String(error)}); retrying in ${this.retryMs} ms`);
      this.scheduleSync();
    }
  }

  /** Applies every key under `prefix`; returns the revisions of the first and last page. */
  private async loadPrefix(
    prefix: string,
    apply: (kv: KeyValue) => void,
  ): Promise<{ first: number; last: number }> {
    let first: number | undefined;
    let last = 0;
    for await (const page of rangePages(this.store, prefix)) {
      first ??= page.revision;
      last = page.revision;
      for (const kv of page.kvs) apply(kv);
    }
    return { first: first!, last };
  }

  private onJobEvents(events: WatchEvent[]): void {
    if (events[0]?.revision > this.replayUntil) this.plan.endReplay();
    for (const event of events) {
      if (event.type === 'put') this.applyJobPut(event.kv);
      else this.plan.removeJob(event.kv.key.slice(Keyspace.jobs.length), event.revision);
    }
    this.onChanged();
  }

  private onJobStateEvents(events: WatchEvent[]): void {
    for (const event of events) {
      if (event.type === 'put') this.applyJobState(event.kv);
    }
    this.onChanged();
  }

  private applyJobPut(kv: KeyValue): void {
    try {
      this.plan.applyJob(JSON.parse(kv.value) as JobRecord, kv.modRevision, this.clock.now());
    } catch (error) {
      // The API validates every job, so this is a record written around it: skip it
      // rather than stop planning every other job.
      this.logger.error(`job ${kv.key} left out of the plan: ${String(error)}`);
    }
  }

  private applyJobState(kv: KeyValue): void {
    try {
      const state = JSON.parse(kv.value) as JobStateRecord;
      if (Number.isFinite(state.lastScheduledMs)) {
        this.plan.recordFired(state.jobId, state.lastScheduledMs);
      }
    } catch (error) {
      this.logger.error(`job state ${kv.key} ignored: ${String(error)}`);
    }
  }

  private onWatchError(generation: number, error: Error): void {
    if (generation !== this.generation || this.stopped) return;
    if (error instanceof StoreClosedError) return;
    this.logger.warn(`plan watch ended (${error.message}); reloading the plan`);
    this.generation++;
    this.scheduleSync(0);
  }

  private scheduleSync(delayMs = this.retryMs): void {
    clearTimeout(this.retryTimer);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => this.resync(), delayMs);
  }

  private async cancelWatches(): Promise<void> {
    const watches = this.watches.splice(0);
    await Promise.allSettled(watches.map((watch) => watch.cancel()));
  }
}
