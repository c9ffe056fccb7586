import { randomUUID } from 'node:crypto';
import {
  ExecutionRecord,
  JobStateRecord,
  Keyspace,
  MisfirePolicy,
  scheduledExecKey,
} from '@forest/protocol';
import { EtcdStore, KeyValue, rangeAll } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';
import { NodeProcess } from '../support/node-process';
import { getJson, postJson, waitForSingleLeader } from '../support/node-api';
import { eventually, sleep } from '../support/wait';

const TTL_S = 2;
const SECOND = 1000;

interface PlanPage {
  node: string;
  leader: string | null;
  firing: boolean;
  total: number;
}

/** One leader SIGKILL: who died when, who took over, and how long that took. */
interface Kill {
  nodeId: string;
  at: number;
  newLeader: string;
  failoverMs: number;
}

const jobIds = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
const POLICIES: Record<MisfirePolicy, string[]> = {
  fire_all: jobIds('fa', 20),
  skip: jobIds('sk', 5),
  fire_once: jobIds('fo', 5),
};
const ALL_JOBS = Object.values(POLICIES).flat();

/**
 * The planner's exactly-once promise end to end: three node processes on one real etcd,
 * 30 per-second jobs, the leader SIGKILLed twice within a minute. Every execution the
 * cluster wrote is then read straight from etcd: under fire_all every scheduled second of
 * the window has exactly one execution, and under no policy does a scheduled time have two.
 *
 * Each kill is timed late in a second (x.85-x.95 s), after the leader fired second x and
 * before x+1 is due. The lease then expires at least TTL - TTL/3 (the keep-alive period)
 * = 1.33 s later, so the new leader starts firing after x+2.2 s, when x+1 is more than the
 * misfire threshold (1 s) late: a misfire, whatever the exact failover time. That makes the
 * policies' differences deterministic: fire_all and fire_once catch x+1 up (fire_once
 * possibly a later second instead), skip drops it.
 *
 * The suite runs twice: with fires written at their scheduled time (lookahead 0), where the
 * per-policy checks after each kill are deterministic, and with the default 1 s lookahead,
 * where only the exactly-once checks are (the successor may pre-write a second before it
 * becomes a misfire).
 *
 * Each killed node is restarted under the same id once a new leader is elected, so the
 * cluster is back at three nodes (the restarted one joins behind the others and does not
 * lead) before the next kill.
 */
