import { ConfigError, loadConfig } from './forest.config';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('history settings', () => {
  it('defaults to history in the store with its size budget and log bounds', () => {
    const config = loadConfig({});
    expect(config.historyUrl).toBeUndefined();
    expect(config.historyTls).toBe('off');
    expect(config.historyPoolSize).toBe(10);
    expect(config.historyStoreMaxMb).toBe(256);
    expect(config.logMaxBytesPerExecution).toBe(1_048_576);
    expect(config.logMaxLinesPerExecution).toBe(10_000);
  });

  it('takes postgres:// and postgresql:// URLs only', () => {
    expect(loadConfig({ FOREST_HISTORY_URL: 'postgresql://u:p@db/h' }).historyUrl).toBe(
      'postgresql://u:p@db/h',
    );
    expect(problems({ FOREST_HISTORY_URL: 'mysql://db/h' })).toEqual([
      'FOREST_HISTORY_URL: must start with postgres:// or postgresql://, not mysql://',
    ]);
    expect(problems({ FOREST_HISTORY_URL: 'not a url' })[0]).toMatch(/is not a URL/);
  });

  it('refuses TLS parameters in the URL: FOREST_HISTORY_TLS sets TLS', () => {
    expect(problems({ FOREST_HISTORY_URL: 'postgres://db/h?sslmode=disable' })[0]).toMatch(
      /set TLS with FOREST_HISTORY_TLS .* not sslmode/,
    );
  });

  it('refuses database settings without a database, and a CA without verify-full', () => {
    expect(problems({ FOREST_HISTORY_TLS: 'require' })).toEqual([
      'FOREST_HISTORY_TLS: only used with FOREST_HISTORY_URL; set it too',
    ]);
    expect(
      problems({ FOREST_HISTORY_URL: 'postgres://db/h', FOREST_HISTORY_TLS: 'maybe' })[0],
    ).toMatch(/use off, require, verify-full/);
    expect(
      problems({
        FOREST_HISTORY_URL: 'postgres://db/h',
        FOREST_HISTORY_TLS: 'require',
        FOREST_HISTORY_TLS_CA: __filename,
      }),
    ).toEqual(['FOREST_HISTORY_TLS_CA: only used with FOREST_HISTORY_TLS=verify-full']);
  });
});
