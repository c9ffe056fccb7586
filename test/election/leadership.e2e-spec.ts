import { Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { NotLeaderError } from '../../src/election/election.errors';
import { LeadershipEvent } from '../../src/election/leadership.events';
import { LeadershipService } from '../../src/election/leadership.service';
import { createCoordinationStore } from '../../src/store/store.factory';
import { COORDINATION_STORE } from '../../src/store/store.tokens';
import { startTestApp, StoreKind, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';
import { waitFor } from '../support/wait';

describe.each<StoreKind>(['embedded', 'etcd'])('LeadershipService on the %s store', (kind) => {
  let etcd: EtcdHarness | undefined;
  let subject: TestApp;
  let leadership: LeadershipService;
  let store: CoordinationStore;

  beforeAll(async () => {
    if (kind === 'etcd') etcd = await EtcdHarness.start();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  beforeEach(async () => {
    subject = await startTestApp({
      store: kind,
      etcdEndpoint: etcd?.endpoint,
      env: { FOREST_LEASE_TTL_S: '2' },
    });
    leadership = subject.app.get(LeadershipService);
    store = subject.app.get(COORDINATION_STORE);
  });

  afterEach(async () => {
    await subject?.close();
  });

  it('a single node leads as soon as it has started, and is listed as leader', async () => {
    expect(leadership.isLeader).toBe(true);
    expect(leadership.leaderId).toBe('test-node');
    expect(leadership.fencingToken).toBeGreaterThan(0);

    const nodes = await subject.app.inject({ method: 'GET', url: '/api/nodes' });
    expect(nodes.json()).toEqual([
      expect.objectContaining({ id: 'test-node', leader: true, uptimeMs: expect.any(Number) }),
    ]);
    const leader = await subject.app.inject({ method: 'GET', url: '/api/nodes/leader' });
    expect(leader.json()).toMatchObject({
      id: 'test-node',
      fencingToken: leadership.fencingToken,
      address: subject.config.advertiseUrl,
    });
  });

  it('puts its registration back when it is deleted behind its back', async () => {
    const key = Keyspace.node('test-node');
    const lease = (await store.get(key))!.lease;
    await store.delete(key);
    const deadline = Date.now() + 5000;
    while (!(await store.get(key)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await store.get(key)).toMatchObject({ lease });
    expect(leadership.isLeader).toBe(true);
  });

  it('commits fenced writes while leading, with the caller compares still applied', async () => {
    const ok = await leadership.fencedTxn({
      compare: [{ key: 'fenced/a', target: 'version', op: '==', value: 0 }],
      success: [{ type: 'put', key: 'fenced/a', value: '1' }],
    });
    expect(ok.succeeded).toBe(true);
    // The caller's own compare failing is an ordinary failed txn, not a lost fence.
    const again = await leadership.fencedTxn({
      compare: [{ key: 'fenced/a', target: 'version', op: '==', value: 0 }],
      success: [{ type: 'put', key: 'fenced/a', value: '2' }],
      failure: [{ type: 'get', key: 'fenced/a' }],
    });
    expect(again.succeeded).toBe(false);
    expect(again.results).toEqual([{ type: 'get', kv: expect.objectContaining({ value: '1' }) }]);
    expect(leadership.isLeader).toBe(true);
  });

  it('a revoked lease blocks every fenced write, demotes the node, and it is elected anew', async () => {
    const token = leadership.fencingToken!;
    const events: Promise<LeadershipEvent[]> = firstValueFrom(
      leadership.events$.pipe(take(2), toArray()),
    );
    const registration = await store.get(Keyspace.node('test-node'));
    // Behind the node's back: as if its lease expired during a long pause.
    await store.revokeLease(registration!.lease!);

    await expect(
      leadership.fencedTxn({
        compare: [],
        success: [{ type: 'put', key: 'fenced/stale', value: 'x' }],
      }),
    ).rejects.toBeInstanceOf(NotLeaderError);
    expect(await store.get('fenced/stale')).toBeUndefined();

    const [demoted, elected] = await events;
    expect(demoted).toMatchObject({ type: 'demoted', nodeId: 'test-node' });
    expect(elected).toMatchObject({ type: 'elected', nodeId: 'test-node' });
    // The new term has a new, higher token; the old one can never pass the fence again.
    expect((elected as { token: number }).token).toBeGreaterThan(token);
    expect(leadership.fencingToken).toBe((elected as { token: number }).token);
  });

  it('a txn carrying a stale token cannot commit even before the node notices', async () => {
    const token = leadership.fencingToken!;
    const elected = firstValueFrom(
      leadership.events$.pipe(filter((event) => event.type === 'elected')),
    );
    // Right after the previous test's re-election the node may not have re-registered yet.
    const registration = await waitFor(
      () => store.get(Keyspace.node('test-node')),
      (kv) => kv?.lease !== undefined,
    );
    await store.revokeLease(registration!.lease!);
    // The exact compare fencedTxn adds, sent straight away: the store refuses it.
    const stale = await store.txn({
      compare: [
        { key: Keyspace.candidate('test-node'), target: 'createRevision', op: '==', value: token },
      ],
      success: [{ type: 'put', key: 'fenced/stale2', value: 'x' }],
    });
    expect(stale.succeeded).toBe(false);
    expect(await store.get('fenced/stale2')).toBeUndefined();
    await elected;
  });

  it('resigns on shutdown: its node and candidate keys are gone at once', async () => {
    expect(await store.get(Keyspace.candidate('test-node'))).toBeDefined();
    await subject.stop();
    // Read what the node left behind through a fresh store on the same data.
    const after = await createCoordinationStore(subject.config);
    try {
      expect((await after.range(Keyspace.nodes)).kvs).toEqual([]);
      expect((await after.range(Keyspace.election)).kvs).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
