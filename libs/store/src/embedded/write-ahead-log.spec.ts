import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalCorruptionError } from './embedded.errors';
import { FRAME_HEADER_BYTES } from './wal-frame';
import { WalRecord } from './wal-record';
import { segmentFileName, WriteAheadLog } from './write-ahead-log';

const record = (revision: number): WalRecord => ({
  type: 'write',
  revision,
  changes: [{ key: `k/${revision}`, value: `v${revision}` }],
});

describe('WriteAheadLog', () => {
  let dir: string;
  let warnings: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'forest-wal-'));
    warnings = [];
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function openLog(afterLsn = 0) {
    const replayed: Array<{ lsn: number; record: WalRecord }> = [];
    const opened = await WriteAheadLog.open(dir, {
      afterLsn,
      onRecord: (entry, lsn) => replayed.push({ lsn, record: entry }),
      warn: (message) => warnings.push(message),
    });
    return { ...opened, replayed };
  }

  /** Writes records lsn 1..count, `perBatch` per append. */
  async function writeRecords(count: number, perBatch = 1): Promise<void> {
    const { wal } = await openLog();
    for (let lsn = 1; lsn <= count; lsn += perBatch) {
      const batch = [];
      for (let i = lsn; i < lsn + perBatch && i <= count; i++)
        batch.push({ lsn: i, record: record(i + 1) });
      await wal.append(batch);
    }
    await wal.close();
  }

  const segment = (seq = 1) => join(dir, segmentFileName(seq));

  it('replays appended records in order after a reopen', async () => {
    await writeRecords(10, 3);
    const { wal, lastLsn, replayed } = await openLog();
    expect(lastLsn).toBe(10);
    expect(replayed.map((entry) => entry.lsn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(replayed[4].record).toEqual(record(6));
    await wal.close();
    expect(warnings).toEqual([]);
  });

  it('skips records a snapshot already holds', async () => {
    await writeRecords(10);
    const { wal, lastLsn, replayed } = await openLog(7);
    expect(lastLsn).toBe(10);
    expect(replayed.map((entry) => entry.lsn)).toEqual([8, 9, 10]);
    await wal.close();
  });

  it('cuts a torn last record with a warning, and appends cleanly after it', async () => {
    await writeRecords(5);
    const intactSize = statSync(segment()).size;
    appendFileSync(segment(), Buffer.from([0xff, 0x46, 0x57, 0x31, 1, 2, 3])); // half a frame

    const first = await openLog();
    expect(first.lastLsn).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/torn last record at offset \d+/);
    expect(statSync(segment()).size).toBe(intactSize);
    await first.wal.append([{ lsn: 6, record: record(7) }]);
    await first.wal.close();

    const second = await openLog();
    expect(second.replayed.map((entry) => entry.lsn)).toEqual([1, 2, 3, 4, 5, 6]);
    await second.wal.close();
  });

  it('refuses to open when a damaged record is followed by later ones, naming file and offset', async () => {
    await writeRecords(6);
    const bytes = readFileSync(segment());
    const frameSize = bytes.length / 6; // all six records have the same size
    bytes[2 * frameSize + FRAME_HEADER_BYTES + 5] ^= 0x20; // inside record 3
    writeFileSync(segment(), bytes);

    const failure = openLog();
    await expect(failure).rejects.toBeInstanceOf(WalCorruptionError);
    await expect(failure).rejects.toMatchObject({ file: segment(), offset: 2 * frameSize });
    await expect(failure).rejects.toThrow(
      /wal-0000000000000001\.log at byte offset \d+: checksum mismatch/,
    );
  });

  it('refuses a gap in the log sequence', async () => {
    await writeRecords(3);
    const { wal } = await openLog();
    await wal.append([{ lsn: 7, record: record(8) }]);
    await wal.close();
    await expect(openLog()).rejects.toThrow(/expected record lsn 4, found 7/);
  });

  it('rotates segments and deletes those a snapshot covers, never the newest', async () => {
    const { wal } = await openLog();
    await wal.append([{ lsn: 1, record: record(2) }]);
    await wal.rotate();
    await wal.append([{ lsn: 2, record: record(3) }]);
    await wal.rotate();
    await wal.append([{ lsn: 3, record: record(4) }]);
    expect(wal.segmentCount).toBe(3);
    await wal.removeSegmentsCoveredBy(2);
    expect(readdirSync(dir).sort()).toEqual([segmentFileName(3)]);
    await wal.removeSegmentsCoveredBy(3);
    expect(wal.segmentCount).toBe(1);
    await wal.close();

    const reopened = await openLog(2);
    expect(reopened.replayed.map((entry) => entry.lsn)).toEqual([3]);
    await reopened.wal.close();
  });

  it('treats a torn record in a segment that is not the newest as corruption', async () => {
    const { wal } = await openLog();
    await wal.append([{ lsn: 1, record: record(2) }]);
    await wal.rotate();
    await wal.append([{ lsn: 2, record: record(3) }]);
    await wal.close();
    appendFileSync(segment(1), Buffer.from('junk'));
    await expect(openLog()).rejects.toThrow(/not the newest/);
  });
});
