import { Assignment, Keyspace } from '@forest/protocol';
import { WatchEvent } from '@forest/store';
import { startEvents } from './feed-sources';

describe('startEvents', () => {
  const entry = (state: Assignment['state']): Assignment => ({
    executionId: 'j~001780315200000',
    jobId: 'j',
    jobName: 'job j',
    group: 'g',
    target: 't',
    params: null,
    trigger: 'schedule',
    attempt: 1,
    scheduledMs: 1780315200000,
    scheduledAt: new Date(1780315200000).toISOString(),
    timeoutMs: 0,
    workerId: 'w1',
    assignedAt: new Date(1780315199000).toISOString(),
    state,
    ...(state === 'running' ? { startedAtMs: 1780315200005, startedBy: 'n1' } : {}),
  });
  const put = (value: Assignment, version: number, revision: number): WatchEvent => ({
    type: 'put',
    revision,
    kv: {
      key: Keyspace.assignment('g', 'w1', value.executionId),
      value: JSON.stringify(value),
      version,
      createRevision: 1,
      modRevision: revision,
      lease: '0',
    },
  });

  it('turns an inbox entry that became running into a running execution event, and nothing else', () => {
    const events = startEvents([
      put(entry('assigned'), 1, 5),
      put(entry('running'), 2, 6),
      { ...put(entry('running'), 2, 7), type: 'delete' },
    ]);
    expect(events).toEqual([
      {
        type: 'execution',
        revision: 6,
        data: expect.objectContaining({
          id: 'j~001780315200000',
          status: 'running',
          worker: 'w1',
          startedAt: new Date(1780315200005).toISOString(),
        }),
      },
    ]);
  });
});
