import {
  containsPattern,
  executionRow,
  EXECUTION_COLUMNS,
  historyCondition,
  INSERT_EXECUTIONS,
  executionColumns,
  jsonWithoutNul,
  withoutNul,
} from './history-sql';

describe('containsPattern', () => {
  it('escapes LIKE wildcards and the escape character, so text matches literally', () => {
    expect(containsPattern('100%')).toBe('%100\\%%');
    expect(containsPattern('a_b')).toBe('%a\\_b%');
    expect(containsPattern('C:\\temp')).toBe('%C:\\\\temp%');
    expect(containsPattern('plain')).toBe('%plain%');
  });
});

describe('withoutNul', () => {
  it('replaces NUL, which PostgreSQL text cannot hold', () => {
    expect(withoutNul('a\0b\0')).toBe('a\uFFFDb\uFFFD');
    expect(withoutNul('clean')).toBe('clean');
  });
});

describe('historyCondition', () => {
  it('is TRUE without filters', () => {
    expect(historyCondition({})).toEqual({ where: 'TRUE', params: [] });
  });

  it('numbers parameters in the order of the clauses', () => {
    const { where, params } = historyCondition({
      jobId: 'job-a',
      groups: ['g1', 'g2'],
      status: 'failed',
      text: '50%',
      before: '001700000000000-job-a~001700000000000',
    });
    expect(where).toBe(
      'job_id = $1 AND group_name = ANY($2::text[]) AND status = $3 AND ' +
        '(output ILIKE $4 OR error ILIKE $4) AND sort_key < $5',
    );
    expect(params).toEqual([
      'job-a',
      ['g1', 'g2'],
      'failed',
      '%50\\%%',
      '001700000000000-job-a~001700000000000',
    ]);
  });

  it('turns time bounds into inclusive sort-key ranges', () => {
    const { where, params } = historyCondition({ fromMs: 1000, toMs: 2000 });
    expect(where).toBe('sort_key >= $1 AND sort_key < $2');
    expect(params).toEqual(['000000000001000', '000000000002000\x7f']);
  });

  it('narrows attemptsOf to the fire’s sort-key range and matches the first attempt exactly', () => {
    const { where, params } = historyCondition({ attemptsOf: 'job-a~001700000000000' });
    expect(where).toBe('sort_key >= $1 AND sort_key < $2 AND first_attempt_id = $3');
    expect(params).toEqual([
      '001700000000000-job-a~001700000000000',
      '001700000000000-job-a~001700000000000\x7f',
      'job-a~001700000000000',
    ]);
  });

  it('pages forward with order=asc', () => {
    expect(historyCondition({ before: 'k', order: 'asc' }).where).toBe('sort_key > $1');
  });
});

describe('executionRow', () => {
  it('fills every column, deriving the sort key, first attempt and fire lag', () => {
    const row = executionRow({
      id: 'job-a~001700000000000.r2',
      jobId: 'job-a',
      jobName: 'a',
      group: 'g',
      target: 't',
      params: {},
      trigger: 'retry',
      status: 'failed',
      attempt: 2,
      scheduledMs: 1_700_000_000_000,
      scheduledAt: '2023-11-14T22:13:20.000Z',
      firedAt: '2023-11-14T22:13:20.000Z',
      catchUp: false,
      firedBy: { node: 'n', token: 1 },
      timeoutMs: 0,
      startedAt: '2023-11-14T22:13:20.250Z',
      finishedAt: '2023-11-14T22:13:21.000Z',
      error: 'bad\0',
      timeline: [],
    });
    expect(row).toHaveLength(EXECUTION_COLUMNS.length);
    expect(row.slice(0, 15)).toEqual([
      'job-a~001700000000000.r2',
      '001700000000000-job-a~001700000000000.r2',
      'job-a~001700000000000',
      'job-a',
      'g',
      'failed',
      null,
      'retry',
      1_700_000_000_000,
      1_700_000_000_000,
      1_700_000_000_250,
      1_700_000_001_000,
      250,
      null,
      'bad\uFFFD',
    ]);
    expect(row[15]).not.toContain('\\u0000');
  });
});

describe('INSERT_EXECUTIONS and executionColumns', () => {
  it('take one typed array per column, whatever the number of rows', () => {
    expect(INSERT_EXECUTIONS).toContain('unnest($1::text[], $2::text[]');
    expect(INSERT_EXECUTIONS).toContain('$9::bigint[]');
    expect(INSERT_EXECUTIONS).toContain('$16::jsonb[])');
    expect(INSERT_EXECUTIONS).not.toContain('$17');
    const base = {
      jobId: 'j',
      jobName: 'j',
      group: 'g',
      target: 't',
      params: null,
      trigger: 'schedule' as const,
      status: 'succeeded' as const,
      attempt: 1,
      firedAt: '2023-11-14T22:13:20.000Z',
      catchUp: false,
      firedBy: { node: 'n', token: 1 },
      timeoutMs: 0,
      timeline: [],
    };
    const records = [1, 2].map((n) => ({
      ...base,
      id: `j~00170000000000${n}`,
      scheduledMs: 1_700_000_000_000 + n,
      scheduledAt: new Date(1_700_000_000_000 + n).toISOString(),
      output: `out ${n}`,
    }));
    const columns = executionColumns(records);
    expect(columns).toHaveLength(EXECUTION_COLUMNS.length);
    expect(columns[0]).toEqual(['j~001700000000001', 'j~001700000000002']);
    expect(columns[13]).toEqual(['out 1', 'out 2']);
    expect(columns.map((column) => column[1])).toEqual(executionRow(records[1]));
  });
});

describe('jsonWithoutNul', () => {
  it('replaces NUL in keys and values, and leaves a literal backslash-u0000 text alone', () => {
    const value = {
      'key\0': 'value\0',
      literal: '\\u0000',
      both: '\\\0',
      nested: [{ '\0': '\0\0' }],
    };
    expect(JSON.parse(jsonWithoutNul(JSON.stringify(value)))).toEqual({
      'key\uFFFD': 'value\uFFFD',
      literal: '\\u0000',
      both: '\\\uFFFD',
      nested: [{ '\uFFFD': '\uFFFD\uFFFD' }],
    });
    const plain = JSON.stringify({ a: 'b' });
    expect(jsonWithoutNul(plain)).toBe(plain);
  });
});
