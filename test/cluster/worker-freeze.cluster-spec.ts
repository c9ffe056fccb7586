import { FINAL_EXECUTION_STATUSES } from '@forest/protocol';
import { ApiExecution, LifecycleRig, SECOND } from '../support/lifecycle-rig';
import { eventually, sleep } from '../support/wait';
import { StartRecord, WorkerProcess } from '../support/worker-process';

/** Worker lease TTL: the heartbeat interval is a third of it. */
const WORKER_TTL_S = 3;
const HEARTBEAT_MS = (WORKER_TTL_S * SECOND) / 3;
/** On top of one heartbeat interval: the heartbeat's round trip, re-registration, the abort. */
const SLACK_MS = 1000;
/** What each handler runs, in ticks of its own time, so a SIGSTOP pauses it. */
const HANDLER_MS = 2000;
const ROUNDS = 5;
const JOBS = ['fz-1', 'fz-2'];

/** One SIGSTOP / SIGCONT of worker A. */
interface Round {
  round: number;
  /** A's worker id before the freeze (its lease expires while it is stopped). */
  workerId: string;
  frozenAt: number;
  thawedAt: number;
  /** Executions assigned to A, not yet due, when it was stopped. */
  held: string[];
  /** A's handlers running when it was stopped. */
  running: StartRecord[];
}

/**
 * "Claim before run" with real processes: a node on a real etcd, two worker processes,
 * two per-second jobs with a 2 s handler (default 1 s fire lookahead, so each worker always
 * holds work that is not due yet besides what it runs). Five times, worker A is SIGSTOPped
 * while it holds both, kept stopped past its lease TTL (the node marks its running work
 * lost and moves its unstarted work to B), then SIGCONTed: its timers all fire at once,
 * its held assignments come due and its in-flight poll answer arrives. The work that moved
 * runs once, on B: no execution is ever started twice across both workers' records; and
 * A's handlers of the lost work see their signal abort within one heartbeat of resuming.
 */
