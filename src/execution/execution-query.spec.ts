import { ExecutionRecord } from '@forest/protocol';
import {
  afterJob,
  decodeCursor,
  encodeCursor,
  execKeyTimeMs,
  firstKeyAfter,
  isValidExecutionId,
  laterKey,
  matchesFilters,
  parseExecutionKey,
} from './execution-query';

const record = (overrides: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  id: 'job-a~001764034200000',
  jobId: 'job-a',
  jobName: 'job a',
  group: 'billing',
  target: 't',
  params: null,
  trigger: 'schedule',
  status: 'assigned',
  attempt: 1,
  scheduledMs: 1764034200000,
  scheduledAt: new Date(1764034200000).toISOString(),
  firedAt: new Date(1764034200000).toISOString(),
  catchUp: false,
  firedBy: { node: 'n', token: 3 },
  timeoutMs: 0,
  worker: 'w1',
  timeline: [],
  ...overrides,
});

describe('executions query', () => {
  it('matches every filter, each inclusive on time', () => {
    const r = record();
    expect(matchesFilters(r, {})).toBe(true);
    expect(matchesFilters(r, { jobId: 'job-a', group: 'billing', status: 'assigned' })).toBe(true);
    expect(matchesFilters(r, { worker: 'w1', trigger: 'schedule' })).toBe(true);
    expect(matchesFilters(r, { fromMs: r.scheduledMs, toMs: r.scheduledMs })).toBe(true);
    expect(matchesFilters(r, { jobId: 'job-b' })).toBe(false);
    expect(matchesFilters(r, { group: 'other' })).toBe(false);
    expect(matchesFilters(r, { status: 'pending' })).toBe(false);
    expect(matchesFilters(r, { worker: 'w2' })).toBe(false);
    expect(matchesFilters(record({ worker: undefined }), { worker: 'w1' })).toBe(false);
    expect(matchesFilters(r, { trigger: 'manual' })).toBe(false);
    expect(matchesFilters(r, { fromMs: r.scheduledMs + 1 })).toBe(false);
    expect(matchesFilters(r, { toMs: r.scheduledMs - 1 })).toBe(false);
  });

  it('reads the time an execution key starts with', () => {
    expect(execKeyTimeMs('001764034200000')).toBe(1764034200000);
    expect(execKeyTimeMs('001764034200000-a1b2c3d4')).toBe(1764034200000);
    expect(execKeyTimeMs('1764034200000')).toBeUndefined();
    expect(execKeyTimeMs('0017640342000001')).toBeUndefined();
    expect(execKeyTimeMs('x')).toBeUndefined();
  });

  it('splits execution keys', () => {
    expect(parseExecutionKey('executions/job-a/001')).toEqual({ jobId: 'job-a', execKey: '001' });
    expect(parseExecutionKey('executions/job-a/')).toBeUndefined();
    expect(parseExecutionKey('executions/job-a')).toBeUndefined();
    expect(parseExecutionKey('jobs/job-a/001')).toBeUndefined();
  });

  it('starts a job range exactly at the first key of a millisecond', () => {
    const ms = 1764034200000;
    const after = firstKeyAfter('j', ms)!;
    const key = (t: number, suffix = '') =>
      `executions/j/${String(t).padStart(15, '0')}${suffix ? `-${suffix}` : ''}`;
    for (const earlier of [key(ms - 1), key(ms - 1, 'zzzzzzzz'), key(ms - 1, 'Z.-_9'), key(0)]) {
      expect(earlier <= after).toBe(true);
    }
    for (const later of [key(ms), key(ms, '0'), key(ms + 1), key(ms * 10)]) {
      expect(later > after).toBe(true);
    }
    expect(firstKeyAfter('j', 0)).toBeUndefined();
  });

  it('skips past every key of a job, and only of that job', () => {
    const after = afterJob('a');
    expect('executions/a/999999999999999-zz' < after).toBe(true);
    expect('executions/a0/000000000000001' > after).toBe(true);
    expect('executions/aa/000000000000001' > after).toBe(true);
    expect(laterKey(undefined, 'b')).toBe('b');
    expect(laterKey('a', undefined)).toBe('a');
    expect(laterKey('a', 'b')).toBe('b');
    expect(laterKey('c', 'b')).toBe('c');
  });

  it('round-trips cursors and refuses foreign or forged ones', () => {
    const key = 'executions/job-a/001764034200000-ab12';
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'executions/')).toBe(key);
    expect(decodeCursor(cursor, 'executions/job-a/')).toBe(key);
    expect(decodeCursor(cursor, 'executions/job-b/')).toBeUndefined();
    expect(decodeCursor('not a cursor', 'executions/')).toBeUndefined();
    expect(
      decodeCursor(Buffer.from('jobs/x').toString('base64url'), 'executions/'),
    ).toBeUndefined();
    expect(decodeCursor(encodeCursor('jobs/secret'), 'executions/')).toBeUndefined();
    expect(decodeCursor(encodeCursor('executions/'), 'executions/')).toBeUndefined();
  });

  it('accepts only well-formed execution ids', () => {
    expect(isValidExecutionId('job-a~001764034200000')).toBe(true);
    expect(isValidExecutionId('job.a_b~001764034200000-a1b2c3d4')).toBe(true);
    for (const bad of ['job-a', '~001', 'job-a~', 'a/b~001', 'a~b~001', 'a~..', 'a~0/1', '']) {
      expect(isValidExecutionId(bad)).toBe(false);
    }
  });
});
