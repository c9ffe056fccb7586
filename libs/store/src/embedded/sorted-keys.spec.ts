import { compareKeys, SortedKeys } from './sorted-keys';

/** A small deterministic PRNG, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

const ALPHABET = ['a', 'b', '/', '-', '0', 'é', '\u0000', '\ue000', '\uffff', '😀', '𝄞'];

function randomKey(next: () => number, maxLength = 6): string {
  const length = 1 + Math.floor(next() * maxLength);
  let key = '';
  for (let i = 0; i < length; i++) key += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return key;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('compareKeys', () => {
  it('orders strings by their UTF-8 bytes, as etcd does', () => {
    const next = random(7);
    for (let i = 0; i < 5000; i++) {
      const a = randomKey(next);
      const b = randomKey(next);
      expect([a, b, Math.sign(compareKeys(a, b))]).toEqual([a, b, Math.sign(byteOrder(a, b))]);
    }
  });

  it('puts a character above U+FFFF after U+FFFF (where UTF-16 order differs)', () => {
    expect('😀' < '\uffff').toBe(true); // JavaScript's own order
    expect(compareKeys('😀', '\uffff')).toBeGreaterThan(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    expect(compareKeys('jobs/a', 'jobs/a')).toBe(0);
  });
});

describe('SortedKeys', () => {
  /** The obvious implementation, to compare against. */
  function naiveRange(keys: Set<string>, prefix: string, after: string | undefined, limit: number) {
    const matching = [...keys]
      .filter((key) => key.startsWith(prefix))
      .filter((key) => after === undefined || byteOrder(key, after) > 0)
      .sort(byteOrder);
    return { keys: limit > 0 ? matching.slice(0, limit) : matching, count: matching.length };
  }

  it('agrees with a sorted array through inserts, deletes and chunk splits', () => {
    const next = random(42);
    const index = new SortedKeys();
    const model = new Set<string>();
    for (let step = 0; step < 6000; step++) {
      const key = randomKey(next, 4);
      if (next() < 0.7) {
        index.insert(key);
        model.add(key);
      } else {
        expect(index.delete(key)).toBe(model.delete(key));
      }
      expect(index.size).toBe(model.size);
    }
    expect([...index]).toEqual([...model].sort(byteOrder));

    for (let query = 0; query < 500; query++) {
      const prefix = next() < 0.2 ? '' : randomKey(next, 2);
      const after = next() < 0.5 ? undefined : randomKey(next, 3);
      const limit = next() < 0.5 ? 0 : Math.floor(next() * 20);
      expect(index.range(prefix, after, limit)).toEqual(naiveRange(model, prefix, after, limit));
    }
  });

  it('handles the empty index and keys inserted in order', () => {
    const index = new SortedKeys();
    expect(index.range('', undefined, 0)).toEqual({ keys: [], count: 0 });
    expect(index.delete('x')).toBe(false);
    for (let i = 0; i < 3000; i++) index.insert(`exec/${String(i).padStart(5, '0')}`);
    index.insert('exec/00001'); // already there: no duplicate
    expect(index.size).toBe(3000);
    const page = index.range('exec/', 'exec/01499', 2);
    expect(page).toEqual({ keys: ['exec/01500', 'exec/01501'], count: 1500 });
    expect(index.range('exec/0299', undefined, 0).count).toBe(10);
    expect(index.range('zzz', undefined, 0).count).toBe(0);
  });
});
