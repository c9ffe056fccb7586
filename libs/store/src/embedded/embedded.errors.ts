import { StoreError } from '../store.errors';

/**
 * The data directory holds damage that recovery must not paper over: a bad record with
 * acknowledged records after it, a gap in the log, or a snapshot the log does not continue.
 * Opening fails instead of silently losing acknowledged writes; an operator decides.
 */
export class WalCorruptionError extends StoreError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`write-ahead log corrupt in ${file} at byte offset ${offset}: ${reason}`);
  }
}

/** Another live process (or this one) already has the data directory open. */
export class DataDirLockedError extends StoreError {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${ownerPid}; ` +
        'stop that process, or delete the LOCK file if you are sure it is gone',
    );
  }
}
