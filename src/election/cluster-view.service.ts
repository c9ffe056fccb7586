import { Injectable } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore, KeyValue, rangeAll } from '@forest/store';
import { InjectStore } from '../store/store.tokens';
import { LeaderDto, NodeDto } from './dto/node.dto';
import { NoLeaderError } from './election.errors';
import { NodeRecord } from './leadership.events';

/**
 * The cluster as the store holds it, read fresh on every call so any node answers the
 * same, whatever its own view of the election.
 */
@Injectable()
export class ClusterViewService {
  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  async listNodes(): Promise<NodeDto[]> {
    const [nodes, leader] = await Promise.all([
      rangeAll(this.store, Keyspace.nodes),
      this.readLeader(),
    ]);
    const now = Date.now();
    return nodes
      .map((kv) => toNodeDto(JSON.parse(kv.value) as NodeRecord, now, leader?.nodeId))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async getLeader(): Promise<LeaderDto> {
    const leader = await this.readLeader();
    if (!leader) throw new NoLeaderError();
    const record = await this.store.get(Keyspace.node(leader.nodeId));
    if (!record) throw new NoLeaderError();
    const node = toNodeDto(JSON.parse(record.value) as NodeRecord, Date.now(), leader.nodeId);
    return { ...node, fencingToken: leader.token };
  }

  /** The candidate with the lowest create revision leads (see CampaignSession). */
  private async readLeader(): Promise<{ nodeId: string; token: number } | undefined> {
    const candidates = await rangeAll(this.store, Keyspace.election);
    let best: KeyValue | undefined;
    for (const kv of candidates) if (!best || kv.createRevision < best.createRevision) best = kv;
    return best ? { nodeId: best.value, token: best.createRevision } : undefined;
  }
}

function toNodeDto(record: NodeRecord, now: number, leaderId: string | undefined): NodeDto {
  return {
    id: record.id,
    address: record.address,
    version: record.version,
    startedAt: record.startedAt,
    uptimeMs: Math.max(0, now - Date.parse(record.startedAt)),
    leader: record.id === leaderId,
  };
}
