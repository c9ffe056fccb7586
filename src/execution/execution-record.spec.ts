import { newExecution, pendingEntry, transition } from './execution-record';

describe('newExecution', () => {
  it('makes a pending record whose first timeline entry is its creation', () => {
    const at = Date.parse('2026-11-24T10:00:00.123Z');
    const record = newExecution(
      {
        id: 'j~001764000000000-ab',
        jobId: 'j',
        jobName: 'job',
        group: 'g',
        target: 't',
        params: { a: 1 },
        trigger: 'manual',
        attempt: 1,
        scheduledMs: at,
        catchUp: false,
        firedBy: { node: 'n1', token: 0 },
        timeoutMs: 500,
      },
      at,
      'n1',
    );
    expect(record).toEqual({
      id: 'j~001764000000000-ab',
      jobId: 'j',
      jobName: 'job',
      group: 'g',
      target: 't',
      params: { a: 1 },
      trigger: 'manual',
      status: 'pending',
      attempt: 1,
      scheduledMs: at,
      scheduledAt: '2026-11-24T10:00:00.123Z',
      firedAt: '2026-11-24T10:00:00.123Z',
      catchUp: false,
      firedBy: { node: 'n1', token: 0 },
      timeoutMs: 500,
      timeline: [{ status: 'pending', at: '2026-11-24T10:00:00.123Z', node: 'n1' }],
    });
    expect(pendingEntry(record, record.firedAt)).toEqual({
      executionId: record.id,
      jobId: 'j',
      target: 't',
      since: record.firedAt,
    });
    const cancelled = transition(record, 'cancelled', at + 5, 'n2', { error: 'x' });
    expect(cancelled.timeline.map((e) => e.status)).toEqual(['pending', 'cancelled']);
    expect(cancelled.finishedAt).toBe('2026-11-24T10:00:00.128Z');
  });
});
