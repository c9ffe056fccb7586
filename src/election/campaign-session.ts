import { Keyspace } from '@forest/protocol';
import { CoordinationStore, LeaseKeeper, Watch, WatchEvent } from '@forest/store';
import { NodeRecord } from './leadership.events';

export interface CampaignCallbacks {
  /** The lowest candidate changed. `token` is set when that candidate is this node. */
  onLeaderChanged(leaderId: string | undefined, token: number | undefined): void;
  /** The session is over (lease lost, key deleted, watch failed); start a new one. */
  onEnded(reason: string): void;
}

interface Candidate {
  nodeId: string;
  createRevision: number;
}

/**
 * One lease's worth of cluster membership: the node key, the candidate key and the
 * watches that follow the election, all bound to one lease. Anything that breaks the
 * lease (expiry, revocation, a store outage longer than the TTL) ends the session;
 * LeadershipService then starts a fresh one. Keeping the lifetime in one object means
 * nothing from an old lease can leak into a new term.
 *
 * The election: every node creates `election/{nodeId}` on its lease; the candidate with
 * the lowest create revision leads, and that revision is its fencing token. A deposed
 * leader's key is gone (or re-created with a higher revision), so a txn comparing the
 * key's create revision to the token can never commit for it.
 */
export class CampaignSession {
  private keeper?: LeaseKeeper;
  private watches: Watch[] = [];
  private readonly candidates = new Map<string, Candidate>();
  private ownCreateRevision?: number;
  private ended = false;
  private lastAnnounced?: string;

  constructor(
    private readonly store: CoordinationStore,
    private readonly node: NodeRecord,
    private readonly ttlSeconds: number,
    private readonly callbacks: CampaignCallbacks,
  ) {}

  get leaseId(): string | undefined {
    return this.keeper?.id;
  }

  /** Grants the lease, registers the node, enters the election and starts following it. */
  async open(): Promise<void> {
    this.keeper = await LeaseKeeper.grant(this.store, this.ttlSeconds, {
      onLost: (reason) => this.end(reason),
    });
    const lease = this.keeper.id;
    await this.store.put(Keyspace.node(this.node.id), JSON.stringify(this.node), { lease });

    // A candidate key left by an earlier run of this node id (not yet expired) must not
    // lend us its old rank or token: remove it and enter with a fresh create revision.
    const candidateKey = Keyspace.candidate(this.node.id);
    let revision = await this.createCandidate(candidateKey, lease);
    if (revision === undefined) {
      await this.store.delete(candidateKey);
      revision = await this.createCandidate(candidateKey, lease);
      if (revision === undefined) throw new Error(`could not create candidate key ${candidateKey}`);
    }
    this.ownCreateRevision = revision;

    const snapshot = await this.store.range(Keyspace.election);
    for (const kv of snapshot.kvs) {
      this.candidates.set(kv.key, { nodeId: kv.value, createRevision: kv.createRevision });
    }
    const onError = (error: Error) => this.end(`watch failed: ${error.message}`);
    this.watches.push(
      await this.store.watch(
        Keyspace.election,
        { onEvents: (events) => this.onElectionEvents(events), onError },
        { fromRevision: snapshot.revision + 1 },
      ),
      await this.store.watch(
        Keyspace.node(this.node.id),
        { onEvents: (events) => this.onNodeEvents(events), onError },
        { fromRevision: snapshot.revision + 1 },
      ),
    );
    if (!this.candidates.has(candidateKey)) {
      this.end('candidate key vanished while entering the election');
      return;
    }
    this.announce();
  }

  /** Creates the candidate key if absent; its create revision, or undefined if it existed. */
  private async createCandidate(key: string, lease: string): Promise<number | undefined> {
    const result = await this.store.txn({
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }],
      success: [{ type: 'put', key, value: this.node.id, lease }],
    });
    return result.succeeded ? result.revision : undefined;
  }

  /** Leaves at once: revoking the lease deletes the node and candidate keys together. */
  async resign(): Promise<void> {
    this.ended = true;
    await this.stopWatches();
    await this.keeper?.revoke();
  }

  /** Stops following without touching the store (the lease expires on its own). */
  close(): void {
    this.ended = true;
    this.keeper?.stop();
    void this.stopWatches();
  }

  private onElectionEvents(events: WatchEvent[]): void {
    if (this.ended) return;
    for (const event of events) {
      if (event.type === 'put') {
        this.candidates.set(event.kv.key, {
          nodeId: event.kv.value,
          createRevision: event.kv.createRevision,
        });
      } else {
        this.candidates.delete(event.kv.key);
      }
    }
    const own = this.candidates.get(Keyspace.candidate(this.node.id));
    if (!own || own.createRevision !== this.ownCreateRevision) {
      this.end('candidate key was deleted (lease revoked or expired)');
      return;
    }
    this.announce();
  }

  private onNodeEvents(events: WatchEvent[]): void {
    if (this.ended || !events.some((event) => event.type === 'delete')) return;
    // Someone removed our registration while the lease lives: put it back.
    const lease = this.keeper?.id;
    this.store
      .put(Keyspace.node(this.node.id), JSON.stringify(this.node), { lease })
      .catch((error: unknown) => this.end(`could not re-register: ${String(error)}`));
  }

  private announce(): void {
    let leader: Candidate | undefined;
    for (const candidate of this.candidates.values()) {
      if (!leader || candidate.createRevision < leader.createRevision) leader = candidate;
    }
    const key = leader ? `${leader.nodeId}@${leader.createRevision}` : undefined;
    if (key === this.lastAnnounced) return;
    this.lastAnnounced = key;
    const isSelf = leader?.nodeId === this.node.id;
    this.callbacks.onLeaderChanged(leader?.nodeId, isSelf ? this.ownCreateRevision : undefined);
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.keeper?.stop();
    void this.stopWatches();
    this.callbacks.onEnded(reason);
  }

  private async stopWatches(): Promise<void> {
    const watches = this.watches.splice(0);
    await Promise.all(watches.map((watch) => watch.cancel().catch(() => undefined)));
  }
}
