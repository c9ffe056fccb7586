import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { ForestConfig, loadConfig } from '../../src/config/forest.config';
import { createForestAdapter, FOREST_NEST_OPTIONS } from '../../src/http/http-server';

export type StoreKind = 'embedded' | 'etcd';

export interface TestApp {
  app: NestFastifyApplication;
  config: ForestConfig;
  /** Closes the app (shutdown hooks run) and keeps its data dir. */
  stop(): Promise<void>;
  /** Closes the app if still open and removes its data dir. */
  close(): Promise<void>;
}

/**
 * Boots the real AppModule (same pipes, filters, Swagger as main.ts) for Fastify inject
 * tests, on a fresh embedded data dir or on its own key prefix in a test etcd.
 */
export async function startTestApp(options: {
  store: StoreKind;
  etcdEndpoint?: string;
  env?: Record<string, string>;
  controllers?: Type<unknown>[];
  /** The built web console to serve at `/` (default: dist/console, built or not). */
  consoleDir?: string;
}): Promise<TestApp> {
  // A data dir the test passes in is the test's to remove; otherwise the harness makes one.
  const ownDataDir = options.env?.FOREST_DATA_DIR === undefined;
  const dataDir = options.env?.FOREST_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'forest-app-'));
  const removeDataDir = () => {
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const config = loadConfig({
    FOREST_LOG_LEVEL: 'silent',
    FOREST_NODE_ID: 'test-node',
    FOREST_DATA_DIR: dataDir,
    FOREST_KEY_PREFIX: `/forest-e2e/${randomUUID()}`,
    ...(options.store === 'etcd' ? { FOREST_ETCD_ENDPOINTS: options.etcdEndpoint } : {}),
    ...options.env,
  });
  let app: NestFastifyApplication;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config)],
      controllers: options.controllers ?? [],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createForestAdapter(config), {
      ...FOREST_NEST_OPTIONS,
      logger: false,
    });
    configureApp(app, { consoleDir: options.consoleDir });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    // A node that fails to boot (a bad plugin, say) leaves no data dir behind.
    removeDataDir();
    throw error;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.close();
  };
  return {
    app,
    config,
    stop,
    close: async () => {
      await stop();
      removeDataDir();
    },
  };
}

/**
 * Nodes that share one etcd and one fresh key prefix, one app per node id: a cluster of
 * in-process nodes for e2e tests. Close each app (and stop etcd) when done.
 */
export async function startNodesOnEtcd(
  etcdEndpoint: string,
  nodeIds: string[],
): Promise<TestApp[]> {
  const prefix = `/forest-nodes-${randomUUID().slice(0, 8)}`;
  const apps: TestApp[] = [];
  for (const nodeId of nodeIds) {
    apps.push(
      await startTestApp({
        store: 'etcd',
        etcdEndpoint,
        env: { FOREST_KEY_PREFIX: prefix, FOREST_NODE_ID: nodeId },
      }),
    );
  }
  return apps;
}
