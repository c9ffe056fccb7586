import { FileHandle, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { WalCorruptionError } from './embedded.errors';
import { fsyncDir, writeFully } from './fs-durable';
import { encodeFrame, scanFrames } from './wal-frame';
import { decodeRecord, encodeRecord, WalRecord } from './wal-record';

/**
 * The append-only write-ahead log: a directory of segments `wal-<seq>.log`, appended to the
 * newest one. Every record carries a log sequence number (lsn) that grows by one per record
 * across segments; a snapshot names the lsn it contains, which is how replay knows what to
 * skip, and the unbroken lsn sequence is how it knows nothing is missing.
 */

const SEGMENT_FILE = /^wal-(\d{16})\.log$/;

export function segmentFileName(seq: number): string {
  return `wal-${String(seq).padStart(16, '0')}.log`;
}

export interface ReplayOptions {
  /** Records up to this lsn are already in the loaded snapshot (0: none). */
  afterLsn: number;
  /** Called for every record after `afterLsn`, in order. */
  onRecord: (record: WalRecord, lsn: number) => void;
  warn: (message: string) => void;
}

interface Segment {
  seq: number;
  path: string;
  /** Highest lsn in the segment (0 when empty), known for segments read at open. */
  lastLsn: number;
}

export class WriteAheadLog {
  private bytes: number;

  private constructor(
    private readonly dir: string,
    private segments: Segment[],
    private handle: FileHandle,
    bytes: number,
    private lastLsnWritten: number,
  ) {
    this.bytes = bytes;
  }

  /**
   * Opens the log: replays every segment in order, cuts a torn tail off the newest one, and
   * gets ready to append to it. Returns the log and the last lsn it holds (or `afterLsn`).
   *
   * Refuses to open (WalCorruptionError) on damage that is not a torn tail: a bad record
   * followed by records of later writes, damage in a segment that is not the newest, or a
   * gap in the lsn sequence. Those mean acknowledged writes are affected.
   */
  static async open(
    dir: string,
    options: ReplayOptions,
  ): Promise<{ wal: WriteAheadLog; lastLsn: number }> {
    const segments = await listSegments(dir);
    let lastLsn = options.afterLsn;
    let tailBytes = 0;
    for (const [position, segment] of segments.entries()) {
      const newest = position === segments.length - 1;
      const buffer = await readFile(segment.path);
      const { frames, validLength, problem } = scanFrames(buffer);
      if (problem && (problem.kind === 'corrupt' || !newest)) {
        const why = newest
          ? problem.reason
          : `${problem.reason} in a segment that is not the newest`;
        throw new WalCorruptionError(segment.path, problem.offset, why);
      }
      for (const frame of frames) {
        segment.lastLsn = frame.lsn;
        if (frame.lsn <= options.afterLsn) continue; // already in the snapshot
        if (frame.lsn !== lastLsn + 1) {
          throw new WalCorruptionError(
            segment.path,
            frame.offset,
            `expected record lsn ${lastLsn + 1}, found ${frame.lsn} (records are missing)`,
          );
        }
        let record: WalRecord;
        try {
          record = decodeRecord(frame.payload);
          options.onRecord(record, frame.lsn);
        } catch (error) {
          if (error instanceof WalCorruptionError) throw error;
          throw new WalCorruptionError(segment.path, frame.offset, (error as Error).message);
        }
        lastLsn = frame.lsn;
      }
      if (problem) {
        options.warn(
          `write-ahead log ${segment.path}: cutting a torn last record at offset ${problem.offset} ` +
            `(${problem.reason}, ${buffer.length - validLength} bytes); it was never acknowledged`,
        );
        await truncate(segment.path, validLength);
      }
      if (newest) tailBytes = validLength;
    }

    if (segments.length === 0) {
      const first: Segment = { seq: 1, path: join(dir, segmentFileName(1)), lastLsn: 0 };
      segments.push(first);
    }
    const current = segments[segments.length - 1];
    const handle = await open(current.path, 'a');
    if (tailBytes === 0) await fsyncDir(dir); // the segment may be new
    const wal = new WriteAheadLog(dir, segments, handle, tailBytes, lastLsn);
    await wal.removeSegmentsCoveredBy(options.afterLsn);
    return { wal, lastLsn };
  }

  /** Bytes in the segment being appended to. */
  get currentSegmentBytes(): number {
    return this.bytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Appends records as one write and fsyncs (fdatasync) them before resolving. */
  async append(entries: Array<{ lsn: number; record: WalRecord }>): Promise<void> {
    if (entries.length === 0) return;
    const batch = entries[0].lsn;
    const data = Buffer.concat(
      entries.map(({ lsn, record }) => encodeFrame(lsn, batch, encodeRecord(record))),
    );
    await writeFully(this.handle, data);
    await this.handle.datasync();
    this.bytes += data.length;
    this.lastLsnWritten = entries[entries.length - 1].lsn;
    this.segments[this.segments.length - 1].lastLsn = this.lastLsnWritten;
  }

  /**
   * Starts a new segment; later appends go there. Every record appended so far is durable
   * in the older segments (append fsyncs before it resolves), so they only await deletion
   * once a snapshot covers them.
   */
  async rotate(): Promise<void> {
    const seq = this.segments[this.segments.length - 1].seq + 1;
    const path = join(this.dir, segmentFileName(seq));
    const handle = await open(path, 'a');
    await fsyncDir(this.dir);
    const previous = this.handle;
    this.handle = handle;
    this.segments.push({ seq, path, lastLsn: this.lastLsnWritten });
    this.bytes = 0;
    await previous.close();
  }

  /**
   * Deletes the oldest segments whose records all precede `lsn` (a durable snapshot holds
   * them). Oldest first, so a crash midway leaves an unbroken run of segments. The newest
   * segment is never deleted: it is the one being appended to.
   */
  async removeSegmentsCoveredBy(lsn: number): Promise<void> {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0].lastLsn <= lsn) {
      await unlink(this.segments[0].path).catch(() => undefined);
      this.segments.shift();
      removed++;
    }
    if (removed > 0) await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function listSegments(dir: string): Promise<Segment[]> {
  const names = await readdir(dir);
  return names
    .map((name) => ({ name, match: SEGMENT_FILE.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ seq: Number(entry.match![1]), path: join(dir, entry.name), lastLsn: 0 }))
    .sort((a, b) => a.seq - b.seq);
}

async function truncate(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
