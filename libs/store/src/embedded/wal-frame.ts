import { crc32 } from 'node:zlib';

/**
 * Framing of write-ahead-log records (and snapshot files). One frame:
 *
 *   0  magic   4 bytes  FF 46 57 31 ("\xffFW1")
 *   4  crc32   u32 LE   over bytes 8..end, so a damaged length is caught as well
 *   8  length  u32 LE   payload bytes
 *  12  lsn     u64 LE   log sequence number of this record
 *  20  batch   u64 LE   lsn of the first record of the write() that carried this frame
 *  28  payload          UTF-8 JSON
 *
 * The magic starts with 0xFF, a byte that never occurs in UTF-8, so a payload can never
 * contain something that looks like the start of a frame. The batch field is what tells a
 * torn tail from corruption (see scanFrames).
 */
const MAGIC = Buffer.from([0xff, 0x46, 0x57, 0x31]);
export const FRAME_HEADER_BYTES = 28;

export interface Frame {
  /** Byte offset of the frame in the file. */
  offset: number;
  /** Byte offset just past the frame. */
  end: number;
  lsn: number;
  batch: number;
  payload: Buffer;
}

export function encodeFrame(lsn: number, batch: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  MAGIC.copy(frame, 0);
  frame.writeUInt32LE(payload.length, 8);
  frame.writeBigUInt64LE(BigInt(lsn), 12);
  frame.writeBigUInt64LE(BigInt(batch), 20);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
  return frame;
}

export type FrameProblem = {
  /**
   * `torn`: the damage is the unfinished last write (a crash mid-write); cut the file at
   * `offset`. `corrupt`: records of a later write follow the damage, so acknowledged data is
   * affected; never skip it.
   */
  kind: 'torn' | 'corrupt';
  offset: number;
  reason: string;
};

export interface ScanResult {
  /** The valid frames before any damage. */
  frames: Frame[];
  /** Bytes of the file that hold valid frames (where to truncate a torn tail). */
  validLength: number;
  problem?: FrameProblem;
}

/**
 * Reads every frame of a log file.
 *
 * At the first bad frame it looks at what follows. A crash can only damage the write that
 * was in flight, and every frame of one write carries the same batch number; so if nothing
 * valid follows, or only frames of the write the bad frame belonged to (a power loss may
 * persist a write's pages out of order), the damage is a torn tail. Frames of any later
 * write after the damage mean a write that was already acknowledged (fsynced) was damaged:
 * that is corruption in the middle of the log.
 */
export function scanFrames(buffer: Buffer): ScanResult {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const read = readFrameAt(buffer, offset);
    if ('reason' in read) {
      const problem = classifyDamage(buffer, offset, read.reason, frames[frames.length - 1]);
      return { frames, validLength: offset, problem };
    }
    frames.push(read);
    offset = read.end;
  }
  return { frames, validLength: offset };
}

function classifyDamage(
  buffer: Buffer,
  offset: number,
  reason: string,
  previous: Frame | undefined,
): FrameProblem {
  const after = validFramesAfter(buffer, offset + 1);
  if (after.length === 0) return { kind: 'torn', offset, reason };
  // The damaged frame continued the previous frame's write, or started the next one.
  const tornBatches = previous
    ? new Set([previous.batch, previous.lsn + 1])
    : new Set([after[0].batch]);
  const sameWrite = after.every((frame) => frame.batch === after[0].batch);
  if (sameWrite && tornBatches.has(after[0].batch)) return { kind: 'torn', offset, reason };
  const next = after.find((frame) => !tornBatches.has(frame.batch)) ?? after[0];
  return {
    kind: 'corrupt',
    offset,
    reason: `${reason}, followed by a valid record (lsn ${next.lsn}) at offset ${next.offset}`,
  };
}

/** Every valid frame that starts at or after `from`, found by their magic. */
function validFramesAfter(buffer: Buffer, from: number): Frame[] {
  const found: Frame[] = [];
  let position = buffer.indexOf(MAGIC, from);
  while (position >= 0) {
    const read = readFrameAt(buffer, position);
    if ('reason' in read) {
      position = buffer.indexOf(MAGIC, position + 1);
    } else {
      found.push(read);
      position = buffer.indexOf(MAGIC, read.end);
    }
  }
  return found;
}

function readFrameAt(buffer: Buffer, offset: number): Frame | { reason: string } {
  const remaining = buffer.length - offset;
  if (remaining < FRAME_HEADER_BYTES) return { reason: 'truncated frame header' };
  if (!buffer.subarray(offset, offset + 4).equals(MAGIC)) return { reason: 'bad frame magic' };
  const length = buffer.readUInt32LE(offset + 8);
  if (length > remaining - FRAME_HEADER_BYTES) return { reason: 'truncated frame' };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (crc32(buffer.subarray(offset + 8, end)) !== buffer.readUInt32LE(offset + 4)) {
    return { reason: 'checksum mismatch' };
  }
  return {
    offset,
    end,
    lsn: Number(buffer.readBigUInt64LE(offset + 12)),
    batch: Number(buffer.readBigUInt64LE(offset + 20)),
    payload: buffer.subarray(offset + FRAME_HEADER_BYTES, end),
  };
}
