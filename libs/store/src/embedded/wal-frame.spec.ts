import { encodeFrame, FRAME_HEADER_BYTES, scanFrames } from './wal-frame';

const payload = (text: string) => Buffer.from(JSON.stringify({ text }));

/** Frames for lsns [from..to], all carried by one write (batch = from). */
function write(from: number, to: number): Buffer {
  const frames: Buffer[] = [];
  for (let lsn = from; lsn <= to; lsn++) frames.push(encodeFrame(lsn, from, payload(`r${lsn}`)));
  return Buffer.concat(frames);
}

describe('WAL frames', () => {
  it('round-trips records with their lsn and batch', () => {
    const log = Buffer.concat([write(1, 3), write(4, 4), write(5, 6)]);
    const { frames, validLength, problem } = scanFrames(log);
    expect(problem).toBeUndefined();
    expect(validLength).toBe(log.length);
    expect(frames.map((frame) => [frame.lsn, frame.batch])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 4],
      [5, 5],
      [6, 5],
    ]);
    expect(JSON.parse(frames[3].payload.toString())).toEqual({ text: 'r4' });
  });

  it('reads an empty file as an empty log', () => {
    expect(scanFrames(Buffer.alloc(0))).toEqual({ frames: [], validLength: 0 });
  });

  it('treats a last record cut at any byte as a torn tail', () => {
    const intact = write(1, 2);
    const last = encodeFrame(3, 3, payload('the record being written'));
    for (let cut = 1; cut < last.length; cut++) {
      const log = Buffer.concat([intact, last.subarray(0, cut)]);
      const result = scanFrames(log);
      expect(result.frames).toHaveLength(2);
      expect(result.validLength).toBe(intact.length);
      expect(result.problem?.kind).toBe('torn');
    }
  });

  it('treats garbage or zeros after the last record as a torn tail', () => {
    const intact = write(1, 3);
    for (const tail of [Buffer.from('garbage that is not a frame'), Buffer.alloc(4096)]) {
      const result = scanFrames(Buffer.concat([intact, tail]));
      expect(result.problem).toMatchObject({ kind: 'torn', offset: intact.length });
      expect(result.frames).toHaveLength(3);
    }
  });

  it('treats a bad checksum on the last record as a torn tail', () => {
    const log = write(1, 3);
    log[log.length - 1] ^= 0xff;
    const result = scanFrames(log);
    expect(result.problem).toMatchObject({ kind: 'torn', reason: 'checksum mismatch' });
    expect(result.frames).toHaveLength(2);
  });

  it('reports a damaged record followed by a later write as corruption, with its offset', () => {
    const first = write(1, 2);
    const damaged = write(3, 3);
    const later = write(4, 5);
    const log = Buffer.concat([first, damaged, later]);
    log[first.length + FRAME_HEADER_BYTES + 2] ^= 0x01; // one bit in record 3's payload
    const result = scanFrames(log);
    expect(result.problem).toMatchObject({ kind: 'corrupt', offset: first.length });
    expect(result.problem?.reason).toContain('checksum mismatch');
    expect(result.frames.map((frame) => frame.lsn)).toEqual([1, 2]);
  });

  it('reports a damaged length field followed by a later write as corruption', () => {
    const first = write(1, 1);
    const log = Buffer.concat([first, write(2, 2), write(3, 4)]);
    log.writeUInt32LE(0xfffffff, first.length + 8); // length far beyond the file
    expect(scanFrames(log).problem).toMatchObject({ kind: 'corrupt', offset: first.length });
  });

  it('treats a hole inside the last write as torn, even with that write’s later records intact', () => {
    // A power loss may persist the pages of the unfinished write out of order.
    const acknowledged = write(1, 2);
    const unfinished = write(3, 6);
    const log = Buffer.concat([acknowledged, unfinished]);
    log.fill(0, acknowledged.length + 10, acknowledged.length + 40); // a hole in record 3
    const result = scanFrames(log);
    expect(result.problem).toMatchObject({ kind: 'torn', offset: acknowledged.length });
    expect(result.frames.map((frame) => frame.lsn)).toEqual([1, 2]);
  });
});
