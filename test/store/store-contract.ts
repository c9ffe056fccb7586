import {
  CoordinationStore,
  LeaseNotFoundError,
  StoreClosedError,
  StoreRequestError,
  Watch,
  WatchEvent,
  WatchOptions,
} from '@forest/store';

/**
 * The contract every CoordinationStore adapter passes, unchanged. Both the etcd and the
 * embedded adapter run it (see *.store-spec.ts), so they cannot drift apart.
 */
export interface StoreUnderTest {
  store: CoordinationStore;
  /** Closes the store and removes what the test created. */
  dispose(): Promise<void>;
}

export function describeStoreContract(
  adapter: string,
  openStore: () => Promise<StoreUnderTest>,
): void {
  describe(`CoordinationStore contract: ${adapter}`, () => {
    let subject: StoreUnderTest;
    let store: CoordinationStore;
    const recorders: EventRecorder[] = [];

    beforeEach(async () => {
      subject = await openStore();
      store = subject.store;
    });

    afterEach(async () => {
      await Promise.all(
        recorders.splice(0).map(async (recorder) => {
          await recorder.watch?.cancel();
        }),
      );
      await subject.dispose();
    });

    async function record(prefix: string, options?: WatchOptions): Promise<EventRecorder> {
      const recorder = new EventRecorder();
      recorder.watch = await store.watch(prefix, recorder.handlers, options);
      recorders.push(recorder);
      return recorder;
    }

    describe('key-value CRUD', () => {
      it('puts, reads back and tracks create/mod revision and version', async () => {
        const first = await store.put('kv/a', 'one');
        const created = await store.get('kv/a');
        expect(created).toEqual({
          key: 'kv/a',
          value: 'one',
          createRevision: first.revision,
          modRevision: first.revision,
          version: 1,
        });

        const second = await store.put('kv/a', 'two');
        expect(second.revision).toBe(first.revision + 1);
        expect(await store.get('kv/a')).toMatchObject({
          value: 'two',
          createRevision: first.revision,
          modRevision: second.revision,
          version: 2,
        });
        expect(await store.revision()).toBe(second.revision);
      });

      it('deletes a key; deleting a missing key changes nothing', async () => {
        await store.put('kv/b', 'x');
        const removed = await store.delete('kv/b');
        expect(removed.deleted).toBe(1);
        expect(await store.get('kv/b')).toBeUndefined();

        const again = await store.delete('kv/b');
        expect(again).toEqual({ deleted: 0, revision: removed.revision });
        expect(await store.revision()).toBe(removed.revision);
      });

      it('a re-created key starts a new life: version 1 and a new create revision', async () => {
        const first = await store.put('kv/c', '1');
        await store.put('kv/c', '2');
        await store.delete('kv/c');
        const again = await store.put('kv/c', '3');
        expect(await store.get('kv/c')).toMatchObject({
          version: 1,
          createRevision: again.revision,
        });
        expect(again.revision).toBeGreaterThan(first.revision);
      });

      it('deletes a whole prefix in one revision and leaves its neighbours', async () => {
        await store.put('dp/x/1', 'a');
        await store.put('dp/x/2', 'b');
        await store.put('dp/xy', 'keep');
        const before = await store.revision();
        const removed = await store.deletePrefix('dp/x/');
        expect(removed).toEqual({ deleted: 2, revision: before + 1 });
        expect((await store.range('dp/')).kvs.map((kv) => kv.key)).toEqual(['dp/xy']);
      });

      it('keeps any string value intact, including JSON and unicode', async () => {
        const value = JSON.stringify({ name: 'ørsted ⏰', nested: { list: [1, 2, 3] } });
        await store.put('kv/json', value);
        expect((await store.get('kv/json'))?.value).toBe(value);
      });
    });

    describe('range', () => {
      it('lists a prefix in key order, pages with limit and continuation, and counts', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `rg/item-${String(i).padStart(2, '0')}`);
        for (const key of [...keys].reverse()) await store.put(key, key.toUpperCase());
        await store.put('rg-neighbour', 'outside the prefix');

        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await store.range('rg/', { limit: 10, after });
          pages++;
          expect(page.count).toBe(25 - seen.length);
          seen.push(...page.kvs.map((kv) => kv.key));
          page.kvs.forEach((kv) => expect(kv.value).toBe(kv.key.toUpperCase()));
          if (!page.more) break;
          expect(page.next).toBe(page.kvs[page.kvs.length - 1].key);
          after = page.next;
        }
        expect(pages).toBe(3);
        expect(seen).toEqual(keys);
      });

      it('counts without values and returns the read revision', async () => {
        await store.put('cnt/1', 'a');
        const last = await store.put('cnt/2', 'b');
        const result = await store.range('cnt/', { countOnly: true });
        expect(result.count).toBe(2);
        expect(result.kvs).toEqual([]);
        expect(result.revision).toBe(last.revision);
      });

      it('returns nothing for an empty prefix range', async () => {
        const result = await store.range('nothing-here/');
        expect(result).toMatchObject({ kvs: [], count: 0, more: false });
      });
    });

    describe('txn', () => {
      it('compares on value', async () => {
        await store.put('tx/v', 'A');
        expect(await succeeds({ key: 'tx/v', target: 'value', op: '==', value: 'A' })).toBe(true);
        expect(await succeeds({ key: 'tx/v', target: 'value', op: '!=', value: 'A' })).toBe(false);
        expect(await succeeds({ key: 'tx/v', target: 'value', op: '<', value: 'B' })).toBe(true);
        expect(await succeeds({ key: 'tx/v', target: 'value', op: '>', value: 'B' })).toBe(false);
        // A value comparison on a missing key is false, whatever the operator (etcd).
        expect(await succeeds({ key: 'tx/none', target: 'value', op: '!=', value: 'A' })).toBe(
          false,
        );
      });

      it('compares on version, create revision and mod revision', async () => {
        const created = await store.put('tx/r', '1');
        const updated = await store.put('tx/r', '2');
        expect(await succeeds({ key: 'tx/r', target: 'version', op: '==', value: 2 })).toBe(true);
        expect(await succeeds({ key: 'tx/r', target: 'version', op: '>', value: 2 })).toBe(false);
        expect(
          await succeeds({
            key: 'tx/r',
            target: 'createRevision',
            op: '==',
            value: created.revision,
          }),
        ).toBe(true);
        expect(
          await succeeds({ key: 'tx/r', target: 'modRevision', op: '<', value: updated.revision }),
        ).toBe(false);
        expect(
          await succeeds({ key: 'tx/r', target: 'modRevision', op: '==', value: updated.revision }),
        ).toBe(true);
        // A missing key has version, create and mod revision 0: "create if absent".
        expect(await succeeds({ key: 'tx/absent', target: 'version', op: '==', value: 0 })).toBe(
          true,
        );
        expect(
          await succeeds({ key: 'tx/absent', target: 'createRevision', op: '==', value: 0 }),
        ).toBe(true);
        expect(
          await succeeds({ key: 'tx/absent', target: 'modRevision', op: '!=', value: 0 }),
        ).toBe(false);
      });

      it('compares on lease', async () => {
        const lease = await store.grantLease(30);
        await store.put('tx/l', 'x', { lease: lease.id });
        await store.put('tx/nolease', 'y');
        expect(await succeeds({ key: 'tx/l', target: 'lease', op: '==', value: lease.id })).toBe(
          true,
        );
        expect(await succeeds({ key: 'tx/nolease', target: 'lease', op: '==', value: '0' })).toBe(
          true,
        );
        expect(
          await succeeds({ key: 'tx/nolease', target: 'lease', op: '==', value: lease.id }),
        ).toBe(false);
        await store.revokeLease(lease.id);
      });

      it('runs the success branch in one revision and returns each op result', async () => {
        await store.put('tb/old/1', 'a');
        await store.put('tb/old/2', 'b');
        await store.put('tb/gone', 'c');
        const before = await store.revision();
        const result = await store.txn({
          compare: [{ key: 'tb/new', target: 'version', op: '==', value: 0 }],
          success: [
            { type: 'put', key: 'tb/new', value: 'created' },
            { type: 'put', key: 'tb/other', value: 'also' },
            { type: 'delete', key: 'tb/gone' },
            { type: 'deletePrefix', prefix: 'tb/old/' },
            { type: 'get', key: 'tb/new' },
          ],
          failure: [{ type: 'get', key: 'tb/new' }],
        });
        expect(result.succeeded).toBe(true);
        expect(result.revision).toBe(before + 1);
        expect(result.results).toEqual([
          { type: 'put' },
          { type: 'put' },
          { type: 'delete', deleted: 1 },
          { type: 'deletePrefix', deleted: 2 },
          {
            type: 'get',
            kv: {
              key: 'tb/new',
              value: 'created',
              createRevision: before + 1,
              modRevision: before + 1,
              version: 1,
            },
          },
        ]);
        expect((await store.get('tb/other'))?.modRevision).toBe(before + 1);
      });

      it('runs the failure branch when a compare fails, and a read-only branch writes nothing', async () => {
        await store.put('tf/k', 'current');
        const before = await store.revision();
        const result = await store.txn({
          compare: [
            { key: 'tf/k', target: 'value', op: '==', value: 'current' },
            { key: 'tf/k', target: 'version', op: '==', value: 7 },
          ],
          success: [{ type: 'put', key: 'tf/k', value: 'never' }],
          failure: [{ type: 'get', key: 'tf/k' }],
        });
        expect(result.succeeded).toBe(false);
        expect(result.revision).toBe(before);
        expect(result.results).toEqual([
          { type: 'get', kv: expect.objectContaining({ key: 'tf/k', value: 'current' }) },
        ]);
        expect((await store.get('tf/k'))?.value).toBe('current');
      });

      it('rejects a branch that writes one key twice', async () => {
        await expect(
          store.txn({
            compare: [],
            success: [
              { type: 'put', key: 'td/k', value: '1' },
              { type: 'put', key: 'td/k', value: '2' },
            ],
          }),
        ).rejects.toBeInstanceOf(StoreRequestError);
      });

      it('rejects a txn with more than 128 operations', async () => {
        const success = Array.from({ length: 129 }, (_, i) => ({
          type: 'put' as const,
          key: `tm/${i}`,
          value: 'x',
        }));
        await expect(store.txn({ compare: [], success })).rejects.toBeInstanceOf(StoreRequestError);
        const ok = await store.txn({ compare: [], success: success.slice(0, 128) });
        expect(ok.succeeded).toBe(true);
        expect((await store.range('tm/', { countOnly: true })).count).toBe(128);
      });

      it('ends 100 parallel compare-and-set increments at exactly 100', async () => {
        await store.put('counter', '0');
        const increment = async (): Promise<number> => {
          for (let attempts = 1; ; attempts++) {
            const current = await store.get('counter');
            const next = String(Number(current!.value) + 1);
            const result = await store.txn({
              compare: [
                { key: 'counter', target: 'modRevision', op: '==', value: current!.modRevision },
              ],
              success: [{ type: 'put', key: 'counter', value: next }],
            });
            if (result.succeeded) return attempts;
          }
        };
        const attempts = await Promise.all(Array.from({ length: 100 }, increment));
        expect((await store.get('counter'))?.value).toBe('100');
        expect((await store.get('counter'))?.version).toBe(101);
        // The increments really contended: at least one had to retry.
        expect(Math.max(...attempts)).toBeGreaterThan(1);
      });

      async function succeeds(compare: Parameters<CoordinationStore['txn']>[0]['compare'][0]) {
        const result = await store.txn({ compare: [compare], success: [], failure: [] });
        return result.succeeded;
      }
    });

    describe('leases', () => {
      it('grants, keeps alive, reports TTL and revokes with delete events in one revision', async () => {
        const lease = await store.grantLease(30);
        expect(lease.ttlSeconds).toBeGreaterThanOrEqual(30);
        await store.put('ls/a', '1', { lease: lease.id });
        await store.put('ls/b', '2', { lease: lease.id });
        expect((await store.get('ls/a'))?.lease).toBe(lease.id);

        expect(await store.keepAliveOnce(lease.id)).toBeGreaterThanOrEqual(30);
        const remaining = await store.leaseTimeToLive(lease.id);
        expect(remaining).toBeGreaterThan(25);
        expect(remaining).toBeLessThanOrEqual(30);

        const recorder = await record('ls/');
        await store.revokeLease(lease.id);
        const batches = await recorder.waitForEvents(2);
        expect(batches).toHaveLength(1);
        expect(batches[0].map((event) => [event.type, event.kv.key])).toEqual([
          ['delete', 'ls/a'],
          ['delete', 'ls/b'],
        ]);
        expect(await store.get('ls/a')).toBeUndefined();
        expect(await store.leaseTimeToLive(lease.id)).toBe(-1);
        await expect(store.keepAliveOnce(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
        // Revoking again is not an error: the caller's goal is already met.
        await expect(store.revokeLease(lease.id)).resolves.toBeUndefined();
      });

      it('refuses a key on a lease that does not exist', async () => {
        const lease = await store.grantLease(5);
        await store.revokeLease(lease.id);
        await expect(store.put('ls/x', '1', { lease: lease.id })).rejects.toBeInstanceOf(
          StoreRequestError,
        );
      });

      it('expires a lease that is not kept alive and deletes its keys with delete events', async () => {
        const lease = await store.grantLease(1);
        await store.put('exp/a', '1', { lease: lease.id });
        await store.put('exp/keep', 'no lease');
        const recorder = await record('exp/');
        const [batch] = await recorder.waitForEvents(1, 10_000);
        expect(batch.map((event) => [event.type, event.kv.key])).toEqual([['delete', 'exp/a']]);
        expect(await store.get('exp/a')).toBeUndefined();
        expect(await store.get('exp/keep')).toBeDefined();
        await expect(store.keepAliveOnce(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
      });

      it('keeps a lease alive past its TTL while keepalives arrive', async () => {
        const lease = await store.grantLease(1);
        await store.put('ka/a', '1', { lease: lease.id });
        const deadline = Date.now() + lease.ttlSeconds * 1000 + 2000;
        while (Date.now() < deadline) {
          await store.keepAliveOnce(lease.id);
          await sleep(300);
        }
        expect(await store.get('ka/a')).toBeDefined();
        await store.revokeLease(lease.id);
      });
    });

    describe('watch', () => {
      it('delivers every change under the prefix in order, one call per revision', async () => {
        const recorder = await record('w/', { prevKv: true });
        const first = await store.put('w/a', '1');
        await store.put('elsewhere/a', 'ignored');
        await store.put('w/a', '2');
        await store.txn({
          compare: [],
          success: [
            { type: 'put', key: 'w/b', value: '3' },
            { type: 'put', key: 'w/c', value: '4' },
          ],
        });
        await store.delete('w/a');

        const batches = await recorder.waitForEvents(5);
        expect(batches.map((batch) => batch.map((e) => [e.type, e.kv.key, e.kv.value]))).toEqual([
          [['put', 'w/a', '1']],
          [['put', 'w/a', '2']],
          [
            ['put', 'w/b', '3'],
            ['put', 'w/c', '4'],
          ],
          [['delete', 'w/a', '']],
        ]);
        const revisions = batches.map((batch) => batch[0].revision);
        expect(revisions).toEqual([
          first.revision,
          first.revision + 2,
          first.revision + 3,
          first.revision + 4,
        ]);
        batches.forEach((batch) =>
          batch.forEach((event) => expect(event.revision).toBe(batch[0].revision)),
        );
        // Changes carry the previous value; a delete carries what was deleted.
        expect(batches[1][0].prevKv?.value).toBe('1');
        expect(batches[3][0].prevKv?.value).toBe('2');
        expect(batches[3][0].kv.modRevision).toBe(first.revision + 4);
        expect(recorder.watch?.lastRevision).toBe(first.revision + 4);
      });

      it('resumes from a past revision: history first, then live changes, no gap or duplicate', async () => {
        const revisions: number[] = [];
        for (let i = 1; i <= 5; i++)
          revisions.push((await store.put(`wr/${i}`, String(i))).revision);
        const recorder = await record('wr/', { fromRevision: revisions[2] });
        await store.put('wr/6', '6');
        const batches = await recorder.waitForEvents(4);
        expect(batches.flat().map((event) => event.kv.key)).toEqual([
          'wr/3',
          'wr/4',
          'wr/5',
          'wr/6',
        ]);
        expect(recorder.events.length).toBe(4);
      });

      it('stops delivering after cancel', async () => {
        const recorder = await record('wc/');
        await store.put('wc/1', 'a');
        await recorder.waitForEvents(1);
        await recorder.watch!.cancel();
        await store.put('wc/2', 'b');
        await sleep(300);
        expect(recorder.events.map((event) => event.kv.key)).toEqual(['wc/1']);
      });
    });

    it('refuses every call once closed', async () => {
      await store.close();
      await expect(store.get('any')).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.put('any', 'x')).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}

/** Collects a watch's deliveries and lets a test wait for a number of events. */
export class EventRecorder {
  readonly batches: WatchEvent[][] = [];
  readonly errors: Error[] = [];
  watch?: Watch;
  private waiters: Array<() => void> = [];

  readonly handlers = {
    onEvents: (events: WatchEvent[]) => {
      this.batches.push(events);
      this.waiters.forEach((wake) => wake());
    },
    onError: (error: Error) => {
      this.errors.push(error);
      this.waiters.forEach((wake) => wake());
    },
  };

  get events(): WatchEvent[] {
    return this.batches.flat();
  }

  /** Resolves with all batches once at least `count` events arrived. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<WatchEvent[][]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.errors.length > 0) throw this.errors[0];
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `expected ${count} events, got ${this.events.length} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
    return this.batches;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
