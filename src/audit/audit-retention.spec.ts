import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyspace } from '@forest/protocol';
import { EmbeddedStore, TxnRequest } from '@forest/store';
import { Subject } from 'rxjs';
import { ForestConfig } from '../config/forest.config';
import { NotLeaderError } from '../election/election.errors';
import { LeadershipService } from '../election/leadership.service';
import { auditEntryExpires, auditKeyTimeMs } from './audit-retention';
import { AUDIT_RETENTION_PAGE, AuditRetentionService } from './audit-retention.service';

const HOUR = 3_600_000;
const key = (ms: number, suffix = 'aa') => Keyspace.auditEntry(ms, suffix);

describe('auditEntryExpires', () => {
  const policy = { keep: 3, cutoffMs: 1000 };

  it('deletes the oldest entries over the cap', () => {
    // 5 entries, keep 3: indexes 0 and 1 go even though they are recent.
    expect(auditEntryExpires(key(2000), 0, 5, policy)).toBe(true);
    expect(auditEntryExpires(key(2001), 1, 5, policy)).toBe(true);
    expect(auditEntryExpires(key(2002), 2, 5, policy)).toBe(false);
  });

  it('deletes entries older than the cutoff even under the cap', () => {
    expect(auditEntryExpires(key(999), 0, 2, policy)).toBe(true);
    expect(auditEntryExpires(key(1000), 1, 2, policy)).toBe(false);
  });

  it('deletes keys of another shape under audit/ (they are not Forest\u2019s)', () => {
    expect(auditKeyTimeMs('audit/garbage')).toBeUndefined();
    expect(auditEntryExpires('audit/garbage', 0, 1, policy)).toBe(true);
    expect(auditKeyTimeMs(key(1234))).toBe(1234);
  });
});

describe('AuditRetentionService', () => {
  let dir: string;
  let store: EmbeddedStore;
  let fenced: TxnRequest[];
  let leader: boolean;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forest-audit-retention-'));
    store = await EmbeddedStore.open({ dataDir: dir });
    fenced = [];
    leader = true;
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(keep: number, maxAgeH: number): AuditRetentionService {
    const leadership = {
      events$: new Subject(),
      isLeader: false,
      fencedTxn: async (request: TxnRequest) => {
        if (!leader) throw new NotLeaderError('n1');
        fenced.push(request);
        return store.txn(request);
      },
    } as unknown as LeadershipService;
    const config = {
      auditKeep: keep,
      auditMaxAgeH: maxAgeH,
      retentionIntervalS: 60,
    } as ForestConfig;
    return new AuditRetentionService(store, leadership, config);
  }

  async function seed(times: number[]): Promise<void> {
    for (const [index, ms] of times.entries()) {
      await store.put(key(ms, index.toString(16).padStart(8, '0')), '{}');
    }
  }

  async function remaining(): Promise<number[]> {
    const { kvs } = await store.range(Keyspace.audit);
    return kvs.map((kv) => auditKeyTimeMs(kv.key)!);
  }

  it('keeps the newest `keep` entries and deletes the rest, oldest first, in fenced txns', async () => {
    const now = 1_000 * HOUR;
    const times = Array.from({ length: 250 }, (_, i) => now - 250 + i);
    await seed(times);
    const report = await service(100, 24).enforce(now);
    expect(report).toEqual({ total: 250, deleted: 150, stopped: false });
    expect(await remaining()).toEqual(times.slice(150));
    // Pages of at most 100 deletes (etcd allows 128 ops per txn).
    expect(fenced.map((txn) => txn.success.length)).toEqual([AUDIT_RETENTION_PAGE, 50]);
  });

  it('deletes entries older than the maximum age', async () => {
    const now = 1_000 * HOUR;
    await seed([now - 3 * HOUR, now - 2 * HOUR - 1, now - 2 * HOUR, now - HOUR, now]);
    const report = await service(10_000, 2).enforce(now);
    expect(report.deleted).toBe(2);
    expect(await remaining()).toEqual([now - 2 * HOUR, now - HOUR, now]);
  });

  it('deletes nothing when the log is within both limits, and reads only its first page', async () => {
    const now = 1_000 * HOUR;
    await seed([now - 2, now - 1, now]);
    const range = jest.spyOn(store, 'range');
    const report = await service(100, 1).enforce(now);
    expect(report).toEqual({ total: 3, deleted: 0, stopped: false });
    expect(fenced).toEqual([]);
    expect(range).toHaveBeenCalledTimes(2); // the count, then one page
  });

  it('stops without error when this node is no longer leader', async () => {
    const now = 1_000 * HOUR;
    await seed([now - 5 * HOUR, now]);
    leader = false;
    const report = await service(100, 1).enforce(now);
    expect(report).toMatchObject({ deleted: 0, stopped: true });
    expect(await remaining()).toHaveLength(2);
  });
});
