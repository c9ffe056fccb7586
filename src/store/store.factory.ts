import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { CoordinationStore, EmbeddedStore, EtcdStore, EtcdStoreOptions } from '@forest/store';
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
    logger.log(
      `using etcd at ${config.etcdEndpoints.join(',')} prefix=${config.keyPrefix}` +
        describeSecurity(config),
    );
    return new EtcdStore({
      endpoints: [...config.etcdEndpoints],
      prefix: `${config.keyPrefix}/`,
      requestTimeoutMs: config.etcdDialTimeoutMs,
      tls: etcdTls(config),
      auth:
        config.etcdUsername !== undefined && config.etcdPassword !== undefined
          ? { username: config.etcdUsername, password: config.etcdPassword }
          : undefined,
      compactionIntervalMs: config.etcdCompactionIntervalS * 1000,
      compactionRevisions: config.etcdCompactionRevisions,
      compactionMaxInUseBytes: config.etcdCompactionMaxMb * 1024 * 1024,
      logger: storeLogger,
    });
  }
  const dataDir = resolve(config.dataDir);
  logger.log(`no etcd endpoints set: using the embedded store in ${dataDir}`);
  return EmbeddedStore.open({ dataDir, logger: storeLogger });
}

/**
 * TLS material for etcd: the CA to verify the server (without one, the system's roots), and
 * the client certificate and key for mutual TLS. Any of them (or an https:// endpoint)
 * turns TLS on; the config already checked that the files are readable and that the
 * certificate and key come together.
 */
function etcdTls(config: ForestConfig): EtcdStoreOptions['tls'] {
  const { etcdCaFile, etcdCertFile, etcdKeyFile } = config;
  if (etcdCaFile === undefined && etcdCertFile === undefined && etcdKeyFile === undefined) {
    return undefined;
  }
  return {
    ca: etcdCaFile !== undefined ? readFileSync(etcdCaFile) : undefined,
    cert: etcdCertFile !== undefined ? readFileSync(etcdCertFile) : undefined,
    key: etcdKeyFile !== undefined ? readFileSync(etcdKeyFile) : undefined,
  };
}

/** What the start-up line says about TLS and authentication (never the password). */
function describeSecurity(config: ForestConfig): string {
  const tls =
    config.etcdCaFile !== undefined ||
    config.etcdCertFile !== undefined ||
    config.etcdEndpoints.some((endpoint) => endpoint.startsWith('https://'));
  const parts = [
    tls ? `tls=on${config.etcdCertFile !== undefined ? ' (client certificate)' : ''}` : 'tls=off',
    config.etcdUsername !== undefined ? `user=${config.etcdUsername}` : 'auth=off',
  ];
  return ` ${parts.join(' ')}`;
}
