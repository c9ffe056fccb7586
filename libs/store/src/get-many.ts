import { CoordinationStore, KeyValue, TxnOp } from './store.port';

/** Gets per txn: under etcd's default limit of 128 ops per txn branch. */
const GETS_PER_TXN = 128;

/**
 * Reads several keys in one round trip (a txn of gets per 128 keys), in order. An
 * undefined key reads as undefined, so callers can pass keys that may not exist as ids.
 * Each chunk is one consistent snapshot; separate chunks may be read at different revisions.
 */
export async function getMany(
  store: CoordinationStore,
  keys: readonly (string | undefined)[],
): Promise<(KeyValue | undefined)[]> {
  const wanted = keys.flatMap((key, index) => (key === undefined ? [] : [{ key, index }]));
  const found: (KeyValue | undefined)[] = keys.map(() => undefined);
  for (let start = 0; start < wanted.length; start += GETS_PER_TXN) {
    const chunk = wanted.slice(start, start + GETS_PER_TXN);
    const success: TxnOp[] = chunk.map(({ key }) => ({ type: 'get', key }));
    const read = await store.txn({ compare: [], success });
    read.results.forEach((result, i) => {
      if (result.type === 'get') found[chunk[i].index] = result.kv;
    });
  }
  return found;
}
