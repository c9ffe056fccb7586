import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scheduledExecKey } from '@forest/protocol';
import { EmbeddedStore, KeyValue } from '@forest/store';
import { readNewestFirst } from './newest-first';

const PREFIX = 'things/';
const BASE_MS = 1_700_000_000_000;

describe('readNewestFirst', () => {
  let dir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forest-newest-first-'));
    store = await EmbeddedStore.open({ dataDir: dir });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One key per millisecond from BASE_MS, `count` of them. */
  async function putDense(count: number): Promise<string[]> {
    const keys = Array.from(
      { length: count },
      (_, i) => `${PREFIX}${scheduledExecKey(BASE_MS + i)}-k`,
    );
    for (const key of keys) await store.put(key, key);
    return keys;
  }

  /** Every key matching `accept`, following `next`; fails if a cursor does not move on. */
  async function readAll(budget: number, accept: (key: string) => boolean, nowMs: number) {
    const seen: string[] = [];
    let bound: string | undefined;
    for (let call = 0; call < 10_000; call++) {
      const page = await readNewestFirst(store, {
        prefix: PREFIX,
        limit: 10,
        budget,
        bound,
        nowMs,
        decode: (kv: KeyValue) => kv.key,
        accept,
      });
      seen.push(...page.items);
      if (page.next === undefined) return seen;
      if (bound !== undefined) expect(page.next < bound).toBe(true);
      bound = page.next;
    }
    throw new Error('no end after 10,000 pages');
  }

  // The budget leaves one key to read while every millisecond holds a key: the window must
  // shrink to a single millisecond, not stay at two forever (CI hung on this).
  it.each([1, 2, 3, 7, 50])(
    'ends on dense keys with a budget of %i, every key read once',
    async (budget) => {
      const keys = await putDense(60);
      const all = await readAll(budget, () => true, BASE_MS + 59);
      expect(all).toEqual([...keys].reverse());
    },
  );

  it('carries on past a budget of non-matching keys with a short page', async () => {
    const keys = await putDense(120);
    const needle = keys[0];
    const first = await readNewestFirst(store, {
      prefix: PREFIX,
      limit: 10,
      budget: 31,
      nowMs: BASE_MS + 119,
      decode: (kv: KeyValue) => kv.key,
      accept: (key) => key === needle,
    });
    expect(first.items).toEqual([]);
    expect(first.scanned).toBeLessThanOrEqual(31);
    expect(first.next).toBeDefined();
    expect(await readAll(31, (key) => key === needle, BASE_MS + 119)).toEqual([needle]);
  });
});
