import { ExecutionRecord } from '@forest/protocol';
import { Subject } from 'rxjs';
import { Dispatcher } from '../dispatch/dispatcher.service';
import { DispatchEvent } from '../dispatch/dispatch.events';
import { LeadershipEvent } from '../election/leadership.events';
import { LeadershipService } from '../election/leadership.service';
import { MisfireEvent, PlannerService } from '../planner/planner.service';
import { ReportService } from '../worker-gateway/report.service';
import { AlertInput, AlertService } from './alert.service';
import { AlertSources } from './alert-sources.service';
import { ExecutionFinished } from '../execution/execution.events';

function execution(status: ExecutionRecord['status'], error?: string): ExecutionRecord {
  return {
    id: 'j1~000000000000001',
    jobId: 'j1',
    jobName: 'nightly',
    group: 'g',
    target: 't',
    params: null,
    trigger: 'schedule',
    status,
    attempt: 1,
    scheduledMs: 1,
    scheduledAt: '1970-01-01T00:00:00.001Z',
    firedAt: '1970-01-01T00:00:00.001Z',
    catchUp: false,
    firedBy: { node: 'n', token: 1 },
    timeoutMs: 0,
    worker: 'w-1',
    ...(error ? { error } : {}),
    timeline: [],
  };
}

/** Which event of which module becomes which alert. */
describe('AlertSources', () => {
  const finished = new Subject<ExecutionFinished>();
  const dispatch = new Subject<DispatchEvent>();
  const misfires = new Subject<MisfireEvent>();
  const leadership = new Subject<LeadershipEvent>();
  const raised: AlertInput[] = [];
  const sources = new AlertSources(
    { raise: (input: AlertInput) => raised.push(input) } as unknown as AlertService,
    { finished$: finished } as unknown as ReportService,
    { events$: dispatch } as unknown as Dispatcher,
    { misfires$: misfires } as unknown as PlannerService,
    { events$: leadership } as unknown as LeadershipService,
  );

  beforeAll(() => sources.onModuleInit());
  afterAll(() => sources.onModuleDestroy());
  beforeEach(() => raised.splice(0));

  it('raises failed and timed_out for finished executions, and nothing for others', () => {
    finished.next({ record: execution('succeeded') });
    finished.next({ record: execution('failed', 'Error: boom\n    at handler (x.js:1:1)') });
    finished.next({ record: execution('timed_out', 'execution timed out after 80ms') });
    expect(raised).toEqual([
      {
        event: 'failed',
        severity: 'critical',
        jobId: 'j1',
        execution: {
          id: 'j1~000000000000001',
          status: 'failed',
          attempt: 1,
          scheduledAt: '1970-01-01T00:00:00.001Z',
          worker: 'w-1',
          error: 'Error: boom\n    at handler (x.js:1:1)',
        },
        message: 'execution j1~000000000000001 of job nightly failed on worker w-1: Error: boom',
      },
      expect.objectContaining({
        event: 'timed_out',
        severity: 'critical',
        message:
          'execution j1~000000000000001 of job nightly timed out on worker w-1: execution timed out after 80ms',
      }),
    ]);
  });

  it('names the retry that follows, and raises retries_exhausted after the last attempt', () => {
    const retry = {
      maxAttempts: 2,
      backoff: 'fixed' as const,
      initialDelayMs: 1000,
      maxDelayMs: 1000,
    };
    const first = { ...execution('failed', 'boom'), retry };
    const next = { ...first, id: 'j1~000000000000001.r2', attempt: 2, retryAtMs: 5000 };
    finished.next({ record: first, retry: next });
    const last = { ...execution('timed_out', 'too slow'), retry, attempt: 3 };
    dispatch.next({ type: 'execution_timed_out', execution: last });
    dispatch.next({
      type: 'execution_lost',
      execution: { ...execution('lost', 'gone'), retry, attempt: 3 },
    });
    expect(raised.map((a) => [a.event, a.message])).toEqual([
      [
        'failed',
        'execution j1~000000000000001 of job nightly failed on worker w-1: boom; attempt 2 (j1~000000000000001.r2) follows at 1970-01-01T00:00:05.000Z',
      ],
      [
        'timed_out',
        'execution j1~000000000000001 of job nightly timed out on worker w-1: too slow',
      ],
      [
        'retries_exhausted',
        'execution j1~000000000000001 of job nightly ended timed_out on its last attempt (3 of 3); no retry is left',
      ],
      ['lost', 'execution j1~000000000000001 of job nightly was lost: gone'],
      [
        'retries_exhausted',
        'execution j1~000000000000001 of job nightly ended lost on its last attempt (3 of 3); no retry is left',
      ],
    ]);
  });

  it('raises misfire, leader_changed, lost, no_worker and worker_lost', () => {
    misfires.next({
      type: 'misfire',
      jobId: 'j1',
      group: 'g',
      policy: 'fire_once',
      dueMs: 0,
      catchUps: 1,
      at: 5,
    });
    leadership.next({ type: 'elected', nodeId: 'n2', token: 42, at: new Date() });
    leadership.next({ type: 'demoted', nodeId: 'n2', reason: 'x', at: new Date() });
    dispatch.next({ type: 'execution_lost', execution: execution('lost', 'worker w-1 was lost') });
    dispatch.next({
      type: 'no_worker',
      executionId: 'j1~2',
      jobId: 'j1',
      group: 'g',
      target: 't',
      since: 'then',
      reason: 'all 2 eligible workers are full',
    });
    dispatch.next({
      type: 'worker_lost',
      worker: {
        id: 'w-1',
        group: 'g',
        host: 'box',
        targets: [],
        capacity: 1,
        pid: 1,
        labels: {},
        registeredAt: '',
        node: 'n',
        lease: '1',
      },
      held: 3,
    });
    expect(raised.map((a) => [a.event, a.severity, a.jobId, a.message])).toEqual([
      [
        'misfire',
        'warning',
        'j1',
        'job j1 missed its fire at 1970-01-01T00:00:00.000Z; misfire policy fire_once made 1 catch-up execution(s)',
      ],
      ['leader_changed', 'info', undefined, 'node n2 is now the leader (fencing token 42)'],
      [
        'lost',
        'critical',
        'j1',
        'execution j1~000000000000001 of job nightly was lost: worker w-1 was lost',
      ],
      [
        'no_worker',
        'warning',
        'j1',
        'execution j1~2 has waited for a worker since then: all 2 eligible workers are full',
      ],
      [
        'worker_lost',
        'warning',
        undefined,
        'worker w-1 of group g (box) stopped heartbeating; its 3 execution(s) are being recovered',
      ],
    ]);
    expect(raised[4].worker).toEqual({ id: 'w-1', group: 'g', host: 'box' });
  });
});
