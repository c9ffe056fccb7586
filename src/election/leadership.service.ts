import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore, TxnRequest, TxnResult } from '@forest/store';
import { Observable, Subject } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { ElectionMetrics } from '../metrics/metric-families';
import { MetricsService } from '../metrics/metrics.service';
import { InjectStore } from '../store/store.tokens';
import { CampaignSession } from './campaign-session';
import { NotLeaderError } from './election.errors';
import { LeadershipEvent, NodeRecord } from './leadership.events';
import { FOREST_VERSION } from './node-version';

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * The only owner of this node's campaign. It keeps one CampaignSession alive at a time,
 * knows whether this node leads and with which fencing token, and announces `elected` /
 * `demoted`. Leader work must go through `fencedTxn`, which commits only while this
 * node's candidate key still has the token's create revision.
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LeadershipService.name);
  private readonly events = new Subject<LeadershipEvent>();
  private session?: CampaignSession;
  private token?: number;
  private currentLeaderId?: string;
  /** The last leader this node saw, kept through elections and outages (for the metric). */
  private lastKnownLeaderId?: string;
  private readonly metrics: ElectionMetrics;
  private stopping = false;
  private retryMs = MIN_RETRY_MS;
  private retryTimer?: NodeJS.Timeout;
  readonly node: NodeRecord;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly config: ForestConfig,
    metrics: MetricsService,
  ) {
    this.metrics = metrics.election;
    this.node = {
      id: config.nodeId,
      address: config.advertiseUrl,
      version: FOREST_VERSION,
      startedAt: new Date().toISOString(),
    };
  }

  /** `elected` / `demoted`, in order. Subscribers run synchronously with the change. */
  get events$(): Observable<LeadershipEvent> {
    return this.events.asObservable();
  }

  get isLeader(): boolean {
    return this.token !== undefined;
  }

  /** The leader as this node last saw it (undefined during an election or an outage). */
  get leaderId(): string | undefined {
    return this.currentLeaderId;
  }

  get fencingToken(): number | undefined {
    return this.token;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Try once before the node starts listening so a healthy node serves as a member
    // (and, alone, as leader) from its first request; failures retry in the background.
    await this.startSession();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    const session = this.session;
    this.session = undefined;
    this.demote('node is shutting down');
    try {
      // Resigning revokes the lease: another node leads at once instead of after the TTL.
      await session?.resign();
      this.logger.log(`node=${this.node.id} resigned`);
    } catch (error) {
      this.logger.warn(`node=${this.node.id} could not resign: ${String(error)}`);
    }
  }

  /**
   * Runs a txn only while this node leads: the txn also compares this node's candidate
   * key to the fencing token, so a deposed leader (lease expired during a pause or a
   * partition) cannot commit. A failed fence demotes this node at once.
   */
  async fencedTxn(request: TxnRequest): Promise<TxnResult> {
    const token = this.token;
    if (token === undefined) throw new NotLeaderError(this.node.id);
    const candidateKey = Keyspace.candidate(this.node.id);
    const failure = request.failure ?? [];
    const result = await this.store.txn({
      compare: [
        { key: candidateKey, target: 'createRevision', op: '==', value: token },
        ...request.compare,
      ],
      success: request.success,
      failure: [...failure, { type: 'get', key: candidateKey }],
    });
    if (result.succeeded) return result;
    const fence = result.results[result.results.length - 1];
    if (fence.type === 'get' && fence.kv?.createRevision === token) {
      return { ...result, results: result.results.slice(0, -1) };
    }
    this.metrics.fencedWritesRefused.inc();
    this.logger.warn(
      `node=${this.node.id} fenced write refused: token ${token} is no longer valid`,
    );
    if (this.token === token) {
      this.demote('fencing token no longer valid');
      this.restartSession('fencing token no longer valid');
    }
    throw new NotLeaderError(this.node.id, `fencing token ${token} is no longer valid`);
  }

  private async startSession(): Promise<void> {
    if (this.stopping) return;
    const session: CampaignSession = new CampaignSession(
      this.store,
      this.node,
      this.config.leaseTtlS,
      {
        onLeaderChanged: (leaderId, token) => {
          if (this.session === session) this.onLeaderChanged(leaderId, token);
        },
        onEnded: (reason) => {
          if (this.session === session) this.restartSession(reason);
        },
      },
    );
    this.session = session;
    try {
      await session.open();
      this.retryMs = MIN_RETRY_MS;
      this.logger.log(`node=${this.node.id} joined the cluster (lease ${session.leaseId})`);
    } catch (error) {
      session.close();
      if (this.session === session) this.restartSession(`could not join: ${String(error)}`);
    }
  }

  private restartSession(reason: string): void {
    this.session?.close();
    this.session = undefined;
    this.currentLeaderId = undefined;
    this.demote(reason);
    if (this.stopping) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.logger.warn(
      `node=${this.node.id} left the election (${reason}); rejoining in ${delay} ms`,
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.startSession(), delay);
  }

  private onLeaderChanged(leaderId: string | undefined, token: number | undefined): void {
    this.currentLeaderId = leaderId;
    if (leaderId !== undefined) {
      if (this.lastKnownLeaderId !== undefined && leaderId !== this.lastKnownLeaderId) {
        this.metrics.leaderChanges.inc();
      }
      this.lastKnownLeaderId = leaderId;
    }
    if (token !== undefined && this.token === undefined) {
      this.token = token;
      this.metrics.leader.set(1);
      this.logger.log(`node=${this.node.id} elected leader (fencing token ${token})`);
      this.events.next({ type: 'elected', nodeId: this.node.id, token, at: new Date() });
    } else if (token === undefined) {
      this.demote(`node ${leaderId ?? '(none)'} leads`);
    }
  }

  private demote(reason: string): void {
    if (this.token === undefined) return;
    this.token = undefined;
    this.metrics.leader.set(0);
    this.logger.warn(`node=${this.node.id} demoted: ${reason}`);
    this.events.next({ type: 'demoted', nodeId: this.node.id, reason, at: new Date() });
  }
}
