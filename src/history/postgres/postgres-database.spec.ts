import { describePostgresUrl, isTransientDatabaseError, poolConfig } from './postgres-database';

const sqlError = (code: string) => Object.assign(new Error('sql'), { code });

describe('isTransientDatabaseError', () => {
  it('counts connection failures, timeouts and a server going away as transient', () => {
    expect(
      isTransientDatabaseError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDatabaseError(sqlError('57014'))).toBe(true); // statement timeout
    expect(isTransientDatabaseError(sqlError('57P01'))).toBe(true); // admin shutdown
    expect(isTransientDatabaseError(sqlError('08006'))).toBe(true); // connection failure
    expect(isTransientDatabaseError(sqlError('53300'))).toBe(true); // too many connections
    expect(isTransientDatabaseError(sqlError('40P01'))).toBe(true); // deadlock
  });

  it('lets a statement the server rejects for what it says surface as it is', () => {
    expect(isTransientDatabaseError(sqlError('42601'))).toBe(false); // syntax
    expect(isTransientDatabaseError(sqlError('23505'))).toBe(false); // unique violation
    expect(isTransientDatabaseError(sqlError('22P02'))).toBe(false); // bad input
    expect(isTransientDatabaseError('not an error')).toBe(false);
  });
});

describe('poolConfig', () => {
  const base = { url: 'postgres://u:p@db:5432/forest', poolSize: 7 };

  it('sets the pool size and a statement timeout with a client-side backstop', () => {
    const config = poolConfig({ ...base, tls: 'off' });
    expect(config).toMatchObject({ max: 7, statement_timeout: 10_000, ssl: false });
    expect(config.query_timeout).toBeGreaterThan(10_000);
  });

  it('maps TLS modes: require does not verify, verify-full does (with the CA given)', () => {
    expect(poolConfig({ ...base, tls: 'require' }).ssl).toEqual({ rejectUnauthorized: false });
    expect(poolConfig({ ...base, tls: 'verify-full' }).ssl).toEqual({ rejectUnauthorized: true });
    expect(poolConfig({ ...base, tls: 'verify-full', ca: 'PEM' }).ssl).toEqual({
      rejectUnauthorized: true,
      ca: 'PEM',
    });
  });
});

describe('describePostgresUrl', () => {
  it('hides the password', () => {
    expect(describePostgresUrl('postgres://forest:s3cret@db:5432/h')).toBe(
      'postgres://forest:***@db:5432/h',
    );
    expect(describePostgresUrl('postgres://db/h')).toBe('postgres://db/h');
  });
});
