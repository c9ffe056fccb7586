import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyValue } from '../store.port';
import { fsyncDir, writeFully } from './fs-durable';
import { KeyspaceImage } from './keyspace';
import { encodeFrame, scanFrames } from './wal-frame';

/**
 * Snapshots: the full keyspace as of one log sequence number, so recovery replays only the
 * log written after it and old log segments can be deleted.
 *
 * A snapshot is written to `snapshot-<lsn>.snap.tmp`, fsynced, renamed into place and the
 * directory fsynced; a file with the final name is therefore always complete. It is made of
 * the same checksummed frames as the log: a header, chunks of keys, and a footer that counts
 * them, so a damaged or truncated snapshot is detected instead of loaded.
 */

const SNAPSHOT_FILE = /^snapshot-(\d{16})\.snap$/;
const KEYS_PER_FRAME = 1000;

export interface Snapshot extends KeyspaceImage {
  /** Every log record up to this lsn is contained in the snapshot. */
  lsn: number;
}

type Row = [
  key: string,
  value: string,
  create: number,
  mod: number,
  version: number,
  lease?: string,
];

type SnapshotFrame =
  | {
      type: 'header';
      format: 1;
      revision: number;
      nextLeaseId: number;
      leases: KeyspaceImage['leases'];
    }
  | { type: 'keys'; rows: Row[] }
  | { type: 'footer'; keys: number };

export function snapshotFileName(lsn: number): string {
  return `snapshot-${String(lsn).padStart(16, '0')}.snap`;
}

/** Writes a snapshot atomically (see above); returns its file name. */
export async function writeSnapshot(dir: string, snapshot: Snapshot): Promise<string> {
  const name = snapshotFileName(snapshot.lsn);
  const temp = join(dir, `${name}.tmp`);
  const frame = (body: SnapshotFrame) =>
    encodeFrame(snapshot.lsn, snapshot.lsn, Buffer.from(JSON.stringify(body)));
  const handle = await open(temp, 'w');
  try {
    const { revision, nextLeaseId, leases, kvs } = snapshot;
    await writeFully(handle, frame({ type: 'header', format: 1, revision, nextLeaseId, leases }));
    // One awaited write per chunk: a large keyspace does not block the event loop for long.
    for (let start = 0; start < kvs.length; start += KEYS_PER_FRAME) {
      const rows = kvs.slice(start, start + KEYS_PER_FRAME).map(toRow);
      await writeFully(handle, frame({ type: 'keys', rows }));
    }
    await writeFully(handle, frame({ type: 'footer', keys: kvs.length }));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, join(dir, name));
  await fsyncDir(dir);
  return name;
}

/** Snapshot files in the directory, newest first. */
export async function listSnapshots(dir: string): Promise<Array<{ name: string; lsn: number }>> {
  const names = await readdir(dir);
  return names
    .map((name) => ({ name, match: SNAPSHOT_FILE.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ name: entry.name, lsn: Number(entry.match![1]) }))
    .sort((a, b) => b.lsn - a.lsn);
}

/**
 * The newest snapshot that reads back whole. A damaged one is reported and skipped: the
 * next older snapshot plus the log may still cover everything (the log replay checks that
 * no record is missing).
 */
export async function loadLatestSnapshot(
  dir: string,
  warn: (message: string) => void,
): Promise<{ name: string; snapshot: Snapshot } | undefined> {
  for (const { name, lsn } of await listSnapshots(dir)) {
    try {
      return { name, snapshot: parseSnapshot(await readFile(join(dir, name)), lsn) };
    } catch (error) {
      warn(`ignoring unreadable snapshot ${join(dir, name)}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

export function parseSnapshot(buffer: Buffer, lsn: number): Snapshot {
  const { frames, problem } = scanFrames(buffer);
  if (problem) throw new Error(`${problem.reason} at offset ${problem.offset}`);
  const bodies = frames.map((frame) => {
    if (frame.lsn !== lsn) throw new Error(`frame at offset ${frame.offset} is not for lsn ${lsn}`);
    return JSON.parse(frame.payload.toString()) as SnapshotFrame;
  });
  const header = bodies[0];
  const footer = bodies[bodies.length - 1];
  if (header?.type !== 'header' || header.format !== 1) throw new Error('missing snapshot header');
  if (footer?.type !== 'footer') throw new Error('missing snapshot footer (incomplete file)');
  const kvs: KeyValue[] = [];
  for (const body of bodies.slice(1, -1)) {
    if (body.type !== 'keys') throw new Error(`unexpected ${body.type} frame`);
    for (const row of body.rows) kvs.push(fromRow(row));
  }
  if (kvs.length !== footer.keys) {
    throw new Error(`footer counts ${footer.keys} keys, found ${kvs.length}`);
  }
  return {
    lsn,
    revision: header.revision,
    nextLeaseId: header.nextLeaseId,
    leases: header.leases,
    kvs,
  };
}

/** Deletes every snapshot except `keep`, and temp files a crash left behind. */
export async function removeOtherSnapshots(dir: string, keep: string | undefined): Promise<void> {
  const names = await readdir(dir);
  const doomed = names.filter(
    (name) => (SNAPSHOT_FILE.test(name) && name !== keep) || /^snapshot-.*\.tmp$/.test(name),
  );
  await Promise.all(doomed.map((name) => unlink(join(dir, name)).catch(() => undefined)));
  if (doomed.length > 0) await fsyncDir(dir);
}

function toRow(kv: KeyValue): Row {
  const row: Row = [kv.key, kv.value, kv.createRevision, kv.modRevision, kv.version];
  if (kv.lease !== undefined) row.push(kv.lease);
  return row;
}

function fromRow([key, value, createRevision, modRevision, version, lease]: Row): KeyValue {
  const kv: KeyValue = { key, value, createRevision, modRevision, version };
  if (lease !== undefined) kv.lease = lease;
  return kv;
}
