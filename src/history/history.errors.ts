/**
 * The history database cannot answer now (unreachable, too slow: past its statement
 * timeout, out of connections, restarting). The request may succeed later: the API
 * answers 503 with Retry-After, background work retries on its next pass.
 */
export class HistoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistoryUnavailableError';
  }
}

/**
 * The history database's schema cannot be used by this code: it was migrated by a newer
 * Forest (a version this code does not know), or a migration failed. A boot error.
 */
export class HistorySchemaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistorySchemaError';
  }
}