describe.each([0, 1000])(
  'planner across node processes with leader failovers (fire lookahead %i ms)',
  (lookaheadMs) => {
    let etcd: EtcdHarness;
    let nodes: NodeProcess[] = [];
    /** Every process started, also the killed ones: their output explains a failure. */
    const started: NodeProcess[] = [];
    const prefix = `/forest-planner-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      etcd = await EtcdHarness.start();
    });

    afterAll(async () => {
      await Promise.all(started.map((node) => node.stop('SIGKILL')));
      await etcd?.stop();
    });

    async function startNode(id: string): Promise<NodeProcess> {
      const node = await NodeProcess.start({
        FOREST_ETCD_ENDPOINTS: etcd.endpoint,
        FOREST_KEY_PREFIX: prefix,
        FOREST_NODE_ID: id,
        FOREST_LEASE_TTL_S: String(TTL_S),
        FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
        FOREST_LOG_LEVEL: 'warn',
        FOREST_FIRE_LOOKAHEAD_MS: String(lookaheadMs),
      });
      started.push(node);
      return node;
    }

    /**
     * SIGKILLs the current leader late in a second, waits for the survivors to elect a new
     * one, then restarts the killed node id so three nodes run again.
     */
    async function killLeader(): Promise<Kill> {
      const leaderId = await waitForSingleLeader(nodes);
      const leader = nodes.find((node) => node.nodeId === leaderId)!;
      expect((await getJson<PlanPage>(leader, '/api/plan')).firing).toBe(true);
      const survivors = nodes.filter((node) => node !== leader);

      const at = await lateInSecond();
      await leader.stop('SIGKILL');
      const newLeader = await waitForSingleLeader(survivors, (TTL_S + 3) * SECOND);
      const failoverMs = Date.now() - at;
      expect(newLeader).not.toBe(leaderId);

      nodes = [...survivors, await startNode(leaderId)];
      return { nodeId: leaderId, at, newLeader, failoverMs };
    }

    it('fire_all fires every scheduled second exactly once across two leader SIGKILLs; no policy fires a time twice', async () => {
      // One after another: three nodes transpiling at once on two cores only slows each down.
      for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(id));
      await waitForSingleLeader(nodes);

      await postJson(nodes[0], '/api/groups', { name: 'g' });
      const activeSince = new Map<string, number>();
      const policyOf = new Map<string, MisfirePolicy>();
      for (const [policy, ids] of Object.entries(POLICIES) as [MisfirePolicy, string[]][]) {
        for (const id of ids) {
          const job = await postJson<{ createdAt: string }>(nodes[0], '/api/jobs', {
            id,
            name: `every second, ${policy}`,
            group: 'g',
            target: 't',
            schedule: { cron: '* * * * * *', timezone: 'UTC' },
            misfire: { policy, catchUpWindowMs: 3_600_000 },
          });
          activeSince.set(id, Date.parse(job.createdAt));
          policyOf.set(id, policy);
        }
      }
      // Every node plans every job (the leader fires them).
      for (const node of nodes) {
        await eventually(async () => {
          expect((await getJson<PlanPage>(node, '/api/plan')).total).toBe(ALL_JOBS.length);
        }, 10_000);
      }
      await sleep(4 * SECOND);

      const kills: Kill[] = [];
      kills.push(await killLeader());
      await sleepUntil(kills[0].at + 9 * SECOND);
      kills.push(await killLeader());
      await sleepUntil(kills[1].at + 10 * SECOND);
      expect(kills[1].at - kills[0].at).toBeLessThan(60 * SECOND);

      // Stop the whole cluster: what etcd holds now is final.
      const stoppedAt = Date.now();
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));

      const store = new EtcdStore({ endpoints: [etcd.endpoint], prefix: `${prefix}/` });
      let executionKvs: KeyValue[];
      let stateKvs: KeyValue[];
      try {
        executionKvs = await rangeAll(store, Keyspace.executions);
        stateKvs = await rangeAll(store, Keyspace.jobStates);
      } finally {
        await store.close();
      }

      try {
        const byJob = new Map<string, ExecutionRecord[]>(ALL_JOBS.map((id) => [id, []]));
        for (const kv of executionKvs) {
          const record = JSON.parse(kv.value) as ExecutionRecord;
          expect(kv.key).toBe(
            Keyspace.execution(record.jobId, scheduledExecKey(record.scheduledMs)),
          );
          expect(byJob.has(record.jobId)).toBe(true);
          expect(record).toMatchObject({ trigger: 'schedule', status: 'pending', attempt: 1 });
          expect(record.scheduledMs % SECOND).toBe(0);
          byJob.get(record.jobId)!.push(record);
        }
        const states = new Map(
          stateKvs.map((kv) => {
            const state = JSON.parse(kv.value) as JobStateRecord;
            return [state.jobId, state];
          }),
        );

        const summary: Record<string, unknown>[] = [];
        for (const [jobId, records] of byJob) {
          const policy = policyOf.get(jobId)!;
          records.sort((a, b) => a.scheduledMs - b.scheduledMs);
          const seconds = records.map((record) => record.scheduledMs);
          expect(seconds.length).toBeGreaterThan(0);

          // No policy ever fires a scheduled time twice (the values, not just distinct keys).
          expect(new Set(seconds).size).toBe(seconds.length);
          // A deposed leader never writes after its successor: tokens only grow with time.
          for (let i = 1; i < records.length; i++) {
            expect(records[i].firedBy.token).toBeGreaterThanOrEqual(records[i - 1].firedBy.token);
          }
          // The jobstate a new leader resumes from is the last execution written.
          expect(states.get(jobId)?.lastScheduledMs).toBe(seconds[seconds.length - 1]);

          const first = seconds[0];
          const last = seconds[seconds.length - 1];
          const missing: number[] = [];
          for (let at = first, i = 0; at <= last; at += SECOND) {
            if (seconds[i] === at) i++;
            else missing.push(at);
          }
          const catchUps = records.filter((record) => record.catchUp).map((r) => r.scheduledMs);
          summary.push({
            jobId,
            fires: seconds.length,
            missing: missing.map((at) => new Date(at).toISOString().slice(17, 23)),
            catchUps: catchUps.map((at) => new Date(at).toISOString().slice(17, 23)),
          });

          // Fired through both failovers and on after the second.
          expect(first).toBeLessThan(kills[0].at);
          expect(last).toBeGreaterThan(kills[1].at + 5 * SECOND);
          expect(last).toBeGreaterThanOrEqual(stoppedAt - 3 * SECOND);

          // With a lookahead the successor may write the seconds after a kill before they are
          // a misfire, so which policy catches what up depends on the failover's exact
          // timing: only the exactly-once checks below apply.
          for (const kill of lookaheadMs === 0 ? kills : []) {
            // The first second due after the kill: never fired by the killed leader, and
            // always a misfire for its successor (see the suite's comment).
            const due = Math.ceil(kill.at / SECOND) * SECOND;
            const fired = records.find((record) => record.scheduledMs === due);
            if (policy === 'fire_all') {
              expect(fired).toMatchObject({ catchUp: true, firedBy: { node: kill.newLeader } });
            } else if (policy === 'skip') {
              expect(fired).toBeUndefined();
            } else {
              // fire_once fires the latest missed second once, whichever that is.
              const caughtUp = records.filter(
                (record) =>
                  record.catchUp &&
                  record.scheduledMs >= due &&
                  record.scheduledMs < kill.at + kill.failoverMs + 2 * SECOND,
              );
              expect(caughtUp).toHaveLength(1);
              expect(caughtUp[0].firedBy.node).toBe(kill.newLeader);
            }
          }

          if (policy === 'fire_all') {
            // Exactly once: every second from the first after the job became active to the
            // last one fired, each with one execution.
            expect(first).toBe(Math.floor(activeSince.get(jobId)! / SECOND) * SECOND + SECOND);
            expect(missing).toEqual([]);
            expect(seconds).toEqual(seconds.map((_, i) => first + i * SECOND));
          }
          if (policy === 'skip') expect(catchUps).toEqual([]);
        }

        // Three leaderships fired: the first leader, and the successor after each kill.
        const tokens = new Set(
          executionKvs.map((kv) => (JSON.parse(kv.value) as ExecutionRecord).firedBy.token),
        );
        const firers = new Set(
          executionKvs.map((kv) => (JSON.parse(kv.value) as ExecutionRecord).firedBy.node),
        );
        expect(tokens.size).toBeGreaterThanOrEqual(3);
        expect(firers.size).toBeGreaterThanOrEqual(2);
        for (const id of [kills[0].nodeId, kills[0].newLeader, kills[1].newLeader]) {
          expect(firers).toContain(id);
        }

        console.log(
          `planner cluster run: ${executionKvs.length} executions; kills ${JSON.stringify(
            kills.map((kill) => ({ ...kill, at: new Date(kill.at).toISOString() })),
          )}\n` +
            summary
              .filter(
                (row) => policyOf.get(row.jobId as string) !== 'fire_all' || row.jobId === 'fa-01',
              )
              .map((row) => JSON.stringify(row))
              .join('\n'),
        );
      } catch (error) {
        for (const node of started) {
          console.log(`--- output of ${node.nodeId} (${node.baseUrl}) ---\n${node.log}`);
        }
        throw error;
      }
    }, 180_000);
  },
);

/** Resolves at a moment 850-950 ms into a wall-clock second. */
async function lateInSecond(): Promise<number> {
  for (;;) {
    const now = Date.now();
    const ms = now % SECOND;
    if (ms >= 850 && ms < 950) return now;
    await sleep((SECOND + 880 - ms) % SECOND);
  }
}

function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - Date.now()));
}
