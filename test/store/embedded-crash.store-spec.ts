import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataDirLockedError, EmbeddedStore } from '@forest/store/embedded';
import type { Ack } from './fixtures/embedded-writer';

const ROOT = resolve(__dirname, '..', '..');
const WRITER = 'test/store/fixtures/embedded-writer.ts';
/** Small, so the writer rotates segments and snapshots many times and a kill can land mid-way. */
const SNAPSHOT_EVERY_BYTES = 16 * 1024;

describe('EmbeddedStore durability across a crash (SIGKILL)', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  const stores: EmbeddedStore[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-crash-'));
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await Promise.all(stores.splice(0).map((store) => store.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openStore(warnings: string[] = []): Promise<EmbeddedStore> {
    const store = await EmbeddedStore.open({
      dataDir,
      snapshotEveryBytes: SNAPSHOT_EVERY_BYTES,
      logger: { warn: (message) => warnings.push(message) },
    });
    stores.push(store);
    return store;
  }

  async function closeStore(store: EmbeddedStore): Promise<void> {
    stores.splice(stores.indexOf(store), 1);
    await store.close();
  }

  /**
   * Runs the writer on the data dir and SIGKILLs it once it acknowledged `killAfter` writes;
   * `whileRunning` runs once the first ack arrived (and the kill waits for it, so it always
   * sees a live writer). Returns every acknowledgement the writer printed.
   */
  function runWriterUntilKilled(
    tag: string,
    killAfter: number,
    whileRunning: () => Promise<void> = () => Promise.resolve(),
  ): Promise<Ack[]> {
    return new Promise((resolvePromise, reject) => {
      const writer = spawn(
        process.execPath,
        ['-r', './test/support/ts-register.js', WRITER, dataDir, tag, String(SNAPSHOT_EVERY_BYTES)],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = writer;
      let stdout = '';
      let stderr = '';
      let acks = 0;
      let probe: Promise<void> | undefined;
      let probed = false;
      const killWhenDue = () => {
        if (probed && acks >= killAfter && writer.signalCode === null) writer.kill('SIGKILL');
      };
      writer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      writer.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        stdout += text;
        acks += text.split('\n').length - 1;
        if (!probe && acks > 0) {
          probe = whileRunning().finally(() => {
            probed = true;
            killWhenDue();
          });
          probe.catch(() => writer.kill('SIGKILL'));
        }
        killWhenDue();
      });
      writer.on('error', reject);
      writer.on('close', (code, signal) => {
        if (signal !== 'SIGKILL') {
          reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
          return;
        }
        // A line is complete only with its newline; a cut-off last line was not an ack.
        const lines = stdout.split('\n').slice(0, -1);
        (probe ?? Promise.resolve()).then(
          () => resolvePromise(lines.map((line) => JSON.parse(line) as Ack)),
          reject,
        );
      });
    });
  }

  /** Checks that every acknowledged write is in the store exactly as acknowledged. */
  async function expectAcknowledged(store: EmbeddedStore, acks: Ack[]): Promise<void> {
    const lastCounter = new Map<string, Extract<Ack, { op: 'counter' }>>();
    for (const ack of acks) {
      switch (ack.op) {
        case 'lease': {
          expect(await store.get(ack.key)).toMatchObject({
            lease: ack.id,
            modRevision: ack.revision,
          });
          expect(await store.leaseTimeToLive(ack.id)).toBeGreaterThan(0);
          break;
        }
        case 'put':
          expect(await store.get(ack.key)).toMatchObject({
            value: ack.value,
            createRevision: ack.revision,
            modRevision: ack.revision,
            version: 1,
          });
          break;
        case 'txn':
          for (const key of ack.keys) {
            expect(await store.get(key)).toMatchObject({
              value: ack.value,
              modRevision: ack.revision,
            });
          }
          break;
        case 'delete':
          expect(await store.get(ack.key)).toBeUndefined();
          break;
        case 'counter':
          lastCounter.set(ack.key, ack);
          break;
      }
    }
    // A counter holds its last acknowledged value, or the next one if that put was in flight
    // (written but not yet acknowledged) when the process died.
    for (const ack of lastCounter.values()) {
      const kv = await store.get(ack.key);
      if (kv?.value === String(ack.value)) expect(kv.modRevision).toBe(ack.revision);
      else expect(kv?.value).toBe(String(ack.value + 1));
    }
    const revisions = acks.map((ack) => ack.revision);
    expect(new Set(revisions).size).toBe(revisions.length); // one revision per write
    expect(await store.revision()).toBeGreaterThanOrEqual(Math.max(...revisions));
  }

  it('keeps every acknowledged write through repeated kills, then goes on writing', async () => {
    const allAcks: Ack[] = [];
    const killPoints = [300, 550, 800];
    for (const [round, killAfter] of killPoints.entries()) {
      const acks = await runWriterUntilKilled(`r${round}`, killAfter, async () => {
        // While the writer runs, the directory is its alone.
        await expect(
          EmbeddedStore.open({ dataDir, snapshotEveryBytes: SNAPSHOT_EVERY_BYTES }),
        ).rejects.toBeInstanceOf(DataDirLockedError);
      });
      expect(acks.length).toBeGreaterThanOrEqual(killAfter);
      allAcks.push(...acks);

      // The dead writer's lock is stale and taken over; the log may end in a torn record.
      const store = await openStore();
      await expectAcknowledged(store, allAcks);
      await closeStore(store);
    }

    const store = await openStore();
    const revision = await store.revision();
    expect((await store.put('after-crash', 'yes')).revision).toBe(revision + 1);
    const txn = await store.txn({
      compare: [{ key: 'after-crash', target: 'version', op: '==', value: 1 }],
      success: [{ type: 'put', key: 'after-crash', value: 'again' }],
    });
    expect(txn).toMatchObject({ succeeded: true, revision: revision + 2 });
    await closeStore(store);

    const reopened = await openStore();
    expect(await reopened.get('after-crash')).toMatchObject({ value: 'again', version: 2 });
    await expectAcknowledged(reopened, allAcks);
    // Compaction ran during the runs: old segments were deleted along the way.
    expect(readdirSync(dataDir).filter((name) => name.endsWith('.snap')).length).toBe(1);
  });

  it('cuts garbage after the last record (a torn write) and appends cleanly after it', async () => {
    const store = await openStore();
    const written: number[] = [];
    for (let i = 0; i < 20; i++) written.push((await store.put(`torn/${i}`, String(i))).revision);
    await closeStore(store);

    const segments = readdirSync(dataDir)
      .filter((name) => /^wal-\d+\.log$/.test(name))
      .sort();
    const newest = join(dataDir, segments[segments.length - 1]);
    // The start of a frame (its magic) and then bytes that never became a whole record.
    appendFileSync(
      newest,
      Buffer.concat([Buffer.from([0xff, 0x46, 0x57, 0x31]), Buffer.alloc(37, 7)]),
    );

    const warnings: string[] = [];
    const recovered = await openStore(warnings);
    expect(warnings.join('\n')).toMatch(/cutting a torn last record/);
    expect((await recovered.range('torn/')).count).toBe(20);
    expect(await recovered.revision()).toBe(written[19]);
    expect((await recovered.put('torn/next', 'x')).revision).toBe(written[19] + 1);
    await closeStore(recovered);

    // The cut was made on disk: the record written after it reads back, with no warning.
    const clean: string[] = [];
    const again = await openStore(clean);
    expect(clean).toEqual([]);
    expect((await again.get('torn/next'))?.value).toBe('x');
    expect((await again.range('torn/')).count).toBe(21);
  });
});
