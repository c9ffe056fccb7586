import { randomUUID } from 'node:crypto';
import {
  ExecutionRecord,
  Keyspace,
  MisfirePolicy,
  executionId,
  scheduledExecKey,
} from '@forest/protocol';
import { EtcdStore, KeyValue, rangeAll } from '@forest/store';
import { historySortKey } from '../../src/history/history.port';
import { EtcdClusterHarness, EtcdMember } from '../support/etcd-cluster-harness';
import { NodeProcess } from '../support/node-process';
import { getJson, postJson, waitForSingleLeader } from '../support/node-api';
import { eventually, sleep } from '../support/wait';
import { WorkerProcess } from '../support/worker-process';

const SECOND = 1000;
/** How long each killed etcd member stays down. */
const MEMBER_DOWN_MS = 6 * SECOND;
/** How long the cluster runs on after a member is back, before the next kill. */
const SETTLE_MS = 3 * SECOND;
/**
 * Latest a fire may be written after its scheduled time. A raft leader's death loses the
 * writes followers had forwarded to it; they fail only at the request deadline
 * (FOREST_ETCD_DIAL_TIMEOUT_MS, default 5 s) and are then retried: about 3 s late here.
 */
const MAX_FIRE_LATE_MS = 8 * SECOND;

const POLICIES: Record<Exclude<MisfirePolicy, 'skip'>, string[]> = {
  fire_all: ['fa-1', 'fa-2'],
  fire_once: ['fo-1', 'fo-2'],
};
const ALL_JOBS = Object.values(POLICIES).flat();

/** One etcd member SIGKILL: which member, whether it was the raft leader, and when. */
interface MemberKill {
  member: string;
  raftLeader: boolean;
  killedAt: number;
  restartedAt: number;
  /** Node id -> the etcd members (names) it held TCP connections to just before the kill. */
  connections: Record<string, string[]>;
  /** `/health` answers of the Forest nodes while the member was down: status -> count. */
  healthDuringOutage: Record<string, number>;
  /** The Forest leader before the kill and after the member was back. */
  forestLeaderBefore: string;
  forestLeaderAfter: string;
}

/**
 * Forest on a real 3-member etcd cluster: three node processes, each configured with all
 * three endpoints (in a different order), two worker processes, and per-second jobs under
 * fire_all and fire_once. While they fire, each etcd member is SIGKILLed in turn (followers
 * first, every node thereby losing the member it lists first, and every member it holds a
 * connection to), then the raft leader; each comes back after a few seconds.
 *
 * The etcd3 client sends each call to a host of its list picked at random (a fresh shuffle
 * per call, the next host on a retry), so a node holds connections to every member, not one:
 * which members each node is connected to is read from /proc before each kill and reported.
 *
 * Asserted from etcd's own records and the workers' handler records: firing went on during
 * and after every outage; fire_all has one execution for every second, fire_once fills a gap
 * only with one catch-up; no scheduled second has two executions; no execution ran twice; every
 * execution ends succeeded; every node process is alive at the end and answers /health 200.
 */
