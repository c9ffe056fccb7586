import { PendingEntry } from '@forest/protocol';
import { PendingItem } from './dispatch-state';
import { oldestWaitStart } from './dispatch.metrics';

function item(since: string, notBeforeMs?: number): PendingItem {
  const entry: PendingEntry = { executionId: 'j~1', jobId: 'j', target: 't', since, notBeforeMs };
  return { entry, group: 'g', modRevision: 1, busy: false };
}

describe('oldestWaitStart', () => {
  const now = Date.parse('2026-01-01T00:01:00.000Z');

  it('is the earliest `since` of the waiting items', () => {
    expect(
      oldestWaitStart([item('2026-01-01T00:00:30.000Z'), item('2026-01-01T00:00:10.000Z')], now),
    ).toBe(Date.parse('2026-01-01T00:00:10.000Z'));
  });

  it('counts a retry from the end of its backoff, and leaves out one still in it', () => {
    const backoffEnded = now - 5000;
    expect(
      oldestWaitStart(
        [
          item('2026-01-01T00:00:00.000Z', backoffEnded),
          item('2026-01-01T00:00:00.000Z', now + 1000),
          item('2026-01-01T00:00:58.000Z'),
        ],
        now,
      ),
    ).toBe(backoffEnded);
    expect(oldestWaitStart([item('2026-01-01T00:00:00.000Z', now + 1000)], now)).toBeUndefined();
    expect(oldestWaitStart([], now)).toBeUndefined();
  });
});
