import { ExecutionRecord } from '@forest/protocol';
import { ExecutionHistory, HistoryQuery, historySortKey } from '../../src/history/history.port';
import { BASE_MS, finishedRecord } from './history-fixtures';

/**
 * The contract every ExecutionHistory adapter passes, unchanged (StoreHistory on the
 * embedded store and on etcd, PostgresHistory on PostgreSQL), so they cannot drift apart.
 */
export interface HistoryUnderTest {
  history: ExecutionHistory;
  /** Closes the adapter and removes what the test created. */
  dispose(): Promise<void>;
}

export interface HistoryContractOptions {
  /** The adapter enforces `maxBytes` (StoreHistory). */
  sizeBudget: boolean;
}

/** Every record a query matches, following `next` (a page may be short: scan budgets). */
export async function listAll(
  history: ExecutionHistory,
  query: Omit<HistoryQuery, 'limit'> & { limit?: number },
): Promise<ExecutionRecord[]> {
  const items: ExecutionRecord[] = [];
  let before = query.before;
  for (let page = 0; page < 1000; page++) {
    const result = await history.list({ ...query, limit: query.limit ?? 500, before });
    items.push(...result.items);
    if (result.next === undefined) return items;
    // A cursor that does not move on would page forever: fail at once instead.
    const movedOn =
      before === undefined || (query.order === 'asc' ? result.next > before : result.next < before);
    if (!movedOn) throw new Error(`listAll: next ${result.next} does not move on from ${before}`);
    before = result.next;
  }
  throw new Error('listAll: more than 1000 pages');
}

const ids = (records: readonly ExecutionRecord[]) => records.map((record) => record.id);
const newestFirst = (records: readonly ExecutionRecord[]) =>
  [...records].sort((a, b) => (historySortKey(a.id) < historySortKey(b.id) ? 1 : -1));

