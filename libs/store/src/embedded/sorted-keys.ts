/**
 * The ordered key index of the embedded store: every key, sorted the way etcd sorts them,
 * so a prefix range is a seek plus a walk instead of a sort of the whole keyspace.
 */

/** Code units at or above the first surrogate: the only ones where UTF-16 order is not byte order. */
const HIGH_CODE_UNIT = /[\ud800-\uffff]/;

/**
 * Orders strings by their UTF-8 bytes, as etcd orders keys (and compares values).
 *
 * UTF-8 byte order is code point order. JavaScript's `<` compares UTF-16 code units, which
 * agrees except where a surrogate (a code point above U+FFFF) meets a unit in U+E000..U+FFFF,
 * so the native comparison is used unless both strings contain such high units.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const native = a < b ? -1 : 1;
  if (!HIGH_CODE_UNIT.test(a) || !HIGH_CODE_UNIT.test(b)) return native;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000..U+FFFF, so code unit order becomes code point order. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** A place in the index: chunk number and index inside it (chunk === chunks.length at the end). */
interface Cursor {
  chunk: number;
  index: number;
}

/** Chunks split when they grow past this; small enough that a splice inside one is cheap. */
const MAX_CHUNK = 1024;

/**
 * A sorted set of keys kept as a list of sorted chunks (the layout of Python's
 * sortedcontainers): an insert or delete splices one chunk of at most ~1000 keys instead of
 * an array of the whole keyspace, and a seek is two binary searches.
 */
export class SortedKeys {
  private chunks: string[][] = [];
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Adds a key (a key already present is left as it is). */
  insert(key: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.total = 1;
      return;
    }
    const chunkIndex = this.chunkFor(key);
    const chunk = this.chunks[chunkIndex];
    // Fast path for keys that arrive in order (bulk loads, time-ordered execution keys).
    const index =
      compareKeys(chunk[chunk.length - 1], key) < 0 ? chunk.length : lowerBound(chunk, key);
    if (index < chunk.length && chunk[index] === key) return;
    chunk.splice(index, 0, key);
    this.total++;
    if (chunk.length > MAX_CHUNK) {
      const half = chunk.length >> 1;
      this.chunks.splice(chunkIndex, 1, chunk.slice(0, half), chunk.slice(half));
    }
  }

  /** Removes a key; returns whether it was there. */
  delete(key: string): boolean {
    if (this.chunks.length === 0) return false;
    const chunkIndex = this.chunkFor(key);
    const chunk = this.chunks[chunkIndex];
    const index = lowerBound(chunk, key);
    if (index >= chunk.length || chunk[index] !== key) return false;
    chunk.splice(index, 1);
    this.total--;
    if (chunk.length === 0) this.chunks.splice(chunkIndex, 1);
    return true;
  }

  /**
   * Keys that start with `prefix` and sort strictly after `after` (when given), in order,
   * with how many there are in total; `limit` (0: none) bounds only the returned list.
   */
  range(
    prefix: string,
    after: string | undefined,
    limit: number,
  ): { keys: string[]; count: number } {
    let start = this.seek(prefix, false);
    if (after !== undefined && compareKeys(after, prefix) >= 0) {
      start = this.seek(after, true);
    }
    const end = this.prefixEnd(prefix);
    const count = Math.max(0, this.rank(end) - this.rank(start));
    const wanted = limit > 0 ? Math.min(limit, count) : count;
    const keys: string[] = [];
    let { chunk, index } = start;
    while (keys.length < wanted) {
      const current = this.chunks[chunk];
      keys.push(current[index]);
      if (++index >= current.length) {
        chunk++;
        index = 0;
      }
    }
    return { keys, count };
  }

  /** Every key in order (snapshots). */
  *[Symbol.iterator](): IterableIterator<string> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The last chunk whose first key is <= key (or the first chunk). */
  private chunkFor(key: string): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (compareKeys(this.chunks[middle][0], key) <= 0) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** First position whose key is >= key (> key when exclusive). */
  private seek(key: string, exclusive: boolean): Cursor {
    if (this.chunks.length === 0) return { chunk: 0, index: 0 };
    const chunk = this.chunkFor(key);
    const keys = this.chunks[chunk];
    let index = lowerBound(keys, key);
    if (exclusive && index < keys.length && keys[index] === key) index++;
    return this.normalize({ chunk, index });
  }

  /**
   * First position after every key that starts with `prefix`. Keys below the prefix or
   * starting with it form a leading run of the order, so this is a binary search on that
   * predicate (no need to construct etcd's range_end, which is awkward for UTF-16 strings).
   */
  private prefixEnd(prefix: string): Cursor {
    const inRun = (key: string) => key.startsWith(prefix) || compareKeys(key, prefix) < 0;
    let low = 0;
    let high = this.chunks.length; // first chunk whose first key is outside the run
    while (low < high) {
      const middle = (low + high) >> 1;
      if (inRun(this.chunks[middle][0])) low = middle + 1;
      else high = middle;
    }
    if (low === 0) return { chunk: 0, index: 0 };
    const chunk = low - 1;
    const keys = this.chunks[chunk];
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const middle = (lo + hi) >> 1;
      if (inRun(keys[middle])) lo = middle + 1;
      else hi = middle;
    }
    return this.normalize({ chunk, index: lo });
  }

  private normalize(cursor: Cursor): Cursor {
    const keys = this.chunks[cursor.chunk];
    if (keys && cursor.index >= keys.length) return { chunk: cursor.chunk + 1, index: 0 };
    return cursor;
  }

  /** How many keys precede the position: linear in the number of chunks, not keys. */
  private rank(cursor: Cursor): number {
    let rank = cursor.index;
    for (let i = 0; i < cursor.chunk && i < this.chunks.length; i++) rank += this.chunks[i].length;
    return rank;
  }
}

function lowerBound(keys: string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareKeys(keys[middle], key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