describe('a worker frozen past its lease (SIGSTOP / SIGCONT) never runs work that moved', () => {
  let rig: LifecycleRig;
  let a: WorkerProcess;
  let b: WorkerProcess;

  beforeAll(async () => {
    rig = await LifecycleRig.start(['n1'], {
      FOREST_WORKER_TTL_S: String(WORKER_TTL_S),
      FOREST_TIMEOUT_GRACE_MS: '500',
    });
    await rig.api('POST', '/api/groups', { name: 'fz' });
    [a, b] = await Promise.all(
      ['fz-a', 'fz-b'].map((name) =>
        rig.startWorker({
          group: 'fz',
          name,
          concurrency: 10,
          sleepMs: HANDLER_MS,
          tickMs: 50,
          recordAborts: true,
          stopTimeoutMs: 1000,
        }),
      ),
    );
    await rig.waitListed('fz', a.workerId!, b.workerId!);
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  /** Executions of the jobs assigned to `workerId` and due later than `afterMs`. */
  async function heldBy(workerId: string, afterMs: number): Promise<ApiExecution[]> {
    const held: ApiExecution[] = [];
    for (const jobId of JOBS) {
      const query = new URLSearchParams({ jobId, status: 'assigned', worker: workerId });
      const page = await rig.api<{ items: ApiExecution[] }>(
        'GET',
        `/api/executions?${query.toString()}`,
      );
      held.push(...page.items.filter((e) => e.scheduledMs > afterMs));
    }
    return held;
  }

  /** A's handlers that started under `workerId` and have not ended. */
  const runningOn = (worker: WorkerProcess, workerId: string) =>
    worker.starts.filter((s) => s.w === workerId && !worker.ends.some((e) => e.id === s.id));

  /** The live worker ids of the group. */
  const listed = async () =>
    (await rig.api<{ items: { id: string }[] }>('GET', '/api/workers?group=fz')).items.map(
      (w) => w.id,
    );

  it(`starts no execution twice over ${ROUNDS} freezes of a worker holding running and not-yet-due work`, async () => {
    await rig.explained(async () => {
      for (const id of JOBS) {
        await rig.api('POST', '/api/jobs', {
          id,
          name: id,
          group: 'fz',
          target: 't',
          schedule: { cron: '* * * * * *', timezone: 'UTC' },
        });
      }
      // Both workers busy.
      await a.waitFor('A to run work', () => a.starts.length >= 2, 15_000);
      await b.waitFor('B to run work', () => b.starts.length >= 2, 15_000);

      const rounds: Round[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const workerId = (await listed()).find((id) => id.startsWith('fz-a'));
        if (!workerId) throw new Error(`round ${round}: A is not registered`);

        // Stop A the moment it both runs a handler and holds an assignment not due yet.
        let held: ApiExecution[] = [];
        await eventually(async () => {
          held = await heldBy(workerId, Date.now() + 150);
          expect(held.length).toBeGreaterThan(0);
          expect(runningOn(a, workerId).length).toBeGreaterThan(0);
        }, 15_000);
        const frozenAt = a.freeze();
        const running = runningOn(a, workerId).filter((s) => s.t < frozenAt);

        // Past its lease TTL: the node drops A, marks what it ran lost, moves what it held.
        // (A handler whose `running` report had not reached the node moves like unstarted
        // work; if B then runs it too, that is a duplicate start, caught below.)
        await sleep(WORKER_TTL_S * SECOND);
        await eventually(async () => {
          expect(await listed()).not.toContain(workerId);
        }, 10_000);
        await eventually(async () => {
          for (const id of [...running.map((s) => s.id), ...held.map((e) => e.id)]) {
            const record = await rig.getExecution(id);
            if (record.worker === workerId) {
              expect(FINAL_EXECUTION_STATUSES).toContain(record.status);
            }
          }
        }, 10_000);
        const thawedAt = a.thaw();
        rounds.push({
          round,
          workerId,
          frozenAt,
          thawedAt,
          held: held.map((e) => e.id),
          running,
        });

        // A registers again (a new lease, a new id) and takes work before the next round.
        await eventually(async () => {
          const ids = await listed();
          expect(ids.filter((id) => id.startsWith('fz-a') && id !== workerId)).toHaveLength(1);
        }, 15_000);
        await sleep(HEARTBEAT_MS + SLACK_MS);
      }

      for (const id of JOBS) await rig.api('POST', `/api/jobs/${id}/pause`);
      // Let the last handlers finish and report.
      await sleep(HANDLER_MS + SECOND);

      const starts = [...a.starts, ...b.starts];
      const count = new Map<string, StartRecord[]>();
      for (const start of starts) count.set(start.id, [...(count.get(start.id) ?? []), start]);
      const twice = [...count.values()].filter((list) => list.length > 1);

      /** Per handler of lost work: how it ended relative to the SIGCONT of its round. */
      const lostHandlers = rounds.flatMap((r) =>
        r.running.map((start) => {
          const abort = a.aborts.find((x) => x.id === start.id);
          const end = a.ends.find((x) => x.id === start.id);
          return {
            id: start.id,
            round: r.round,
            abortAfterThaw: abort && abort.t - r.thawedAt,
            endAfterThaw: end && end.t - r.thawedAt,
            endOk: end?.ok,
          };
        }),
      );
      const rows = rounds.map(
        (r) =>
          `round ${r.round}: stopped ${r.thawedAt - r.frozenAt} ms holding ${r.held.length} ` +
          `not-yet-due (ran on: ${r.held.map((id) => (count.get(id) ?? []).map((s) => s.w).join('+') || 'none').join(', ')}), ` +
          `running ${r.running.length}; after SIGCONT: ` +
          lostHandlers
            .filter((h) => h.round === r.round)
            .map((h) =>
              h.abortAfterThaw !== undefined
                ? `aborted +${h.abortAfterThaw} ms`
                : `ran out +${h.endAfterThaw ?? '?'} ms`,
            )
            .join(', '),
      );
      const aborted = lostHandlers.filter((h) => h.abortAfterThaw !== undefined).length;
      console.log(
        `${starts.length} handler starts, ${twice.length} executions started twice; ` +
          `lost handlers aborted ${aborted} of ${lostHandlers.length}\n${rows.join('\n')}`,
      );

      // No execution started twice, on the same worker or on both, over all rounds.
      expect(twice.map((list) => list.map((s) => `${s.id}@${s.w}`))).toEqual([]);
      // The work A held when it stopped ran once, on B.
      for (const r of rounds) {
        for (const id of r.held) {
          expect({ id, ranOn: (count.get(id) ?? []).map((s) => s.w) }).toEqual({
            id,
            ranOn: [b.workerId],
          });
        }
      }
      // A's handlers of the lost work ended within one heartbeat (+ slack) of SIGCONT: the
      // ones with time left were aborted then (not before the SIGCONT, and they ended
      // failed); only one with no time left may have run out first.
      const limit = HEARTBEAT_MS + SLACK_MS;
      expect(
        lostHandlers.filter(
          (h) =>
            h.endAfterThaw === undefined ||
            h.endAfterThaw > limit ||
            (h.abortAfterThaw !== undefined && (h.abortAfterThaw < 0 || h.endOk !== false)),
        ),
      ).toEqual([]);
      // Not vacuous: A ran lost work and held unstarted work in every round, and its
      // handlers (2 s of their own time) mostly still had time left after the SIGCONT.
      expect(rounds.every((r) => r.running.length > 0 && r.held.length > 0)).toBe(true);
      expect(aborted).toBeGreaterThan(0);
    });
  }, 180_000);
});
