import { ExecutionRecord } from '@forest/protocol';
import { ExecutionRevision, ExecutionWatch } from '../support/execution-watch';
import { LifecycleRig, SECOND, sleepUntil, timelineAt } from '../support/lifecycle-rig';
import { eventually, sleep } from '../support/wait';
import { WorkerProcess } from '../support/worker-process';

const WORKER_TTL_S = 3;
/** The worker's heartbeat interval (TTL / 3): how soon it hears that its work was cancelled. */
const HEARTBEAT_MS = (WORKER_TTL_S * SECOND) / 3;
/** On top of one heartbeat: its round trip and the node noticing the cancel. */
const SLACK_MS = 1500;
/** The forbid job's handler: longer than its 1 s period, so most fires find it running. */
const FORBID_HANDLER_MS = 2500;
/** How long the forbid job fires (with one leader SIGKILL in it). */
const FORBID_WINDOW_MS = 60_000;

/**
 * Concurrency policies and cancellation, decided by the cluster: three node processes on
 * a real etcd (one leader SIGKILLed under `forbid`), worker processes running the real SDK.
 * Every status change of a job's executions is read straight from etcd by a watch from
 * before the job existed, so "never two at once" is checked at every revision, not by
 * polling the API.
 */
describe('concurrency policies and cancel (3 nodes, real etcd, worker processes)', () => {
  let rig: LifecycleRig;
  const watches: ExecutionWatch[] = [];

  beforeAll(async () => {
    rig = await LifecycleRig.start(['n1', 'n2', 'n3'], {
      FOREST_WORKER_TTL_S: String(WORKER_TTL_S),
      FOREST_LEASE_TTL_S: '2',
      FOREST_ETCD_DIAL_TIMEOUT_MS: '1000',
      FOREST_TIMEOUT_GRACE_MS: '500',
      // The watches read history from their start revision: keep it for the whole file.
      FOREST_ETCD_COMPACTION_INTERVAL_S: '0',
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(watches.map((watch) => watch.close()));
    await rig?.close();
  });

  async function watch(jobId: string): Promise<ExecutionWatch> {
    const opened = await ExecutionWatch.start(rig.etcd.endpoint, rig.prefix, jobId);
    watches.push(opened);
    return opened;
  }

  async function startWorkers(group: string, sleepMs: number): Promise<WorkerProcess[]> {
    await rig.api('POST', '/api/groups', { name: group });
    const workers = await Promise.all(
      [`${group}-a`, `${group}-b`].map((name) =>
        rig.startWorker({
          group,
          name,
          concurrency: 4,
          sleepMs,
          recordAborts: true,
          stopTimeoutMs: 1000,
        }),
      ),
    );
    await rig.waitListed(group, ...workers.map((w) => w.workerId!));
    return workers;
  }

  /** The revisions at which more than one execution was pending, assigned or running. */
  function overlaps(revisions: ExecutionRevision[]): string[] {
    return revisions
      .filter((r) => r.active.length > 1)
      .map((r) => `rev ${r.revision}: ${r.active.join(' + ')}`);
  }

  it('forbid: never two executions of the job active at once, at any revision, for 60 s with a leader SIGKILL; the fires that found it busy are recorded skipped', async () => {
    await rig.explained(async () => {
      const workers = await startWorkers('fb', FORBID_HANDLER_MS);
      const executions = await watch('fb-job');
      const job = await rig.api<{ createdAt: string }>('POST', '/api/jobs', {
        id: 'fb-job',
        name: 'forbid',
        group: 'fb',
        target: 't',
        schedule: { cron: '* * * * * *', timezone: 'UTC' },
        concurrency: 'forbid',
      });
      const firstFire = Math.floor(Date.parse(job.createdAt) / SECOND) * SECOND + SECOND;

      await sleepUntil(firstFire + FORBID_WINDOW_MS * 0.4 + 900);
      const kill = await rig.killLeader();
      await sleepUntil(firstFire + FORBID_WINDOW_MS);
      await rig.api('POST', '/api/jobs/fb-job/pause');
      const pausedAt = Date.now();

      // The last run finishes; then the watch holds every change etcd has.
      await eventually(
        async () => {
          await executions.caughtUp();
          const active = [...executions.latest().values()].filter((e) =>
            ['pending', 'assigned', 'running'].includes(e.status),
          );
          expect(active.map((e) => e.id)).toEqual([]);
        },
        FORBID_HANDLER_MS + 10 * SECOND,
      );
      await executions.caughtUp();

      const revisions = executions.replay();
      const records = [...executions.latest().values()].sort(
        (x, y) => x.scheduledMs - y.scheduledMs,
      );
      const skipped = records.filter((e) => e.status === 'skipped');
      const ran = records.filter((e) => e.status !== 'skipped');
      const scheduled = records.map((e) => e.scheduledMs);
      const firstMs = scheduled[0];
      const lastMs = scheduled[scheduled.length - 1];
      const windowFires = (lastMs - firstMs) / SECOND + 1;
      console.log(
        `forbid over ${((pausedAt - firstFire) / SECOND).toFixed(1)} s: ${records.length} ` +
          `fires (${ran.length} ran, ${skipped.length} skipped) for ${windowFires} scheduled ` +
          `seconds, ${revisions.length} revisions; leader ${kill.killed} SIGKILLed at ` +
          `+${kill.at - firstFire} ms, ${kill.newLeader} led ${kill.failoverMs} ms later`,
      );

      // At every revision at most one execution is pending, assigned or running.
      expect(overlaps(revisions)).toEqual([]);
      // A busy job's fires are recorded, as skipped with a reason, and nothing runs for them.
      for (const record of skipped) {
        expect(record.skipReason).toEqual(expect.any(String));
        expect(record.skipReason!.length).toBeGreaterThan(0);
        expect(record.worker).toBeUndefined();
      }
      const starts = workers.flatMap((w) => w.starts).filter((s) => s.job === 'fb-job');
      expect(starts.filter((s) => skipped.some((e) => e.id === s.id))).toEqual([]);
      // A 2.5 s handler on a 1 s schedule: about one fire in three runs, the rest are skipped.
      expect(ran.length).toBeGreaterThanOrEqual(FORBID_WINDOW_MS / SECOND / 6);
      expect(skipped.length).toBeGreaterThanOrEqual(FORBID_WINDOW_MS / SECOND / 3);
      // Executions + skipped account for the fires of the window: one record per scheduled
      // second (none twice), a few at most missing around the failover (misfire fire_once).
      expect(new Set(scheduled).size).toBe(records.length);
      expect(firstMs - firstFire).toBeLessThanOrEqual(SECOND);
      expect(pausedAt - lastMs).toBeLessThanOrEqual(3 * SECOND);
      expect(records.length).toBeLessThanOrEqual(windowFires);
      expect(records.length).toBeGreaterThanOrEqual(windowFires - 5);
      // What the workers saw agrees: no two handler runs of the job overlap, none ran twice.
      const runs = starts
        .map((s) => ({ ...s, end: workers.flatMap((w) => w.ends).find((e) => e.id === s.id) }))
        .sort((x, y) => x.t - y.t);
      expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
      for (let i = 1; i < runs.length; i++) {
        expect({ id: runs[i].id, startsAfterPreviousEnd: runs[i].t >= runs[i - 1].end!.t }).toEqual(
          { id: runs[i].id, startsAfterPreviousEnd: true },
        );
      }
    });
  }, 180_000);

  it('replace: each new execution cancels the previous one in its own txn and aborts its handler', async () => {
    await rig.explained(async () => {
      const workers = await startWorkers('rp', 60_000);
      const executions = await watch('rp-job');
      await rig.api('POST', '/api/jobs', {
        id: 'rp-job',
        name: 'replace',
        group: 'rp',
        target: 't',
        schedule: { cron: '*/2 * * * * *', timezone: 'UTC' },
        concurrency: 'replace',
      });
      // Six or seven fires, then stop firing and let the last aborts arrive.
      await sleep(13 * SECOND);
      await rig.api('POST', '/api/jobs/rp-job/pause');
      await sleep(HEARTBEAT_MS + SLACK_MS);
      await executions.caughtUp();

      const records = [...executions.latest().values()].sort(
        (x, y) => x.scheduledMs - y.scheduledMs,
      );
      const revisions = executions.replay();
      expect(records.length).toBeGreaterThanOrEqual(5);
      expect(overlaps(revisions)).toEqual([]);

      const startOf = (id: string) => workers.flatMap((w) => w.starts).find((s) => s.id === id);
      const abortOf = (id: string) => workers.flatMap((w) => w.aborts).find((s) => s.id === id);
      const rows: string[] = [];
      let aborted = 0;
      for (let i = 0; i + 1 < records.length; i++) {
        const [previous, next] = [records[i], records[i + 1]];
        // The previous one is cancelled by replace, naming the one that replaced it ...
        expect(previous).toMatchObject({
          status: 'cancelled',
          cancelledBy: { kind: 'replace', by: next.id, node: expect.any(String) },
        });
        // ... in the very txn that created the new one (same etcd revision).
        const cancelledAt = executions
          .history(previous.id)
          .find((h) => h.status === 'cancelled')?.revision;
        const createdAt = executions.history(next.id)[0]?.revision;
        expect({ previous: previous.id, cancelledAt }).toEqual({
          previous: previous.id,
          cancelledAt: createdAt,
        });
        // Its handler, if it had started, saw its signal abort within a heartbeat.
        const started = startOf(previous.id);
        const abort = abortOf(previous.id);
        const cancelMs = timelineAt(previous, 'cancelled')!;
        if (started) {
          expect({ id: previous.id, aborted: abort !== undefined }).toEqual({
            id: previous.id,
            aborted: true,
          });
          expect(abort!.t).toBeGreaterThanOrEqual(cancelMs - 50);
          expect(abort!.t - cancelMs).toBeLessThanOrEqual(HEARTBEAT_MS + SLACK_MS);
          aborted++;
        }
        // The new one runs.
        expect(startOf(next.id)).toBeDefined();
        rows.push(
          `${previous.id} ${started ? `aborted +${abort!.t - cancelMs} ms after the cancel` : 'had not started'}; ` +
            `${next.id} started +${startOf(next.id)!.t - cancelMs} ms after it`,
        );
      }
      console.log(`replace:\n${rows.join('\n')}`);
      // Handlers ran long enough to be replaced: most were aborted, not just never started.
      expect(aborted).toBeGreaterThanOrEqual(records.length - 2);
    });
  }, 120_000);

  it('cancel: a running execution cancelled through the API ends cancelled and its handler signal fires', async () => {
    await rig.explained(async () => {
      const workers = rig.workers.filter((w) => w.options.group === 'rp');
      expect(workers).toHaveLength(2);
      await rig.api('POST', '/api/jobs', {
        id: 'cx-job',
        name: 'cancel me',
        group: 'rp',
        target: 't',
        // Never fires during the test: it only runs when triggered.
        schedule: { cron: '0 0 0 1 1 *', timezone: 'UTC' },
      });
      const triggered = await rig.api<ExecutionRecord>('POST', '/api/jobs/cx-job/trigger', {});
      const id = triggered.id;
      await eventually(async () => {
        expect((await rig.getExecution(id)).status).toBe('running');
        expect(workers.some((w) => w.starts.some((s) => s.id === id))).toBe(true);
      }, 10_000);

      const cancelledAt = Date.now();
      const response = await rig.raw('POST', `/api/executions/${encodeURIComponent(id)}/cancel`, {
        reason: 'cluster test',
      });
      const answer = await response.text();
      expect({ status: response.status, answer }).toMatchObject({ status: 200 });

      const runner = workers.find((w) => w.starts.some((s) => s.id === id))!;
      await runner.waitFor(
        `the handler of ${id} to see its signal abort`,
        () => runner.aborts.some((x) => x.id === id),
        HEARTBEAT_MS + SLACK_MS + 3 * SECOND,
      );
      const abort = runner.aborts.find((x) => x.id === id)!;
      const record = await rig.getExecution(id);
      console.log(
        `cancel of a running execution: handler aborted ${abort.t - cancelledAt} ms after the ` +
          `request (${abort.reason})`,
      );
      expect(abort.t - cancelledAt).toBeLessThanOrEqual(HEARTBEAT_MS + SLACK_MS);
      expect(record).toMatchObject({
        status: 'cancelled',
        cancelledBy: { kind: 'api', node: expect.any(String), reason: 'cluster test' },
      });
      expect(record.timeline.map((t) => t.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'cancelled',
      ]);
      await runner.waitFor(
        'the aborted handler to end',
        () => runner.ends.some((e) => e.id === id),
        5000,
      );
      expect(runner.ends.find((e) => e.id === id)!.ok).toBe(false);
      // It stays cancelled: the worker's late report changes nothing.
      await sleep(SECOND);
      expect((await rig.getExecution(id)).status).toBe('cancelled');
    });
  }, 60_000);
});
