import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { CoordinationStore, EmbeddedStore, EtcdStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';

/**
 * Chooses the adapter: etcd when endpoints are configured (one or many nodes), otherwise
 * the embedded store in the data dir (one node, no setup). Both sit behind one port.
 */
export async function createCoordinationStore(config: ForestConfig): Promise<CoordinationStore> {
  const logger = new Logger('CoordinationStore');
  const storeLogger = {
    warn: (message: string) => logger.warn(message),
    log: (message: string) => logger.log(message),
  };
  if (config.etcdEndpoints.length > 0) {
    logger.log(`using etcd at ${config.etcdEndpoints.join(',')} prefix=${config.keyPrefix}`);
    return new EtcdStore({
      endpoints: [...config.etcdEndpoints],
      prefix: `${config.keyPrefix}/`,
      requestTimeoutMs: config.etcdDialTimeoutMs,
      tls: config.etcdCaFile
        ? {
            ca: readFileSync(config.etcdCaFile),
            cert: config.etcdCertFile ? readFileSync(config.etcdCertFile) : undefined,
            key: config.etcdKeyFile ? readFileSync(config.etcdKeyFile) : undefined,
          }
        : undefined,
      auth:
        config.etcdUsername && config.etcdPassword
          ? { username: config.etcdUsername, password: config.etcdPassword }
          : undefined,
      compactionIntervalMs: config.etcdCompactionIntervalS * 1000,
      logger: storeLogger,
    });
  }
  const dataDir = resolve(config.dataDir);
  logger.log(`no etcd endpoints set: using the embedded store in ${dataDir}`);
  return EmbeddedStore.open({ dataDir, logger: storeLogger });
}
