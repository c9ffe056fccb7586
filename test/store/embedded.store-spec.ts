import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '@forest/store';
import { describeStoreContract } from './store-contract';

describeStoreContract('embedded', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'forest-contract-'));
  const store = await EmbeddedStore.open({ dataDir });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
