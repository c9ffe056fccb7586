import { startTestApp, TestApp } from '../support/app-harness';
import { eventually } from '../support/wait';
import { Json, workerSessionInject } from '../support/http-inject';

/**
 * The alert events a scheduler raises besides a failed run, end to end on one node: the
 * node becoming leader, an execution nobody can take, a worker that stops heartbeating,
 * and the execution it was running. The worker here speaks the protocol by hand, so the
 * test can make it fall silent mid-run.
 */
describe('alert events', () => {
  let subject: TestApp;

  beforeAll(async () => {
    subject = await startTestApp({
      store: 'embedded',
      env: { FOREST_WORKER_TTL_S: '2', FOREST_ALERT_NO_WORKER_MS: '1000' },
    });
    expect((await call('POST', '/api/groups', { name: 'g' })).statusCode).toBe(201);
  });

  afterAll(async () => {
    await subject?.close();
  });

  /** Calls under a worker id carry that worker's session secret. */
  const call = workerSessionInject(() => subject.app);

  async function alerts(): Promise<Json[]> {
    return (await call('GET', '/api/alerts?limit=500')).body.items as Json[];
  }

  async function job(id: string, target: string): Promise<void> {
    const created = await call('POST', '/api/jobs', {
      id,
      name: id,
      group: 'g',
      schedule: { cron: '0 0 1 1 *' },
      target,
      state: 'paused',
      alerts: { channels: ['log'], events: ['lost', 'no_worker'] },
    });
    expect(created.statusCode).toBe(201);
  }

  it('raises leader_changed when the node starts leading', async () => {
    await eventually(async () => {
      const alert = (await alerts()).find((a) => a.alert.event === 'leader_changed');
      expect(alert?.alert).toMatchObject({
        severity: 'info',
        node: 'test-node',
        message: expect.stringMatching(/^node test-node is now the leader/),
      });
      expect(alert?.deliveries).toEqual([{ channel: 'log', delivery: { status: 'delivered' } }]);
    }, 5000);
  });

  it('raises no_worker for an execution that waited too long for a worker', async () => {
    await job('orphan-job', 'nobody-runs-this');
    const execution = (await call('POST', '/api/jobs/orphan-job/trigger', {})).body;
    await eventually(async () => {
      const alert = (await alerts()).find((a) => a.alert.event === 'no_worker');
      expect(alert?.alert).toMatchObject({
        severity: 'warning',
        job: { id: 'orphan-job', name: 'orphan-job', group: 'g' },
        message: expect.stringContaining(`execution ${execution.id} has waited for a worker since`),
      });
      expect(alert!.alert.message).toContain(
        'no live worker of group g runs target nobody-runs-this',
      );
    }, 15_000);
  }, 20_000);

  it('raises worker_lost and lost when a worker falls silent while running', async () => {
    const registered = await call('POST', '/api/workers', {
      group: 'g',
      targets: ['slow'],
      capacity: 1,
      host: 'silent-host',
      pid: 4242,
    });
    expect(registered.statusCode).toBe(201);
    const workerId = registered.body.workerId as string;
    await job('doomed-job', 'slow');
    const execution = (await call('POST', '/api/jobs/doomed-job/trigger', {})).body;
    // Take it and start it, then stop heartbeating: the lease (2 s) runs out mid-run.
    await eventually(async () => {
      const poll = await call('GET', `/api/workers/g/${workerId}/assignments?waitMs=0`);
      expect(poll.body.assignments.map((a: Json) => a.executionId)).toEqual([execution.id]);
    }, 5000);
    const report = await call('POST', `/api/workers/g/${workerId}/reports`, {
      reports: [{ executionId: execution.id, status: 'running' }],
    });
    expect(report.body.results[0].outcome).toBe('accepted');

    await eventually(async () => {
      const all = await alerts();
      const lostWorker = all.find((a) => a.alert.event === 'worker_lost');
      expect(lostWorker?.alert).toMatchObject({
        severity: 'warning',
        worker: { id: workerId, group: 'g', host: 'silent-host' },
      });
      const lost = all.find((a) => a.alert.event === 'lost');
      expect(lost?.alert).toMatchObject({
        severity: 'critical',
        job: { id: 'doomed-job' },
        execution: { id: execution.id, status: 'lost', worker: workerId },
      });
      expect(lost?.deliveries).toEqual([{ channel: 'log', delivery: { status: 'delivered' } }]);
    }, 15_000);
    expect((await call('GET', `/api/executions/${execution.id}`)).body.status).toBe('lost');
  }, 20_000);

  it('says nothing when a worker leaves politely', async () => {
    const register = async (host: string) =>
      (
        await call('POST', '/api/workers', {
          group: 'g',
          targets: ['x'],
          capacity: 1,
          host,
          pid: 1,
        })
      ).body.workerId as string;
    const polite = await register('polite-host');
    expect((await call('DELETE', `/api/workers/g/${polite}`)).statusCode).toBe(204);
    // A canary registered after it and left to expire: once its loss is reported, the
    // polite worker's goodbye (earlier in the same watch) has been handled too.
    const canary = await register('canary-host');
    const lostIds = async () =>
      (await alerts())
        .filter((a) => a.alert.event === 'worker_lost')
        .map((a) => a.alert.worker.id as string);
    await eventually(async () => expect(await lostIds()).toContain(canary), 15_000);
    expect(await lostIds()).not.toContain(polite);
  }, 20_000);
});
