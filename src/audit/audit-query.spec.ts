import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyspace } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import {
  AUDIT_SCAN_BUDGET,
  decodeAuditCursor,
  encodeAuditCursor,
  matchesAuditFilters,
  readAuditPage,
} from './audit-query';
import { AuditEntry } from './audit.types';

function entry(ms: number, n: number, fields: Partial<AuditEntry> = {}): AuditEntry {
  const id = Keyspace.auditEntry(ms, n.toString(16).padStart(8, '0')).slice('audit/'.length);
  return {
    id,
    at: new Date(ms).toISOString(),
    actor: 'alice',
    action: 'job.pause',
    method: 'POST',
    route: '/api/jobs/:id/pause',
    object: `job:j${n}`,
    status: 200,
    node: 'n1',
    ip: '127.0.0.1',
    ...fields,
  };
}

describe('readAuditPage', () => {
  let dir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forest-audit-query-'));
    store = await EmbeddedStore.open({ dataDir: dir });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function seed(entries: AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 100) {
      await store.txn({
        compare: [],
        success: entries.slice(i, i + 100).map((e) => ({
          type: 'put' as const,
          key: `audit/${e.id}`,
          value: JSON.stringify(e),
        })),
      });
    }
  }

  /** Every page, following `next`, as the ids in order. */
  async function readAll(
    filters: Parameters<typeof readAuditPage>[1],
    limit: number,
    nowMs: number,
  ): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await readAuditPage(
        store,
        filters,
        limit,
        cursor && decodeAuditCursor(cursor),
        nowMs,
      );
      pages++;
      ids.push(...page.items.map((e) => e.id));
      cursor = page.next;
    } while (cursor && pages < 1000);
    return { ids, pages };
  }

  it('is empty for an empty log', async () => {
    expect(await readAuditPage(store, {}, 10)).toEqual({ items: [] });
  });

  it('lists newest first across sparse and dense stretches, pages neither repeat nor skip', async () => {
    const now = Date.UTC(2026, 10, 24);
    const entries: AuditEntry[] = [];
    let n = 0;
    // A year-old entry, a dense burst an hour ago (same ms for many), and recent ones.
    entries.push(entry(now - 365 * 86_400_000, n++));
    for (let i = 0; i < 300; i++) entries.push(entry(now - 3_600_000 + Math.floor(i / 7), n++));
    for (let i = 0; i < 20; i++) entries.push(entry(now - 20_000 + i * 1000, n++));
    await seed(entries);
    const expected = entries
      .map((e) => e.id)
      .sort()
      .reverse();
    const { ids } = await readAll({}, 25, now);
    expect(ids).toEqual(expected);
  });

  it('applies the filters and the time bounds', async () => {
    const now = Date.UTC(2026, 10, 24);
    await seed([
      entry(now - 5000, 1, { actor: 'bob', action: 'job.create', object: 'job:a' }),
      entry(now - 4000, 2, { action: 'job.pause', object: 'job:a' }),
      entry(now - 3000, 3, { action: 'execution.cancel', object: 'execution:a~1' }),
      entry(now - 2000, 4, { action: 'job.delete', object: 'job:b' }),
      entry(now - 1000, 5, { actor: 'bob', action: 'group.create', object: 'group:g' }),
    ]);
    const idsOf = async (filters: Parameters<typeof readAuditPage>[1]) =>
      (await readAuditPage(store, filters, 50, undefined, now)).items.map(
        (e) => e.object + ' ' + e.action,
      );
    expect(await idsOf({ actor: 'bob' })).toEqual(['group:g group.create', 'job:a job.create']);
    expect(await idsOf({ action: 'job.*' })).toEqual([
      'job:b job.delete',
      'job:a job.pause',
      'job:a job.create',
    ]);
    expect(await idsOf({ object: 'job:a' })).toEqual(['job:a job.pause', 'job:a job.create']);
    expect(await idsOf({ fromMs: now - 4000, toMs: now - 2000 })).toEqual([
      'job:b job.delete',
      'execution:a~1 execution.cancel',
      'job:a job.pause',
    ]);
  });

  it('examines at most the scan budget per request and says where to go on', async () => {
    const now = Date.UTC(2026, 10, 24);
    const entries = Array.from({ length: AUDIT_SCAN_BUDGET + 500 }, (_, i) =>
      entry(now - 1_000_000 + i * 10, i, { actor: i === 0 ? 'rare' : 'alice' }),
    );
    await seed(entries);
    const range = jest.spyOn(store, 'range');
    const first = await readAuditPage(store, { actor: 'rare' }, 10, undefined, now);
    expect(first.items).toEqual([]);
    expect(first.next).toBeDefined();
    const scanned = range.mock.results.length;
    expect(scanned).toBeLessThan(60);
    const { ids } = await readAll({ actor: 'rare' }, 10, now);
    expect(ids).toEqual([entries[0].id]);
  });

  it('skips malformed values', async () => {
    const now = Date.UTC(2026, 10, 24);
    await seed([entry(now - 1000, 1)]);
    await store.put(Keyspace.auditEntry(now - 500, 'ffffffff'), 'not json');
    const page = await readAuditPage(store, {}, 10, undefined, now);
    expect(page.items.map((e) => e.object)).toEqual(['job:j1']);
  });
});

describe('audit cursors and filters', () => {
  it('round-trips a cursor and refuses anything else', () => {
    const key = Keyspace.auditEntry(1234, 'abcdef01');
    expect(decodeAuditCursor(encodeAuditCursor(key))).toBe(key);
    expect(decodeAuditCursor(encodeAuditCursor('audit/000000000001234'))).toBe(
      'audit/000000000001234',
    );
    expect(decodeAuditCursor(encodeAuditCursor('jobs/x'))).toBeUndefined();
    expect(decodeAuditCursor('!!')).toBeUndefined();
    expect(decodeAuditCursor(Buffer.from('a1:audit/../x').toString('base64url'))).toBeUndefined();
  });

  it('matches actions and objects exactly or by prefix', () => {
    const e = entry(1, 1, { action: 'job.pause', object: 'job:nightly' });
    expect(matchesAuditFilters(e, { action: 'job.pause' })).toBe(true);
    expect(matchesAuditFilters(e, { action: 'job.*' })).toBe(true);
    expect(matchesAuditFilters(e, { action: 'job' })).toBe(false);
    expect(matchesAuditFilters(e, { object: 'job:*' })).toBe(true);
    expect(matchesAuditFilters(e, { object: 'job:night' })).toBe(false);
    expect(matchesAuditFilters(e, { actor: 'bob' })).toBe(false);
  });
});
