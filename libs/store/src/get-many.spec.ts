import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from './embedded';
import { getMany } from './get-many';

describe('getMany', () => {
  it('reads keys in order across txn chunks, undefined keys and missing keys as undefined', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forest-getmany-'));
    const store = await EmbeddedStore.open({ dataDir: dir });
    try {
      for (let i = 0; i < 200; i += 2) await store.put(`k/${i}`, String(i));
      const keys = Array.from({ length: 200 }, (_, i) => (i === 5 ? undefined : `k/${i}`));
      const kvs = await getMany(store, keys);
      expect(kvs).toHaveLength(200);
      expect(kvs[0]?.value).toBe('0');
      expect(kvs[1]).toBeUndefined();
      expect(kvs[5]).toBeUndefined();
      expect(kvs[198]?.value).toBe('198');
      expect(await getMany(store, [])).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
