import { Client } from 'pg';
import { executionKeyOf, ExecutionRecord } from '@forest/protocol';
import { EtcdStore } from '@forest/store';
import { PostgresHarness } from '../support/postgres-harness';
import { ApiExecution, LifecycleRig } from '../support/lifecycle-rig';
import { eventually } from '../support/wait';

/**
 * Moving a finished execution to PostgreSQL is "append, then delete from etcd". This test
 * kills the node between the two steps, for real: it holds a lock on the history table so
 * the node's append waits, lets the execution finish in etcd, freezes etcd (SIGSTOP), lets
 * the append commit, sees the row in PostgreSQL, and SIGKILLs the node while its etcd
 * delete hangs on the frozen etcd. After etcd resumes, a second node leads and its history
 * sweeper finds the final record still in etcd: the append finds the row there already,
 * the delete goes through, and the execution is recorded exactly once.
 */
describe('a node killed between the history append and the etcd delete loses and duplicates nothing', () => {
  let postgres: PostgresHarness;
  let rig: LifecycleRig;
  let store: EtcdStore;
  let sql: Client;

  beforeAll(async () => {
    postgres = await PostgresHarness.start();
    rig = await LifecycleRig.start(['h1'], {
      FOREST_HISTORY_URL: postgres.url,
      FOREST_HISTORY_SWEEP_S: '1',
      FOREST_LEASE_TTL_S: '3',
    });
    store = new EtcdStore({ endpoints: [rig.etcd.endpoint], prefix: `${rig.prefix}/` });
    sql = new Client({ connectionString: postgres.url });
    await sql.connect();
    await rig.api('POST', '/api/groups', { name: 'hc' });
    const worker = await rig.startWorker({ group: 'hc', name: 'hc-w', sleepMs: 300 });
    await rig.waitListed('hc', worker.workerId!);
  });

  afterAll(async () => {
    if (rig?.etcd.pid) process.kill(rig.etcd.pid, 'SIGCONT');
    await sql?.end();
    await store?.close();
    await rig?.close();
    await postgres?.stop();
  });

  it('finds the execution exactly once after the crash', async () => {
    await rig.api('POST', '/api/jobs', {
      id: 'hc-job',
      name: 'crash between append and delete',
      group: 'hc',
      target: 't',
      schedule: { cron: '0 0 1 1 *' },
      state: 'paused',
    });
    const rows = async (id: string) =>
      Number(
        (await sql.query('SELECT count(*) AS n FROM forest_executions WHERE id = $1', [id])).rows[0]
          .n,
      );

    // The node's append will wait for this lock.
    const blocker = new Client({ connectionString: postgres.url });
    // A failed run stops PostgreSQL under it: that is not this test's finding.
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE forest_executions IN ACCESS EXCLUSIVE MODE');

    const triggered = await rig.api<ApiExecution>('POST', '/api/jobs/hc-job/trigger', {});
    const key = executionKeyOf(triggered.id)!;
    // Finished in etcd; its append is waiting for the lock.
    try {
      await eventually(async () => {
        const kv = await store.get(key);
        expect(kv && (JSON.parse(kv.value) as ExecutionRecord).status).toBe('succeeded');
      }, 15_000);
    } catch (error) {
      await blocker.end();
      throw error;
    }

    process.kill(rig.etcd.pid!, 'SIGSTOP');
    const crashed = rig.nodes[0];
    try {
      await blocker.query('COMMIT');
      await blocker.end();
      // The append committed; the delete that follows hangs on the frozen etcd.
      await eventually(async () => expect(await rows(triggered.id)).toBe(1), 10_000);
      await crashed.stop('SIGKILL');
      rig.nodes = rig.nodes.filter((node) => node !== crashed);
    } finally {
      process.kill(rig.etcd.pid!, 'SIGCONT');
    }
    // Still in etcd, final, and already in PostgreSQL: the state the crash left.
    expect(await store.get(key)).toBeDefined();
    expect(await rows(triggered.id)).toBe(1);

    await rig.startNode('h2');
    await rig.leader(30_000);
    await eventually(async () => expect(await store.get(key)).toBeUndefined(), 30_000);
    expect(await rows(triggered.id)).toBe(1);
    const listed = await rig.listExecutions('hc-job');
    expect(listed.map((execution) => execution.id)).toEqual([triggered.id]);
    expect(listed[0].status).toBe('succeeded');
    const fetched = await rig.api<ApiExecution>('GET', `/api/executions/${triggered.id}`);
    expect(fetched).toMatchObject({ id: triggered.id, status: 'succeeded' });
  });
});
