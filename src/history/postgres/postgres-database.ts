import { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import { HistorySchemaError, HistoryUnavailableError } from '../history.errors';
import { migrate } from './migrate';

export type PostgresTlsMode = 'off' | 'require' | 'verify-full';

export interface PostgresConnectionOptions {
  /** `postgres://` or `postgresql://` URL, without TLS parameters. */
  url: string;
  tls: PostgresTlsMode;
  /** CA (PEM) for verify-full; absent: the system's roots. */
  ca?: string | Buffer;
  poolSize: number;
  /** Longest any statement may run (default 10 s): a slow database cannot hang a request. */
  statementTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** Runs SQL; a pool or a transaction's client. */
export interface SqlRunner {
  query<R extends QueryResultRow>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * The pg Pool settings for the options: the server enforces the statement timeout, and
 * the client gives up a little later (a server that stopped answering altogether).
 */
export function poolConfig(options: PostgresConnectionOptions): PoolConfig {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  return {
    connectionString: options.url,
    ssl: tlsOptions(options),
    max: options.poolSize,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 3,
    query_timeout: statementTimeoutMs + 2_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'forest',
  };
}

function tlsOptions(options: PostgresConnectionOptions): PoolConfig['ssl'] {
  switch (options.tls) {
    case 'off':
      return false;
    case 'require':
      // libpq's sslmode=require: encrypted, the server's certificate is not checked.
      return { rejectUnauthorized: false };
    case 'verify-full':
      // Node checks the chain and the host name by default.
      return { rejectUnauthorized: true, ...(options.ca !== undefined ? { ca: options.ca } : {}) };
  }
}

/** SQLSTATE classes that mean "try later", not "this statement is wrong". */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '40', '53', '55', '57', '58'];

/**
 * Whether an error from pg means the database cannot answer now: connection and network
 * failures, timeouts (the statement timeout is SQLSTATE 57014), exhausted resources,
 * a server shutting down. A statement the server rejects for what it says (a bug here)
 * is not: it surfaces as it is.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  // Not `instanceof Error`: errors of Node's own modules may come from another realm.
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
  }
  // No SQLSTATE: the socket, DNS, TLS, a client-side timeout or the pool itself.
  return true;
}

/** The URL without its password, for logs. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * The history database: one pg Pool shared by the history and the logs adapter. Every
 * query runs under the statement timeout, and every failure to reach or hear from the
 * database becomes a HistoryUnavailableError (the API answers 503). `open` migrates the
 * schema before anything uses it. Each adapter holds a reference; the pool ends when the
 * last one is released.
 */
export class PostgresDatabase {
  private references = 0;
  private ended = false;

  private constructor(private readonly pool: Pool) {}

  /** Connects and migrates; the boot fails with the reason when either does not work. */
  static async open(
    options: PostgresConnectionOptions,
    onIdleError: (error: Error) => void = () => undefined,
  ): Promise<{ database: PostgresDatabase; applied: number[] }> {
    const pool = new Pool(poolConfig(options));
    // An idle connection that breaks emits here; without a listener it would crash the node.
    pool.on('error', onIdleError);
    try {
      const client = await pool.connect();
      try {
        const applied = await migrate(client);
        return { database: new PostgresDatabase(pool), applied };
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof HistorySchemaError) throw error;
      throw new HistorySchemaError(
        `cannot prepare the history database at ${describePostgresUrl(options.url)}: ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  async query<R extends QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, params)).rows;
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `work` in a transaction (committed when it resolves, rolled back when it throws).
   * `statementTimeoutMs` overrides the statement timeout inside it (long retention batches).
   */
  async transaction<T>(
    work: (sql: SqlRunner) => Promise<T>,
    statementTimeoutMs?: number,
  ): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      if (statementTimeoutMs !== undefined) {
        await client.query(`SET LOCAL statement_timeout = ${Math.floor(statementTimeoutMs)}`);
      }
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw translate(error);
    } finally {
      // A connection whose rollback failed is not reused.
      client.release(broken);
    }
  }

  retain(): this {
    this.references++;
    return this;
  }

  /** Drops one reference; the last one ends the pool. */
  async release(): Promise<void> {
    this.references = Math.max(0, this.references - 1);
    if (this.references === 0) await this.end();
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

function translate(error: unknown): unknown {
  if (error instanceof HistoryUnavailableError || !isTransientDatabaseError(error)) return error;
  return new HistoryUnavailableError(`history database unavailable: ${errorText(error)}`, {
    cause: error,
  });
}

function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
