import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreCompactedError, StoreError } from '../store.errors';
import { WatchEvent } from '../store.port';
import { DataDirLockedError } from './embedded.errors';
import { EmbeddedStore, EmbeddedStoreOptions } from './embedded.store';
import { Keyspace } from './keyspace';
import { snapshotFileName, writeSnapshot } from './snapshot';
import { WriteAheadLog } from './write-ahead-log';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EmbeddedStore', () => {
  let dataDir: string;
  const open: EmbeddedStore[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-embedded-'));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openStore(options: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedStore> {
    const store = await EmbeddedStore.open({ dataDir, ...options });
    open.push(store);
    return store;
  }

  async function reopen(store: EmbeddedStore, options: Partial<EmbeddedStoreOptions> = {}) {
    await store.close();
    return openStore(options);
  }

  /** A mix of writes that leaves keys with several versions, deletions and a lease. */
  async function writeWorkload(store: EmbeddedStore, rounds: number): Promise<string> {
    const lease = await store.grantLease(60);
    for (let i = 0; i < rounds; i++) {
      await store.put(`w/${i % 50}`, `value-${i}-${'x'.repeat(i % 30)}`);
      if (i % 7 === 0) await store.put(`leased/${i}`, 'on lease', { lease: lease.id });
      if (i % 11 === 0) await store.delete(`w/${(i + 3) % 50}`);
      if (i % 13 === 0) {
        await store.txn({
          compare: [{ key: `t/${i}`, target: 'version', op: '==', value: 0 }],
          success: [
            { type: 'put', key: `t/${i}`, value: 'created' },
            { type: 'deletePrefix', prefix: `w/${i % 5}` },
          ],
        });
      }
    }
    return lease.id;
  }

  it('snapshots in the background and recovers snapshot + log to the same state', async () => {
    const store = await openStore({ snapshotEveryBytes: 4096 });
    const lease = await writeWorkload(store, 400);
    // Let the last background snapshot finish before inspecting the directory.
    await sleep(100);
    const stats = store.stats();
    expect(stats.snapshotsWritten).toBeGreaterThan(3);
    expect(stats.walSegments).toBeLessThanOrEqual(2);
    expect(readdirSync(dataDir).filter((name) => name.endsWith('.snap'))).toHaveLength(1);
    const before = await store.range('');
    const revision = await store.revision();

    const reopened = await reopen(store, { snapshotEveryBytes: 4096 });
    expect(await reopened.range('')).toEqual(before);
    expect(await reopened.revision()).toBe(revision);
    // Revisions go on from where they were, and the lease came back with its keys.
    expect((await reopened.put('after', 'restart')).revision).toBe(revision + 1);
    expect(await reopened.leaseTimeToLive(lease)).toBeGreaterThanOrEqual(59);
    expect((await reopened.get('leased/7'))?.lease).toBe(lease);
    expect((await reopened.grantLease(5)).id).not.toBe(lease);
  });

  it('recovers from every crash point of a compaction', async () => {
    const store = await openStore();
    for (let i = 0; i < 50; i++) await store.put(`k/${i % 20}`, `v${i}`);
    const expected = await store.range('');
    await store.close();

    // Crash after the snapshot was renamed into place but before the old log went: a
    // snapshot at lsn 20 with the whole log still there.
    const keyspace = new Keyspace();
    const { wal } = await WriteAheadLog.open(dataDir, {
      afterLsn: 0,
      onRecord: (record, lsn) => lsn <= 20 && keyspace.apply(record),
      warn: () => undefined,
    });
    await wal.close();
    await writeSnapshot(dataDir, { lsn: 20, ...keyspace.capture() });
    // Crash while writing a newer snapshot, right after the log rotated to a new segment.
    writeFileSync(join(dataDir, `${snapshotFileName(60)}.tmp`), 'half a snapshot');
    writeFileSync(join(dataDir, 'wal-0000000000000002.log'), '');

    const recovered = await openStore();
    expect(await recovered.range('')).toEqual(expected);
    expect((await recovered.put('k/new', 'x')).revision).toBe(expected.revision + 1);
    // The temp file is gone; segment 1 stays, since records 21..50 exist only there.
    expect(readdirSync(dataDir).sort()).toEqual([
      'LOCK',
      snapshotFileName(20),
      'wal-0000000000000001.log',
      'wal-0000000000000002.log',
    ]);
    const again = await reopen(recovered);
    expect((await again.get('k/new'))?.value).toBe('x');
    expect((await again.range('k/')).count).toBe(21);
  });

  it('keeps the configured history and refuses older watch starts with StoreCompactedError', async () => {
    const store = await openStore({ historyRevisions: 5 });
    const revisions: number[] = [];
    for (let i = 0; i < 10; i++) revisions.push((await store.put(`h/${i}`, String(i))).revision);

    const refused = store.watch(
      'h/',
      { onEvents: () => undefined },
      { fromRevision: revisions[0] },
    );
    await expect(refused).rejects.toBeInstanceOf(StoreCompactedError);
    await expect(refused).rejects.toMatchObject({
      requestedRevision: revisions[0],
      compactedRevision: revisions[5],
    });

    const seen: WatchEvent[] = [];
    const watch = await store.watch(
      'h/',
      { onEvents: (events) => seen.push(...events) },
      {
        fromRevision: revisions[5],
      },
    );
    await sleep(50);
    expect(seen.map((event) => event.kv.key)).toEqual(['h/5', 'h/6', 'h/7', 'h/8', 'h/9']);
    expect(watch.lastRevision).toBe(revisions[9]);
    await watch.cancel();
  });

  it('after a restart, keeps watch history replayed from the log and compacts what the snapshot holds', async () => {
    const store = await openStore({ snapshotEveryBytes: 2048 });
    for (let i = 0; i < 100; i++) await store.put(`r/${i}`, 'x'.repeat(50));
    await sleep(100);
    const reopened = await reopen(store, { snapshotEveryBytes: 2048 });
    const { compactRevision, revision } = reopened.stats();
    expect(compactRevision).toBeGreaterThan(2);
    expect(compactRevision).toBeLessThanOrEqual(revision);
    await expect(
      reopened.watch('r/', { onEvents: () => undefined }, { fromRevision: compactRevision - 1 }),
    ).rejects.toBeInstanceOf(StoreCompactedError);

    const seen: WatchEvent[] = [];
    await reopened.watch(
      'r/',
      { onEvents: (events) => seen.push(...events) },
      {
        fromRevision: compactRevision,
      },
    );
    await reopened.put('r/new', 'live');
    await sleep(50);
    expect(seen.map((event) => event.revision)).toEqual(
      Array.from({ length: revision + 2 - compactRevision }, (_, i) => compactRevision + i),
    );
  });

  it('writes concurrent changes with group commit: far fewer fsyncs than writes', async () => {
    const store = await openStore();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.put(`gc/${i}`, String(i))),
    );
    expect(new Set(results.map((result) => result.revision)).size).toBe(300);
    expect(store.stats().flushes).toBeLessThan(30);
  });

  it('expires a lease on the injected clock, deleting its keys with delete events', async () => {
    let now = 1_000_000;
    const store = await openStore({ now: () => now });
    const lease = await store.grantLease(5);
    await store.put('exp/a', '1', { lease: lease.id });
    const seen: WatchEvent[] = [];
    await store.watch('exp/', { onEvents: (events) => seen.push(...events) });
    expect(await store.leaseTimeToLive(lease.id)).toBe(5);
    now += 4_000;
    await sleep(250);
    expect(await store.get('exp/a')).toBeDefined();
    now += 2_000;
    await sleep(250);
    expect(await store.get('exp/a')).toBeUndefined();
    expect(seen.map((event) => [event.type, event.kv.key])).toEqual([['delete', 'exp/a']]);
    expect(await store.leaseTimeToLive(lease.id)).toBe(-1);
  });

  it('lets one store at a time open a data directory', async () => {
    const first = await openStore();
    await expect(EmbeddedStore.open({ dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
    await first.close();
    // A lock left by a process that is still alive is respected...
    writeFileSync(join(dataDir, 'LOCK'), JSON.stringify({ pid: process.ppid }));
    await expect(EmbeddedStore.open({ dataDir })).rejects.toThrow(
      new RegExp(`in use by process ${process.ppid}`),
    );
    // ...and one left by a dead process is taken over.
    writeFileSync(join(dataDir, 'LOCK'), JSON.stringify({ pid: deadPid() }));
    const second = await openStore();
    expect(await second.revision()).toBe(1);
  });

  it('stops, failing every call and watch, once the log cannot be written', async () => {
    const store = await openStore();
    const errors: Error[] = [];
    await store.watch('', { onEvents: () => undefined, onError: (error) => errors.push(error) });
    await store.put('a', '1');
    // Pull the file out from under the store, as a failing disk would.
    const internals = store as unknown as { wal: { handle: { close(): Promise<void> } } };
    await internals.wal.handle.close();
    await expect(store.put('b', '2')).rejects.toBeInstanceOf(StoreError);
    await expect(store.get('a')).rejects.toThrow(/must be reopened/);
    expect(errors).toHaveLength(1);
  });
});

/** A pid no process has right now. */
function deadPid(): number {
  for (let pid = 4_000_000; pid > 1000; pid -= 997) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
  throw new Error('no free pid found');
}
