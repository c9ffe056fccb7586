import { randomUUID } from 'node:crypto';
import { EtcdStore } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';
import { getJson, waitForSingleLeader } from '../support/node-api';
import { eventually, sleep } from '../support/wait';

const TTL_S = 2;

interface Self {
  id: string;
  leader: boolean;
  leaderId?: string;
}

/**
 * Three scheduler nodes as separate processes on one real etcd, killed and paused the way
 * production breaks them. Each test gets its own key prefix, so clusters never mix.
 */
describe('leader election across node processes', () => {
  let etcd: EtcdHarness;
  let nodes: NodeProcess[] = [];
  let prefix: string;

  beforeAll(async () => {
    etcd = await EtcdHarness.start();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  beforeEach(async () => {
    prefix = `/forest-cluster-${randomUUID().slice(0, 8)}`;
    // One after another: three nodes transpiling at once on two cores only slows each down.
    nodes = [];
    for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(id));
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
  });

  function startNode(id: string): Promise<NodeProcess> {
    return NodeProcess.start({
      FOREST_ETCD_ENDPOINTS: etcd.endpoint,
      FOREST_KEY_PREFIX: prefix,
      FOREST_NODE_ID: id,
      FOREST_LEASE_TTL_S: String(TTL_S),
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
      FOREST_LOG_LEVEL: 'warn',
    });
  }

  it('elects exactly one leader and every node reports the same one', async () => {
    const leaderId = await waitForSingleLeader(nodes);
    for (const node of nodes) {
      const leader = await getJson<{ id: string; fencingToken: number }>(node, '/api/nodes/leader');
      expect(leader.id).toBe(leaderId);
      expect(leader.fencingToken).toBeGreaterThan(0);
      const list = await getJson<{ id: string; leader: boolean }[]>(node, '/api/nodes');
      expect(list.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
      expect(list.filter((n) => n.leader).map((n) => n.id)).toEqual([leaderId]);
    }
  });

  it('fails over within the lease TTL + 1 s after the leader is SIGKILLed', async () => {
    const leaderId = await waitForSingleLeader(nodes);
    const leader = nodes.find((node) => node.nodeId === leaderId)!;
    const survivors = nodes.filter((node) => node !== leader);

    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    const newLeader = await waitForSingleLeader(survivors, (TTL_S + 1) * 1000);
    const elapsed = Date.now() - killedAt;
    expect(newLeader).not.toBe(leaderId);
    expect(elapsed).toBeLessThanOrEqual((TTL_S + 1) * 1000);

    // The dead node's registration expired with its lease.
    const list = await getJson<{ id: string }[]>(survivors[0], '/api/nodes');
    expect(list.map((n) => n.id)).not.toContain(leaderId);
  });

  it('fails over within about a second when the leader stops gracefully (it resigns)', async () => {
    const leaderId = await waitForSingleLeader(nodes);
    const leader = nodes.find((node) => node.nodeId === leaderId)!;
    const survivors = nodes.filter((node) => node !== leader);

    const stoppedAt = Date.now();
    expect(await leader.stop('SIGTERM')).toBe('SIGTERM');
    const newLeader = await waitForSingleLeader(survivors, 5000);
    expect(newLeader).not.toBe(leaderId);
    // Well under the TTL: the resignation, not the lease expiry, handed over.
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_S * 1000);
  });

  it('a leader paused longer than its TTL is deposed and steps down when it resumes', async () => {
    const leaderId = await waitForSingleLeader(nodes);
    const leader = nodes.find((node) => node.nodeId === leaderId)!;
    const others = nodes.filter((node) => node !== leader);

    leader.child.kill('SIGSTOP');
    const newLeader = await waitForSingleLeader(others, (TTL_S + 2) * 1000);
    expect(newLeader).not.toBe(leaderId);
    leader.child.kill('SIGCONT');

    // After resuming, the old leader learns it lost and follows the new one.
    await eventually(async () => {
      const self = await getJson<Self>(leader, '/api/nodes/self');
      expect(self.leader).toBe(false);
    }, 10_000);
    expect(await waitForSingleLeader(nodes, 15_000)).toBe(newLeader);
  });

  it('survives etcd stopping for a few seconds and ends with exactly one leader', async () => {
    await waitForSingleLeader(nodes);
    await etcd.kill();
    await sleep(TTL_S * 1000 + 1500);
    await etcd.restart();

    const leaderId = await waitForSingleLeader(nodes, 30_000);
    expect(nodes.every((node) => node.child.exitCode === null)).toBe(true);
    for (const node of nodes) {
      const self = await getJson<Self>(node, '/api/nodes/self');
      expect(self.leader).toBe(self.id === leaderId);
    }
  });

  it('a leader whose lease is revoked behind its back demotes itself and another leads', async () => {
    const leaderId = await waitForSingleLeader(nodes);
    const leader = nodes.find((node) => node.nodeId === leaderId)!;
    const store = new EtcdStore({ endpoints: [etcd.endpoint], prefix: `${prefix}/` });
    try {
      const registration = await store.get(`nodes/${leaderId}`);
      expect(registration?.lease).toBeDefined();
      await store.revokeLease(registration!.lease!);
    } finally {
      await store.close();
    }
    await eventually(async () => {
      const self = await getJson<Self>(leader, '/api/nodes/self');
      expect(self.leader).toBe(false);
    }, 5000);
    // It rejoins as a candidate on a new lease, behind the others.
    const newLeader = await waitForSingleLeader(nodes, 10_000);
    expect(newLeader).not.toBe(leaderId);
  });
});
