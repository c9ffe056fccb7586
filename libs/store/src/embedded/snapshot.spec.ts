import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadLatestSnapshot,
  parseSnapshot,
  removeOtherSnapshots,
  Snapshot,
  snapshotFileName,
  writeSnapshot,
} from './snapshot';

function sampleSnapshot(lsn: number, keys: number): Snapshot {
  return {
    lsn,
    revision: 40 + lsn,
    nextLeaseId: 8,
    leases: [{ id: '7', ttl: 15 }],
    kvs: Array.from({ length: keys }, (_, i) => ({
      key: `jobs/${String(i).padStart(5, '0')}`,
      value: JSON.stringify({ i, text: 'ørsted ⏰' }),
      createRevision: 2,
      modRevision: 3 + (i % 5),
      version: 1 + (i % 3),
      ...(i % 10 === 0 ? { lease: '7' } : {}),
    })),
  };
}

describe('snapshots', () => {
  let dir: string;
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'forest-snap-'));
    warnings.length = 0;
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes atomically and reads back every key with its metadata', async () => {
    const snapshot = sampleSnapshot(12, 2500); // several key frames
    const name = await writeSnapshot(dir, snapshot);
    expect(name).toBe(snapshotFileName(12));
    expect(readdirSync(dir)).toEqual([name]); // no temp file left behind
    const loaded = await loadLatestSnapshot(dir, warn);
    expect(loaded?.snapshot).toEqual(snapshot);
    expect(warnings).toEqual([]);
  });

  it('rejects a truncated or damaged snapshot', async () => {
    const name = await writeSnapshot(dir, sampleSnapshot(3, 1500));
    const bytes = readFileSync(join(dir, name));
    expect(() => parseSnapshot(bytes.subarray(0, bytes.length - 30), 3)).toThrow();
    const flipped = Buffer.from(bytes);
    flipped[200] ^= 0x04;
    expect(() => parseSnapshot(flipped, 3)).toThrow(/checksum mismatch/);
    // A file with complete frames but no footer was never finished.
    const headerOnly = bytes.subarray(0, bytes.indexOf(Buffer.from([0xff, 0x46, 0x57, 0x31]), 1));
    expect(() => parseSnapshot(headerOnly, 3)).toThrow(/footer/);
  });

  it('falls back to an older snapshot when the newest is damaged', async () => {
    await writeSnapshot(dir, sampleSnapshot(5, 10));
    const newest = await writeSnapshot(dir, sampleSnapshot(9, 10));
    writeFileSync(join(dir, newest), 'not a snapshot');
    const loaded = await loadLatestSnapshot(dir, warn);
    expect(loaded?.snapshot.lsn).toBe(5);
    expect(warnings[0]).toMatch(/ignoring unreadable snapshot .*0009\.snap/);
  });

  it('cleans up other snapshots and temp files left by a crash', async () => {
    const old = await writeSnapshot(dir, sampleSnapshot(1, 1));
    const keep = await writeSnapshot(dir, sampleSnapshot(2, 1));
    writeFileSync(join(dir, `${snapshotFileName(3)}.tmp`), 'half written');
    writeFileSync(join(dir, 'wal-0000000000000001.log'), '');
    await removeOtherSnapshots(dir, keep);
    expect(readdirSync(dir).sort()).toEqual([keep, 'wal-0000000000000001.log']);
    expect(old).not.toBe(keep);
  });
});
