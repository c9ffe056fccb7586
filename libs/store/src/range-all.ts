import { CoordinationStore, KeyValue } from './store.port';

/**
 * Every key under a prefix, read page by page so one call never asks the store for an
 * unbounded response (etcd caps a response at its max request size).
 */
export async function rangeAll(
  store: CoordinationStore,
  prefix: string,
  pageSize = 1000,
): Promise<KeyValue[]> {
  const all: KeyValue[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.range(prefix, { after, limit: pageSize });
    all.push(...page.kvs);
    if (!page.more) return all;
    after = page.next;
  }
}
