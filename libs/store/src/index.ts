export * from './store.port';
export * from './store.errors';
export * from './keys';
export { EtcdStore, EtcdStoreOptions } from './etcd/etcd.store';
export { LeaseKeeper, LeaseKeeperOptions } from './lease-keeper';
export * from './embedded';
export { rangeAll, rangePages, RangePagesOptions } from './range-all';
export { getMany } from './get-many';
