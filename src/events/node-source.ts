import { Keyspace } from '@forest/protocol';
import { CoordinationStore, KeyValue, rangePages, Watch, WatchEvent } from '@forest/store';
import type { NodeRecord } from '../election/leadership.events';
import { FeedSource, OpenSource, SourceHandlers } from './event-feed';
import { nodeChange, StreamEvent } from './stream-event';

/**
 * Scheduler nodes joining (`nodes/{id}` created) and leaving (deleted), and leader
 * changes: the candidate under `election/` with the lowest create revision leads (see
 * CampaignSession), so the source keeps the candidates and says when the lowest changes.
 * Both prefixes change only when nodes come and go, so prevKv costs nothing here.
 */
export class NodeSource implements FeedSource {
  readonly type = 'node' as const;

  constructor(private readonly store: CoordinationStore) {}

  async open(handlers: SourceHandlers, fromRevision?: number): Promise<OpenSource> {
    const [candidates, nodes] = await Promise.all([
      firstPage(this.store, Keyspace.election),
      firstPage(this.store, Keyspace.nodes),
    ]);
    const state = new ClusterState(candidates.kvs, nodes.kvs, fromRevision !== undefined);
    const from = fromRevision ?? Math.min(candidates.revision, nodes.revision) + 1;
    const watches: Watch[] = [];
    const close = async () => {
      await Promise.all(watches.map((watch) => watch.cancel()));
    };
    try {
      for (const prefix of [Keyspace.nodes, Keyspace.election]) {
        watches.push(
          await this.store.watch(
            prefix,
            {
              onEvents: (events) => handlers.emit(state.apply(events)),
              onError: (error) => handlers.fail(error),
            },
            { fromRevision: from, prevKv: true },
          ),
        );
      }
    } catch (error) {
      await close();
      throw error;
    }
    return { coveredFrom: from, close };
  }
}

async function firstPage(
  store: CoordinationStore,
  prefix: string,
): Promise<{ kvs: KeyValue[]; revision: number }> {
  // A cluster has a handful of nodes: the first page is all of them.
  for await (const page of rangePages(store, prefix)) return page;
  return { kvs: [], revision: await store.revision() };
}

/** The candidates and node records as the watched changes leave them. */
export class ClusterState {
  private readonly candidates = new Map<string, number>();
  private readonly nodes = new Map<string, NodeRecord>();
  /** The leader clients were last told of; undefined: not told yet. */
  private leader: string | undefined;

  /**
   * `replaying`: the watches start in the past (a resumed stream) while the state read is
   * of now, so the first election change in the replay announces the current leader even
   * when it is the one the state already names.
   */
  constructor(candidates: KeyValue[], nodes: KeyValue[], replaying: boolean) {
    for (const kv of candidates) this.candidates.set(idOf(kv.key), kv.createRevision);
    for (const kv of nodes) {
      const record = parseNode(kv.value);
      if (record) this.nodes.set(idOf(kv.key), record);
    }
    this.leader = replaying ? undefined : this.lowestCandidate();
  }

  apply(events: readonly WatchEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const id = idOf(event.kv.key);
      if (event.kv.key.startsWith(Keyspace.election)) {
        if (event.type === 'put') this.candidates.set(id, event.kv.createRevision);
        else this.candidates.delete(id);
        const leader = this.lowestCandidate();
        if (leader !== undefined && leader !== this.leader) {
          this.leader = leader;
          out.push(this.event(event.revision, 'leader', leader));
        }
      } else if (event.type === 'put') {
        const record = parseNode(event.kv.value);
        if (record) this.nodes.set(id, record);
        if (event.kv.version === 1) out.push(this.event(event.revision, 'joined', id));
      } else {
        const previous = event.prevKv && parseNode(event.prevKv.value);
        if (previous) this.nodes.set(id, previous);
        out.push(this.event(event.revision, 'left', id));
        this.nodes.delete(id);
      }
    }
    return out;
  }

  private event(revision: number, change: 'joined' | 'left' | 'leader', id: string): StreamEvent {
    const leader = change !== 'left' && this.lowestCandidate() === id;
    return { type: 'node', revision, data: nodeChange(change, id, leader, this.nodes.get(id)) };
  }

  private lowestCandidate(): string | undefined {
    let best: [string, number] | undefined;
    for (const entry of this.candidates) if (!best || entry[1] < best[1]) best = entry;
    return best?.[0];
  }
}

function idOf(key: string): string {
  return key.slice(key.indexOf('/') + 1);
}

function parseNode(value: string): NodeRecord | undefined {
  try {
    const record = JSON.parse(value) as NodeRecord;
    return typeof record?.id === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}
