import { CoordinationStore, RangeOptions, RangeResult } from './store.port';
import { rangeAll, rangePages } from './range-all';

/** A store of `count` keys whose values are `valueBytes` long; records each page's limit. */
function fakeStore(count: number, valueBytes: (i: number) => number) {
  const keys = Array.from({ length: count }, (_, i) => `p/${String(i).padStart(6, '0')}`);
  const limits: number[] = [];
  const store = {
    range: (prefix: string, options: RangeOptions = {}): Promise<RangeResult> => {
      limits.push(options.limit ?? 0);
      const start = options.after ? keys.findIndex((k) => k > options.after!) : 0;
      const rest = start < 0 ? [] : keys.slice(start);
      const page = rest.slice(0, options.limit || undefined);
      const kvs = page.map((key) => ({
        key,
        value: 'x'.repeat(valueBytes(keys.indexOf(key))),
        createRevision: 1,
        modRevision: 1,
        version: 1,
      }));
      return Promise.resolve({
        kvs,
        count: rest.length,
        more: rest.length > page.length,
        next: page[page.length - 1],
        revision: 7,
      });
    },
  } as unknown as CoordinationStore;
  return { store, limits };
}

describe('rangePages / rangeAll', () => {
  it('reads every key once, in order, with large pages for small values', async () => {
    const { store, limits } = fakeStore(20_000, () => 100);
    const all = await rangeAll(store, 'p/');
    expect(all).toHaveLength(20_000);
    expect(all[19_999].key).toBe('p/019999');
    expect(limits[0]).toBe(256);
    expect(Math.max(...limits)).toBe(5000);
  });

  it('shrinks pages for large values to stay near the byte target', async () => {
    const { store, limits } = fakeStore(300, () => 64 * 1024);
    let seen = 0;
    for await (const page of rangePages(store, 'p/')) {
      seen += page.kvs.length;
      expect(page.revision).toBe(7);
    }
    expect(seen).toBe(300);
    expect(limits.slice(1).every((limit) => limit <= 32)).toBe(true);
  });
});
