export {
  EmbeddedStore,
  EmbeddedStoreLogger,
  EmbeddedStoreOptions,
  EmbeddedStoreStats,
} from './embedded.store';
export { DataDirLockedError, WalCorruptionError } from './embedded.errors';
