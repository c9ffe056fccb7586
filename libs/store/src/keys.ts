/** Key helpers shared by both adapters. */

/** The smallest string greater than every string that starts with `prefix` (etcd's range_end). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  // A prefix of only 0xff bytes (or empty) ranges to the end of the keyspace.
  return Buffer.from([0]);
}

/**
 * Names that become key segments (group, job id, worker id) are restricted so no input can
 * reach another key: `[A-Za-z0-9._-]{1,64}`, and not `.` or `..`.
 */
export const KEY_SEGMENT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidKeySegment(value: string): boolean {
  return KEY_SEGMENT_PATTERN.test(value) && value !== '.' && value !== '..';
}
