import { ExecutionRecord } from '@forest/protocol';
import { matchesHistoryFilters } from '../history/history-filters';
import { historySortKey } from '../history/history.port';
import { decodeListCursor, encodeListCursor, mergeListing } from './execution-listing';
import { isValidExecutionId } from './execution-query';

const T = 1764034200000;

const record = (overrides: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  id: `job-a~00${T}`,
  jobId: 'job-a',
  jobName: 'job a',
  group: 'billing',
  target: 't',
  params: null,
  trigger: 'schedule',
  status: 'assigned',
  attempt: 1,
  scheduledMs: T,
  scheduledAt: new Date(T).toISOString(),
  firedAt: new Date(T).toISOString(),
  catchUp: false,
  firedBy: { node: 'n', token: 3 },
  timeoutMs: 0,
  worker: 'w1',
  timeline: [],
  ...overrides,
});

/** An execution of `jobId` fired `s` seconds after T. */
const at = (jobId: string, s: number, status: ExecutionRecord['status'] = 'succeeded') =>
  record({ id: `${jobId}~00${T + s * 1000}`, jobId, status, scheduledMs: T + s * 1000 });

describe('executions listing', () => {
  it('matches every filter: key time inclusive, text case-insensitive in output or error', () => {
    const r = record({ output: 'Connection REFUSED by db', error: undefined });
    expect(matchesHistoryFilters(r, {})).toBe(true);
    expect(matchesHistoryFilters(r, { jobId: 'job-a', group: 'billing', worker: 'w1' })).toBe(true);
    expect(matchesHistoryFilters(r, { jobId: 'job-b' })).toBe(false);
    expect(matchesHistoryFilters(r, { groups: ['ops'] })).toBe(false);
    expect(matchesHistoryFilters(r, { groups: ['ops', 'billing'] })).toBe(true);
    expect(matchesHistoryFilters(r, { fromMs: T, toMs: T })).toBe(true);
    expect(matchesHistoryFilters(r, { fromMs: T + 1 })).toBe(false);
    expect(matchesHistoryFilters(r, { text: 'connection refused' })).toBe(true);
    expect(matchesHistoryFilters(r, { text: 'timeout' })).toBe(false);
    expect(matchesHistoryFilters(record({ error: 'boom 100%' }), { text: '100%' })).toBe(true);
    const retry = record({ id: `job-a~00${T}.r2`, attempt: 2 });
    expect(matchesHistoryFilters(retry, { attemptsOf: `job-a~00${T}` })).toBe(true);
    expect(matchesHistoryFilters(retry, { attemptsOf: `job-a~00${T + 1000}` })).toBe(false);
  });

  it('merges live and finished newest first, each once, bounded by a short history page', () => {
    const live = [at('a', 5, 'running'), at('b', 3, 'pending'), at('a', 1, 'running')];
    const finished = [at('a', 4), at('b', 2), at('c', 2)];
    const page = mergeListing(live, { items: finished }, { limit: 4, order: 'desc' });
    expect(page.items.map((r) => r.id)).toEqual([
      live[0].id,
      finished[0].id,
      live[1].id,
      finished[2].id, // c sorts after b within the same millisecond, newest first
    ]);
    expect(page.next).toBe(historySortKey(finished[2].id));

    // The rest from the cursor on: the history answers only beyond it.
    const rest = mergeListing(
      live,
      { items: [finished[1]] },
      { limit: 4, order: 'desc', after: page.next },
    );
    expect(rest.items.map((r) => r.id)).toEqual([finished[1].id, live[2].id]);
    expect(rest.next).toBeUndefined();

    // A history page cut short by its scan budget: no live item beyond its `next`.
    const short = mergeListing(
      live,
      { items: [], next: historySortKey(at('z', 4).id) },
      { limit: 10, order: 'desc' },
    );
    expect(short.items.map((r) => r.id)).toEqual([live[0].id]);
    expect(short.next).toBe(historySortKey(at('z', 4).id));
  });

  it('lists an execution that moved while the page was read once, as the history has it', () => {
    const moving = at('a', 1, 'succeeded');
    const page = mergeListing(
      [moving],
      { items: [{ ...moving, output: 'from history' }] },
      {
        limit: 10,
        order: 'desc',
      },
    );
    expect(page.items).toHaveLength(1);
    expect(page.items[0].output).toBe('from history');
  });

  it('merges oldest first with the same cursor rules', () => {
    const page = mergeListing(
      [at('a', 3, 'running')],
      { items: [at('a', 1), at('a', 2)] },
      {
        limit: 2,
        order: 'asc',
      },
    );
    expect(page.items.map((r) => r.scheduledMs)).toEqual([T + 1000, T + 2000]);
    expect(page.next).toBe(historySortKey(at('a', 2).id));
  });

  it('round-trips cursors per order and refuses foreign or forged ones', () => {
    const key = historySortKey(`job-a~00${T}`);
    expect(decodeListCursor(encodeListCursor(key, 'desc'), 'desc')).toBe(key);
    expect(decodeListCursor(encodeListCursor(key, 'desc'), 'asc')).toBeUndefined();
    expect(
      decodeListCursor(Buffer.from('x1:../../etc').toString('base64url'), 'desc'),
    ).toBeUndefined();
    expect(decodeListCursor('not a cursor!', 'desc')).toBeUndefined();
  });

  it('accepts only well-formed execution ids', () => {
    expect(isValidExecutionId('job-a~001764034200000')).toBe(true);
    expect(isValidExecutionId('job.a_b~001764034200000-a1b2c3d4')).toBe(true);
    for (const bad of ['job-a', '~001', 'job-a~', 'a/b~001', 'a~b~001', 'a~..', 'a~0/1', '']) {
      expect(isValidExecutionId(bad)).toBe(false);
    }
  });
});