export function describeHistoryContract(
  adapter: string,
  open: () => Promise<HistoryUnderTest>,
  options: HistoryContractOptions,
): void {
  describe(`ExecutionHistory contract: ${adapter}`, () => {
    let subject: HistoryUnderTest;
    let history: ExecutionHistory;

    beforeEach(async () => {
      subject = await open();
      history = subject.history;
    });

    afterEach(async () => {
      await subject.dispose();
    });

    describe('append', () => {
      it('is idempotent by id: the first copy stays, in one call and across calls', async () => {
        const first = finishedRecord({ output: 'first' });
        await history.append([first]);
        await history.append([{ ...first, output: 'second' }]);
        const other = finishedRecord({ jobId: 'job-b', output: 'one' });
        await history.append([other, { ...other, output: 'two' }]);

        expect((await history.get(first.id))?.output).toBe('first');
        expect((await history.get(other.id))?.output).toBe('one');
        expect(ids(await listAll(history, {})).sort()).toEqual([first.id, other.id].sort());
      });

      it('stores the record as given', async () => {
        const record = finishedRecord({ worker: 'w1', lagMs: 12, output: 'ok', error: 'none' });
        await history.append([record]);
        expect(await history.get(record.id)).toEqual(record);
      });

      it('keeps any text intact: quotes, backslashes, braces, commas, NULL-like words, unicode', async () => {
        const awkward = 'a "quoted" \\ back\\slash {brace}, comma; NULL null ☃ \n line';
        const record = {
          ...finishedRecord({ worker: 'w1', output: awkward, error: `${awkward} "}` }),
          params: { text: awkward, list: ['{', '}', '"', '\\'] },
        };
        const plain = finishedRecord({ jobId: 'job-b' }); // no worker, output or error
        await history.append([record, plain]);
        expect(await history.get(record.id)).toEqual(record);
        expect(await history.get(plain.id)).toEqual(plain);
      });

      it('appends many records at once (more than one store txn)', async () => {
        const records = Array.from({ length: 230 }, (_, i) => finishedRecord({ atMs: i * 10 }));
        await history.append(records);
        await history.append(records.slice(100, 130));
        expect(await listAll(history, {})).toHaveLength(230);
      });

      it('refuses a record that is not final', async () => {
        const running = { ...finishedRecord(), status: 'running' as const };
        await expect(history.append([running])).rejects.toThrow(/final/);
      });
    });

    describe('get and getMany', () => {
      it('reads by id, leaving out ids that are not stored', async () => {
        const a = finishedRecord({ atMs: 1000 });
        const b = finishedRecord({ jobId: 'job-b', atMs: 2000 });
        await history.append([a, b]);
        expect(await history.get('job-a~000000000000001')).toBeUndefined();
        expect(await history.get('not an id')).toBeUndefined();
        const many = await history.getMany([b.id, 'job-z~000000000000001', a.id]);
        expect(ids(many).sort()).toEqual([a.id, b.id].sort());
        expect(await history.getMany([])).toEqual([]);
      });
    });

    describe('list', () => {
      it('pages newest first with a cursor that stays stable while newer records arrive', async () => {
        const records = Array.from({ length: 25 }, (_, i) =>
          finishedRecord({ jobId: ['job-a', 'job-b', 'job-c'][i % 3], atMs: i * 60_000 }),
        );
        await history.append(records);
        const expected = ids(newestFirst(records));

        const first = await history.list({ limit: 10 });
        expect(ids(first.items)).toEqual(expected.slice(0, 10));
        expect(first.next).toBeDefined();

        // Newer records arrive between pages: the next pages neither repeat nor skip.
        await history.append(
          Array.from({ length: 5 }, (_, i) => finishedRecord({ atMs: 30 * 60_000 + i * 1000 })),
        );
        const rest = await listAll(history, { before: first.next, limit: 10 });
        expect(ids(rest)).toEqual(expected.slice(10));
      });

      it('pages oldest first with order=asc', async () => {
        const records = Array.from({ length: 7 }, (_, i) => finishedRecord({ atMs: i * 1000 }));
        await history.append(records);
        const first = await history.list({ limit: 3, order: 'asc' });
        expect(ids(first.items)).toEqual(ids(records.slice(0, 3)));
        const rest = await listAll(history, { order: 'asc', before: first.next, limit: 3 });
        expect(ids(rest)).toEqual(ids(records.slice(3)));
      });

      it('sorts records of one millisecond by id, retries beside their first attempt', async () => {
        const a = finishedRecord({ jobId: 'job-a', atMs: 5000 });
        const b = finishedRecord({ jobId: 'job-b', atMs: 5000 });
        const retry = finishedRecord({ jobId: 'job-a', atMs: 5000, attempt: 2 });
        const later = finishedRecord({ jobId: 'job-a', atMs: 5001 });
        await history.append([b, later, retry, a]);
        expect(ids(await listAll(history, { limit: 2 }))).toEqual([later.id, b.id, retry.id, a.id]);
      });

      it('filters by job, group, status, worker and trigger', async () => {
        const records = [
          finishedRecord({ jobId: 'job-a', group: 'g1', worker: 'w1', atMs: 1000 }),
          finishedRecord({
            jobId: 'job-a',
            group: 'g1',
            status: 'failed',
            worker: 'w2',
            atMs: 2000,
          }),
          finishedRecord({ jobId: 'job-b', group: 'g2', trigger: 'manual', atMs: 3000 }),
          finishedRecord({ jobId: 'job-c', group: 'g2', status: 'skipped', atMs: 4000 }),
        ];
        await history.append(records);
        const match = async (query: Omit<HistoryQuery, 'limit'>) =>
          ids(await listAll(history, query));
        expect(await match({ jobId: 'job-a' })).toEqual([records[1].id, records[0].id]);
        expect(await match({ group: 'g2' })).toEqual([records[3].id, records[2].id]);
        expect(await match({ status: 'failed' })).toEqual([records[1].id]);
        expect(await match({ worker: 'w1' })).toEqual([records[0].id]);
        expect(await match({ trigger: 'manual' })).toEqual([records[2].id]);
        expect(await match({ jobId: 'job-a', status: 'succeeded' })).toEqual([records[0].id]);
        expect(await match({ jobId: 'job-nope' })).toEqual([]);
      });

      it('limits to a scope of groups; an empty scope sees nothing', async () => {
        const records = ['g1', 'g2', 'g3'].map((group, i) =>
          finishedRecord({ jobId: `job-${group}`, group, atMs: i * 1000 }),
        );
        await history.append(records);
        expect(ids(await listAll(history, { groups: ['g1', 'g3'] }))).toEqual([
          records[2].id,
          records[0].id,
        ]);
        expect(await listAll(history, { groups: [] })).toEqual([]);
        expect(await listAll(history, { groups: ['g1'], group: 'g2' })).toEqual([]);
      });

      it('bounds the key time, both ends inclusive, in either order', async () => {
        const records = Array.from({ length: 6 }, (_, i) => finishedRecord({ atMs: i * 1000 }));
        await history.append(records);
        const bounds = { fromMs: BASE_MS + 1000, toMs: BASE_MS + 4000 };
        expect(ids(await listAll(history, bounds))).toEqual(ids(records.slice(1, 5).reverse()));
        expect(ids(await listAll(history, { ...bounds, order: 'asc' }))).toEqual(
          ids(records.slice(1, 5)),
        );
      });

      it('lists the attempts of one fire only (not its shards, not other fires)', async () => {
        const first = finishedRecord({ atMs: 1000, status: 'failed' });
        const second = finishedRecord({ atMs: 1000, attempt: 2, status: 'failed' });
        const third = finishedRecord({ atMs: 1000, attempt: 3 });
        const shard = finishedRecord({ atMs: 1000, shard: 1 });
        const shardRetry = finishedRecord({ atMs: 1000, shard: 1, attempt: 2 });
        const otherFire = finishedRecord({ atMs: 1001 });
        const otherJob = finishedRecord({ jobId: 'job-a1', atMs: 1000 });
        await history.append([otherJob, shardRetry, third, otherFire, first, shard, second]);

        expect(ids(await listAll(history, { attemptsOf: first.id }))).toEqual([
          third.id,
          second.id,
          first.id,
        ]);
        expect(
          ids(await listAll(history, { attemptsOf: first.id, order: 'asc', limit: 1 })),
        ).toEqual([first.id, second.id, third.id]);
        expect(ids(await listAll(history, { attemptsOf: first.id, status: 'failed' }))).toEqual([
          second.id,
          first.id,
        ]);
        expect(ids(await listAll(history, { attemptsOf: shard.id }))).toEqual([
          shardRetry.id,
          shard.id,
        ]);
      });

      it('finds free text in output or error, case-insensitively and literally', async () => {
        const records = [
          finishedRecord({ atMs: 1000, output: 'Upload 100% DONE' }),
          finishedRecord({ atMs: 2000, output: 'upload 1000 done' }),
          finishedRecord({ atMs: 3000, error: 'key a_b missing' }),
          finishedRecord({ atMs: 4000, error: 'key axb missing' }),
          finishedRecord({ atMs: 5000, output: 'path C:\\temp\\x' }),
          finishedRecord({ atMs: 6000 }),
        ];
        await history.append(records);
        const search = async (text: string) => ids(await listAll(history, { text }));
        expect(await search('100% done')).toEqual([records[0].id]);
        expect(await search('0%')).toEqual([records[0].id]);
        expect(await search('A_B')).toEqual([records[2].id]);
        expect(await search('\\temp')).toEqual([records[4].id]);
        expect(await search('upload')).toEqual([records[1].id, records[0].id]);
        expect(await search('MISSING')).toEqual([records[3].id, records[2].id]);
        expect(await search('nowhere')).toEqual([]);
      });
    });

    describe('prune', () => {
      it('deletes records that finished before the cutoff', async () => {
        const old = [0, 1, 2].map((i) => finishedRecord({ atMs: i * 1000 }));
        const young = [3, 4].map((i) => finishedRecord({ atMs: i * 1000 }));
        await history.append([...old, ...young]);
        const report = await history.prune({ keepPerJob: 100, cutoffMs: BASE_MS + 3500 });
        expect(report.deleted).toEqual({ age: 3, count: 0, size: 0 });
        expect(report.records).toBe(2);
        expect(ids(await listAll(history, {}))).toEqual(ids(newestFirst(young)));
      });

      it('keeps the newest records of each job', async () => {
        const jobA = Array.from({ length: 5 }, (_, i) =>
          finishedRecord({ jobId: 'job-a', atMs: i * 1000 }),
        );
        const jobB = Array.from({ length: 2 }, (_, i) =>
          finishedRecord({ jobId: 'job-b', atMs: i * 1000 }),
        );
        await history.append([...jobA, ...jobB]);
        const report = await history.prune({ keepPerJob: 2, cutoffMs: 0 });
        expect(report.deleted).toEqual({ age: 0, count: 3, size: 0 });
        expect(report.records).toBe(4);
        expect(ids(await listAll(history, { jobId: 'job-a' }))).toEqual(
          ids(newestFirst(jobA).slice(0, 2)),
        );
        expect(await listAll(history, { jobId: 'job-b' })).toHaveLength(2);
        // Nothing more to do: a second pass deletes nothing.
        expect((await history.prune({ keepPerJob: 2, cutoffMs: 0 })).deleted).toEqual({
          age: 0,
          count: 0,
          size: 0,
        });
      });

      if (options.sizeBudget) {
        it('holds the stored bytes under the size budget, deleting the oldest first', async () => {
          const records = Array.from({ length: 20 }, (_, i) =>
            finishedRecord({ jobId: `job-${i % 4}`, atMs: i * 1000, output: 'x'.repeat(1000) }),
          );
          await history.append(records);
          const recordBytes = Buffer.byteLength(JSON.stringify(records[0]));
          const maxBytes = recordBytes * 8 + recordBytes / 2;
          const report = await history.prune({ keepPerJob: 100, cutoffMs: 0, maxBytes });
          expect(report.deleted.size).toBe(12);
          expect(report.records).toBe(8);
          expect(report.bytes).toBeLessThanOrEqual(maxBytes);
          expect(ids(await listAll(history, {}))).toEqual(ids(newestFirst(records).slice(0, 8)));
        });
      } else {
        it('has no size budget: maxBytes deletes nothing', async () => {
          await history.append([finishedRecord({ output: 'x'.repeat(1000) })]);
          const report = await history.prune({ keepPerJob: 100, cutoffMs: 0, maxBytes: 10 });
          expect(report.deleted).toEqual({ age: 0, count: 0, size: 0 });
          expect(report.records).toBe(1);
        });
      }

      it('sees records appended after an earlier pass', async () => {
        await history.append([finishedRecord({ atMs: 0 }), finishedRecord({ atMs: 1000 })]);
        expect((await history.prune({ keepPerJob: 5, cutoffMs: 0 })).records).toBe(2);
        const later = Array.from({ length: 4 }, (_, i) =>
          finishedRecord({ atMs: 2000 + i * 1000 }),
        );
        await history.append(later);
        // The store adapter learns of new records through a watch: a pass may see only
        // some of them yet (and then deletes only older records): repeat until all went.
        let deleted = 0;
        await eventually(async () => {
          deleted += (await history.prune({ keepPerJob: 3, cutoffMs: 0 })).deleted.count;
          if (deleted < 3) throw new Error(`${deleted} of 3 records deleted so far`);
        });
        expect(deleted).toBe(3);
        expect(ids(await listAll(history, {}))).toEqual(ids(newestFirst(later).slice(0, 3)));
      });
    });

    describe('stats', () => {
      it('buckets by finish time: counts per status and fire lag percentiles', async () => {
        const at = (bucket: number, offsetMs: number) => bucket * 60_000 + offsetMs;
        const records = [
          // Bucket 0: three that ran (lags 10, 20, 40) and one skipped.
          finishedRecord({ jobId: 'j1', atMs: at(0, 0), finishedAtMs: at(0, 1000), lagMs: 10 }),
          finishedRecord({ jobId: 'j2', atMs: at(0, 0), finishedAtMs: at(0, 2000), lagMs: 20 }),
          finishedRecord({
            jobId: 'j3',
            atMs: at(0, 0),
            finishedAtMs: at(0, 3000),
            lagMs: 40,
            status: 'failed',
          }),
          finishedRecord({
            jobId: 'j4',
            atMs: at(0, 0),
            finishedAtMs: at(0, 0),
            status: 'skipped',
          }),
          // Bucket 2, another group.
          finishedRecord({
            jobId: 'j5',
            atMs: at(2, 0),
            finishedAtMs: at(2, 5),
            lagMs: 7,
            group: 'g2',
          }),
          // Outside the window.
          finishedRecord({ jobId: 'j6', atMs: at(3, 0), finishedAtMs: at(3, 1), lagMs: 1 }),
        ];
        await history.append(records);
        const window = { fromMs: BASE_MS, toMs: BASE_MS + 3 * 60_000, bucketMs: 60_000 };
        const buckets = await history.stats(window);
        expect(buckets).toHaveLength(3);
        expect(buckets.map((bucket) => bucket.startMs)).toEqual([
          BASE_MS,
          BASE_MS + 60_000,
          BASE_MS + 120_000,
        ]);
        expect(buckets[0].counts).toEqual({ succeeded: 2, failed: 1, skipped: 1 });
        expect(buckets[0].lagMs!.p50).toBeCloseTo(20, 6);
        // percentile_cont: 20 + 0.98 * (40 - 20).
        expect(buckets[0].lagMs!.p99).toBeCloseTo(39.6, 6);
        expect(buckets[0].lagMs!.max).toBe(40);
        expect(buckets[1]).toEqual({ startMs: BASE_MS + 60_000, counts: {} });
        expect(buckets[2].counts).toEqual({ succeeded: 1 });
        expect(buckets[2].lagMs).toEqual({ p50: 7, p99: 7, max: 7 });

        const scoped = await history.stats({ ...window, groups: ['g2'] });
        expect(scoped.map((bucket) => bucket.counts)).toEqual([{}, {}, { succeeded: 1 }]);
      });
    });
  });
}

/** Retries `check` until it resolves (10 s at most). */
async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
