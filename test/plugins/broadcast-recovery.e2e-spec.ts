import { startTestApp, TestApp } from '../support/app-harness';
import { eventually } from '../support/wait';
import { Json, workerSessionInject } from '../support/http-inject';

/**
 * A broadcast shard whose worker dies before starting it is placed again, on one live
 * worker, and keeps its shard number: the broadcast still runs every shard exactly once.
 * Workers speak the protocol by hand so one can fall silent on cue.
 */
describe('broadcast shard recovery', () => {
  let subject: TestApp;

  beforeAll(async () => {
    subject = await startTestApp({ store: 'embedded', env: { FOREST_WORKER_TTL_S: '2' } });
    expect((await call('POST', '/api/groups', { name: 'g' })).statusCode).toBe(201);
  });

  afterAll(async () => {
    await subject?.close();
  });

  /** Calls under a worker id carry that worker's session secret. */
  const call = workerSessionInject(() => subject.app);

  async function register(host: string): Promise<string> {
    const response = await call('POST', '/api/workers', {
      group: 'g',
      targets: ['sweep'],
      capacity: 2,
      host,
      pid: 1,
    });
    expect(response.statusCode).toBe(201);
    return response.body.workerId as string;
  }

  async function inbox(workerId: string): Promise<Json[]> {
    return (await call('GET', `/api/workers/g/${workerId}/assignments?waitMs=0`)).body
      .assignments as Json[];
  }

  it('moves a dead worker’s shard to a live one, keeping its index and total', async () => {
    const survivor = await register('survivor');
    const doomed = await register('doomed');
    // The survivor keeps heartbeating; the doomed worker never does, so its lease (2 s) ends.
    const heartbeat = setInterval(() => {
      void call('POST', `/api/workers/g/${survivor}/heartbeat`, {});
    }, 300);
    try {
      expect(
        (
          await call('POST', '/api/jobs', {
            id: 'sweep-caches',
            name: 'sweep caches',
            group: 'g',
            schedule: { cron: '0 0 1 1 *' },
            target: 'sweep',
            state: 'paused',
            dispatch: { strategy: 'broadcast', options: {} },
          })
        ).statusCode,
      ).toBe(201);
      const first = (await call('POST', '/api/jobs/sweep-caches/trigger', {})).body;
      const list = async () =>
        (
          (await call('GET', '/api/executions?jobId=sweep-caches&order=asc')).body.items as Json[]
        ).map((e) => ({ id: e.id, worker: e.worker, status: e.status, shard: e.shard }));
      await eventually(async () => expect(await list()).toHaveLength(2), 5000);
      const shards = await list();
      expect(shards.map((e) => e.id)).toEqual([first.id, `${first.id}.s1`]);
      const onDoomed = shards.find((e) => e.worker === doomed)!;
      const onSurvivor = shards.find((e) => e.worker === survivor)!;
      expect(onDoomed.shard.total).toBe(2);
      expect((await inbox(survivor)).map((a) => a.executionId)).toEqual([onSurvivor.id]);

      await eventually(async () => {
        const now = await list();
        expect(now.find((e) => e.id === onDoomed.id)).toEqual({
          ...onDoomed,
          worker: survivor,
          status: 'assigned',
        });
      }, 10_000);
      const assignments = await inbox(survivor);
      expect(assignments.map((a) => [a.executionId, a.shard])).toEqual(
        expect.arrayContaining([
          [onSurvivor.id, onSurvivor.shard],
          [onDoomed.id, onDoomed.shard],
        ]),
      );
      // Still two records: the shard moved, the broadcast did not fan out again.
      expect(await list()).toHaveLength(2);
    } finally {
      clearInterval(heartbeat);
    }
  }, 20_000);
});
