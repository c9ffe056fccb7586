import { CoordinationStore, KeyValue } from './store.port';

export interface RangePagesOptions {
  /** Aim for pages of about this many bytes of keys and values (default 2 MiB). */
  targetPageBytes?: number;
  /** Keys in the first page, before sizes are known (default 256). */
  firstPageSize?: number;
  /** Never more keys than this per page (default 5000). */
  maxPageSize?: number;
}

/**
 * Every key under a prefix, page by page, so one call never asks the store for an
 * unbounded response. Page sizes adapt to the values seen so far: small records come in
 * large pages (etcd walks the rest of the range for every limited read, so fewer pages
 * load faster), large ones in small pages (a gRPC response has a size cap). Yields each
 * page with the revision it was read at.
 */
export async function* rangePages(
  store: CoordinationStore,
  prefix: string,
  options: RangePagesOptions = {},
): AsyncGenerator<{ kvs: KeyValue[]; revision: number }> {
  const target = options.targetPageBytes ?? 2 * 1024 * 1024;
  const maxPage = options.maxPageSize ?? 5000;
  let limit = Math.min(options.firstPageSize ?? 256, maxPage);
  let after: string | undefined;
  let bytes = 0;
  let keys = 0;
  for (;;) {
    const page = await store.range(prefix, { after, limit });
    yield { kvs: page.kvs, revision: page.revision };
    if (!page.more) return;
    after = page.next;
    for (const kv of page.kvs) bytes += kv.key.length + kv.value.length;
    keys += page.kvs.length;
    limit = Math.max(16, Math.min(maxPage, Math.floor(target / Math.max(1, bytes / keys))));
  }
}

/** Every key under a prefix (read with rangePages). */
export async function rangeAll(
  store: CoordinationStore,
  prefix: string,
  options?: RangePagesOptions,
): Promise<KeyValue[]> {
  const all: KeyValue[] = [];
  for await (const page of rangePages(store, prefix, options)) {
    for (const kv of page.kvs) all.push(kv);
  }
  return all;
}