describe('Forest on a 3-member etcd cluster: members and the raft leader killed while jobs fire', () => {
  let etcd: EtcdClusterHarness | undefined;
  const nodes: NodeProcess[] = [];
  const workers: WorkerProcess[] = [];
  const prefix = `/forest-etcdcluster-${randomUUID().slice(0, 8)}`;

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
    await etcd?.stop();
  });

  async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let lastError: unknown;
    for (const node of nodes) {
      try {
        const response = await fetch(`${node.baseUrl}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text}`);
        return JSON.parse(text) as T;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** Polls every node's /health every 250 ms until `stop` resolves; counts the answers. */
  async function pollHealth(until: Promise<void>): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let done = false;
    void until.then(() => (done = true));
    while (!done) {
      await Promise.all(
        nodes.map(async (node) => {
          let answer: string;
          try {
            const response = await fetch(`${node.baseUrl}/health`, {
              signal: AbortSignal.timeout(3000),
            });
            answer = String(response.status);
          } catch (error) {
            answer = `error ${(error as Error).name}`;
          }
          counts[answer] = (counts[answer] ?? 0) + 1;
        }),
      );
      await sleep(250);
    }
    return counts;
  }

  async function killMember(member: EtcdMember, raftLeader: boolean): Promise<MemberKill> {
    const connections = Object.fromEntries(
      nodes.map((node) => [
        node.nodeId!,
        etcd!.connectedMembers(node.child.pid!).map((connected) => connected.name),
      ]),
    );
    const forestLeaderBefore = await waitForSingleLeader(nodes);
    const killedAt = Date.now();
    await member.kill('SIGKILL');
    const healthDuringOutage = await pollHealth(sleep(MEMBER_DOWN_MS));
    await member.restart();
    const restartedAt = Date.now();
    await etcd!.waitHealthy();
    const forestLeaderAfter = await waitForSingleLeader(nodes, 20 * SECOND);
    return {
      member: member.name,
      raftLeader,
      killedAt,
      restartedAt,
      connections,
      healthDuringOutage,
      forestLeaderBefore,
      forestLeaderAfter,
    };
  }

  it('keeps firing exactly once, catches up per policy, and no node exits', async () => {
    etcd = await EtcdClusterHarness.start(3);
    const endpoints = etcd.endpoints;
    // Each node lists the members in a different order: node i lists member i first.
    for (const [i, id] of ['n1', 'n2', 'n3'].entries()) {
      const ordered = [...endpoints.slice(i), ...endpoints.slice(0, i)];
      nodes.push(
        await NodeProcess.start({
          FOREST_ETCD_ENDPOINTS: ordered.join(','),
          FOREST_KEY_PREFIX: prefix,
          FOREST_NODE_ID: id,
          FOREST_LOG_LEVEL: 'warn',
        }),
      );
    }
    const started = Date.now();
    await explained(async () => {
      await waitForSingleLeader(nodes);
      await postJson(nodes[0], '/api/groups', { name: 'g' });
      for (const [policy, ids] of Object.entries(POLICIES)) {
        for (const id of ids) {
          await postJson(nodes[0], '/api/jobs', {
            id,
            name: `every second, ${policy}`,
            group: 'g',
            target: 't',
            schedule: { cron: '* * * * * *', timezone: 'UTC' },
            misfire: { policy, catchUpWindowMs: 3_600_000 },
          });
        }
      }
      for (const name of ['wa', 'wb']) {
        workers.push(
          await WorkerProcess.start({
            nodes: nodes.map((node) => node.baseUrl),
            group: 'g',
            name,
            concurrency: 8,
            sleepMs: 50,
          }),
        );
      }
      for (const node of nodes) {
        await eventually(async () => {
          expect((await getJson<{ total: number }>(node, '/api/plan')).total).toBe(ALL_JOBS.length);
        }, 10_000);
      }
      await sleep(4 * SECOND);

      // The followers first (in the order of the nodes that list them first), then the
      // raft leader: every member goes down once, every node loses its first-listed member.
      const raftLeader = await etcd!.leader();
      const followers = etcd!.members.filter((member) => member !== raftLeader);
      const kills: MemberKill[] = [];
      for (const follower of followers) {
        kills.push(await killMember(follower, false));
        await sleep(SETTLE_MS);
      }
      const leaderNow = await etcd!.leader();
      kills.push(await killMember(leaderNow, true));
      await sleep(5 * SECOND);
      const firingUntil = Date.now();

      // Every node process lived through it and is healthy.
      for (const node of nodes) {
        expect({ node: node.nodeId, exit: node.child.exitCode ?? node.child.signalCode }).toEqual({
          node: node.nodeId,
          exit: null,
        });
        const health = await fetch(`${node.baseUrl}/health`, { signal: AbortSignal.timeout(3000) });
        expect({ node: node.nodeId, status: health.status }).toEqual({
          node: node.nodeId,
          status: 200,
        });
      }
      for (const worker of workers) expect(worker.alive).toBe(true);

      // A dead follower costs nothing visible: every node answered /health 200 throughout.
      for (const kill of kills.filter((k) => !k.raftLeader)) {
        expect({ member: kill.member, health: Object.keys(kill.healthDuringOutage) }).toEqual({
          member: kill.member,
          health: ['200'],
        });
      }
      // Every node lost, at some point, a member it held a connection to.
      for (const node of nodes) {
        const lost = kills.filter((kill) => kill.connections[node.nodeId!].includes(kill.member));
        expect({ node: node.nodeId, lostAConnectedMember: lost.length > 0 }).toEqual({
          node: node.nodeId,
          lostAConnectedMember: true,
        });
      }

      // Stop firing, then let the workers finish what was fired.
      for (const id of ALL_JOBS) await api('POST', `/api/jobs/${id}/pause`, {});
      const pausedAt = Date.now();

      const store = new EtcdStore({ endpoints, prefix: `${prefix}/` });
      let executionKvs: KeyValue[];
      try {
        // Finished executions move from `executions/` (live) to `history/`: once every one
        // has moved, each fire is recorded exactly once, in the history.
        await eventually(async () => {
          const live = await rangeAll(store, Keyspace.executions);
          expect(live.map((kv) => kv.key)).toEqual([]);
        }, 30 * SECOND);
        executionKvs = await rangeAll(store, Keyspace.history);
      } finally {
        await store.close();
      }

      const records = executionKvs.map((kv) => {
        const record = JSON.parse(kv.value) as ExecutionRecord;
        expect(kv.key).toBe(Keyspace.historyEntry(historySortKey(record.id)));
        expect(record.id).toBe(executionId(record.jobId, scheduledExecKey(record.scheduledMs)));
        expect(record).toMatchObject({ trigger: 'schedule', attempt: 1, status: 'succeeded' });
        return record;
      });

      const summary: Record<string, unknown>[] = [];
      for (const [policy, ids] of Object.entries(POLICIES) as [MisfirePolicy, string[]][]) {
        for (const jobId of ids) {
          const fired = records
            .filter((record) => record.jobId === jobId)
            .sort((a, b) => a.scheduledMs - b.scheduledMs);
          const seconds = fired.map((record) => record.scheduledMs);
          // No scheduled second has two executions.
          expect(new Set(seconds).size).toBe(seconds.length);
          expect(seconds.every((ms) => ms % SECOND === 0)).toBe(true);

          const first = seconds[0];
          const last = seconds[seconds.length - 1];
          expect(first).toBeLessThan(kills[0].killedAt - 2 * SECOND);
          // Fired on after the last member came back, up to the pause.
          expect(last).toBeGreaterThanOrEqual(firingUntil - 2 * SECOND);
          expect(last).toBeLessThanOrEqual(pausedAt + 2 * SECOND);

          // Fired during every outage and after it: a fire for each second of the window
          // (fire_all), or at most one catch-up per gap (fire_once); see below.
          for (const kill of kills) {
            const during = seconds.filter(
              (ms) => ms >= kill.killedAt && ms <= kill.restartedAt,
            ).length;
            expect({ job: jobId, member: kill.member, firedDuringOutage: during > 0 }).toEqual({
              job: jobId,
              member: kill.member,
              firedDuringOutage: true,
            });
          }

          // Losing a follower is no misfire: nothing fired in its window was a catch-up.
          for (const kill of kills.filter((k) => !k.raftLeader)) {
            const caughtUp = fired
              .filter(
                (record) =>
                  record.catchUp &&
                  record.scheduledMs >= kill.killedAt - SECOND &&
                  record.scheduledMs <= kill.restartedAt + SETTLE_MS,
              )
              .map((record) => clock(record.scheduledMs));
            expect({ job: jobId, member: kill.member, caughtUp }).toEqual({
              job: jobId,
              member: kill.member,
              caughtUp: [],
            });
          }
          // Losing the raft leader stalls writes at most a request deadline (5 s) and a retry.
          const lateness = fired.map((record) => Date.parse(record.firedAt) - record.scheduledMs);
          expect(Math.max(...lateness)).toBeLessThan(MAX_FIRE_LATE_MS);

          const missing: number[] = [];
          for (let at = first, i = 0; at <= last; at += SECOND) {
            if (seconds[i] === at) i++;
            else missing.push(at);
          }
          if (policy === 'fire_all') {
            expect({ job: jobId, missing }).toEqual({ job: jobId, missing: [] });
          } else {
            // fire_once: a run of missed seconds is followed by one catch-up of the latest.
            for (const gap of missing) {
              const next = fired.find((record) => record.scheduledMs > gap);
              expect({ job: jobId, after: gap, next: next?.catchUp }).toEqual({
                job: jobId,
                after: gap,
                next: true,
              });
            }
          }
          const catchUps = fired.filter((record) => record.catchUp).map((r) => r.scheduledMs);
          summary.push({
            jobId,
            fires: seconds.length,
            missing: missing.map(clock),
            catchUps: catchUps.map(clock),
            maxFiredLateMs: Math.max(...lateness),
          });
        }
      }

      // Each execution started once: no duplicate handler run across the workers.
      const starts = workers.flatMap((worker) => worker.starts);
      const startCounts = new Map<string, number>();
      for (const start of starts) startCounts.set(start.id, (startCounts.get(start.id) ?? 0) + 1);
      const startedTwice = [...startCounts].filter(([, count]) => count > 1);
      expect(startedTwice).toEqual([]);
      // ... and every execution fired was started by a worker.
      expect(records.filter((record) => !startCounts.has(record.id)).map((r) => r.id)).toEqual([]);

      console.log(
        `etcd cluster run (${Math.round((Date.now() - started) / SECOND)} s): ` +
          `${records.length} executions, ${starts.length} handler starts; watch streams lost: ` +
          `${JSON.stringify(Object.fromEntries(nodes.map((n) => [n.nodeId, n.log.split('lost its stream').length - 1])))}\n` +
          kills
            .map((kill) =>
              JSON.stringify({
                ...kill,
                killedAt: clock(kill.killedAt),
                restartedAt: clock(kill.restartedAt),
              }),
            )
            .join('\n') +
          '\n' +
          summary.map((row) => JSON.stringify(row)).join('\n'),
      );
    });
  }, 180_000);

  /** Runs the test body; on failure prints what the nodes, workers and etcd members said. */
  async function explained(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      console.log(
        nodes
          .map((node) => `--- node ${node.nodeId} (tail) ---\n${node.log.slice(-6000)}`)
          .join('\n') +
          '\n' +
          workers.map((worker) => worker.describe().slice(-4000)).join('\n') +
          '\n' +
          (etcd?.members ?? [])
            .map((member) => `--- etcd ${member.name} ---\n${member.log}`)
            .join('\n'),
      );
      throw error;
    }
  }
});

/** `ss.mmm` of a wall-clock time: enough to line fires up with kills in the summary. */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(17, 23);
}
