import { Logger } from '@nestjs/common';
import { ExecutionRecord, executionId, Keyspace, scheduledExecKey } from '@forest/protocol';
import { RangeResult, TxnRequest, TxnResult } from '@forest/store';
import { Subject } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { NotLeaderError } from '../election/election.errors';
import { LeadershipEvent } from '../election/leadership.events';
import { LeadershipService } from '../election/leadership.service';
import { newExecution, transition } from './execution-record';
import { ExecutionRepository } from './execution.repository';
import { RetentionService } from './retention.service';

const NOW = Date.parse('2026-11-24T12:00:00Z');

/** An in-memory `executions/` behind the repository's page(), and a leader over it. */
class Fixture {
  readonly keys = new Map<string, { value: string; modRevision: number }>();
  readonly events = new Subject<LeadershipEvent>();
  leader = false;
  pages = 0;
  /** Called on every page read (to demote the node mid-pass). */
  onPage: () => void = () => undefined;
  readonly txns: TxnRequest[] = [];
  readonly repository: ExecutionRepository;
  readonly service: RetentionService;

  constructor(keepPerJob: number) {
    const repository = new ExecutionRepository(undefined as never);
    jest
      .spyOn(repository, 'page')
      .mockImplementation((prefix, after, limit) =>
        Promise.resolve(this.page(prefix, after, limit)),
      );
    this.repository = repository;
    const leadership = {
      events$: this.events.asObservable(),
      fencedTxn: (request: TxnRequest) => this.commit(request),
    } as unknown as LeadershipService;
    Object.defineProperty(leadership, 'isLeader', { get: () => this.leader });
    const config = {
      executionKeepPerJob: keepPerJob,
      executionMaxAgeH: 24,
      retentionIntervalS: 1,
    } as ForestConfig;
    this.service = new RetentionService(repository, leadership, config);
  }

  seed(jobId: string, count: number): void {
    for (let i = 0; i < count; i++) {
      const ms = NOW - (count - i) * 1000;
      let record: ExecutionRecord = newExecution(
        {
          id: executionId(jobId, scheduledExecKey(ms)),
          jobId,
          jobName: jobId,
          group: 'g',
          target: 't',
          params: null,
          trigger: 'schedule',
          attempt: 1,
          scheduledMs: ms,
          catchUp: false,
          firedBy: { node: 'n', token: 1 },
          timeoutMs: 0,
        },
        ms,
        'n',
      );
      record = transition(record, 'skipped', ms, 'n');
      this.keys.set(Keyspace.execution(jobId, scheduledExecKey(ms)), {
        value: JSON.stringify(record),
        modRevision: i + 1,
      });
    }
  }

  elect(): void {
    this.leader = true;
    this.events.next({ type: 'elected', nodeId: 'n', token: 1, at: new Date() });
  }

  demote(): void {
    this.leader = false;
    this.events.next({ type: 'demoted', nodeId: 'n', reason: 'test', at: new Date() });
  }

  private page(prefix: string, after: string | undefined, limit: number): RangeResult {
    this.pages++;
    this.onPage();
    const matching = [...this.keys.keys()]
      .filter((key) => key.startsWith(prefix) && (after === undefined || key > after))
      .sort();
    const kvs = matching.slice(0, limit).map((key) => ({
      key,
      value: this.keys.get(key)!.value,
      createRevision: 1,
      modRevision: this.keys.get(key)!.modRevision,
      version: 1,
    }));
    const more = matching.length > kvs.length;
    return {
      kvs,
      count: matching.length,
      more,
      next: more ? kvs[kvs.length - 1].key : undefined,
      revision: 1,
    };
  }

  private commit(request: TxnRequest): Promise<TxnResult> {
    if (!this.leader) return Promise.reject(new NotLeaderError('n'));
    this.txns.push(request);
    for (const op of request.success) if (op.type === 'delete') this.keys.delete(op.key);
    return Promise.resolve({ succeeded: true, revision: 2, results: [] });
  }
}

describe('RetentionService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('works only while leader: a pass per interval, in txns of at most 100 deletes', async () => {
    const fixture = new Fixture(10);
    fixture.seed('job', 260);
    fixture.service.onModuleInit();
    await jest.advanceTimersByTimeAsync(5000);
    expect(fixture.pages).toBe(0); // a follower reads nothing

    fixture.elect();
    await jest.advanceTimersByTimeAsync(1500);
    expect(fixture.keys.size).toBe(10);
    expect(fixture.txns.map((txn) => txn.success.length)).toEqual([100, 100, 50]);
    for (const txn of fixture.txns) {
      expect(txn.compare).toHaveLength(txn.success.length);
      expect(txn.compare.every((c) => c.target === 'modRevision')).toBe(true);
    }
    // The newest 10 are the ones kept.
    expect([...fixture.keys.keys()].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) =>
        Keyspace.execution('job', scheduledExecKey(NOW - (10 - i) * 1000)),
      ),
    );

    // Later passes trim what arrives meanwhile.
    fixture.seed('job', 12);
    await jest.advanceTimersByTimeAsync(1500);
    expect(fixture.keys.size).toBe(10);
    await fixture.service.onModuleDestroy();
  });

  it('stops a pass at the next page when demoted, and starts no more', async () => {
    const fixture = new Fixture(1);
    for (const job of ['a', 'b', 'c', 'd']) fixture.seed(job, 40);
    fixture.service.onModuleInit();
    fixture.elect();
    fixture.onPage = () => {
      if (fixture.pages === 3) fixture.demote();
    };
    await jest.advanceTimersByTimeAsync(5000);
    // Demoted while reading job "a": nothing was deleted, and no page read after.
    expect(fixture.pages).toBe(3);
    expect(fixture.txns).toEqual([]);
    expect(fixture.keys.size).toBe(160);
    await fixture.service.onModuleDestroy();
  });

  it('stops on module destroy, waiting for the pass in flight, and starts no more', async () => {
    const fixture = new Fixture(1);
    fixture.seed('a', 40);
    fixture.service.onModuleInit();
    fixture.elect();
    let destroyed: Promise<void> | undefined;
    fixture.onPage = () => {
      if (fixture.pages === 2) destroyed = fixture.service.onModuleDestroy();
    };
    await jest.advanceTimersByTimeAsync(1000);
    expect(destroyed).toBeDefined();
    await jest.advanceTimersByTimeAsync(100);
    await destroyed;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(fixture.pages).toBe(2);
    expect(fixture.txns).toEqual([]);
  });
});
