import { ExecutionRecord } from '@forest/protocol';
import { StoreUnavailableError } from '@forest/store';
import { plannerRig } from '../../test/support/planner-rig';

const T = Date.parse('2026-06-01T12:00:00.000Z');
const s = (ms: number) => (ms - T) / 1000;

describe('FireLoop on a fake clock', () => {
  it('fires a per-second job once per scheduled second and moves its jobstate', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(5000);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 4, 5]);
    expect(rig.store.jobState('a')).toMatchObject({
      jobId: 'a',
      lastScheduledMs: T + 5000,
      node: 'n1',
    });
    const record = JSON.parse(rig.store.kv.get('executions/a/001780315203000')!) as ExecutionRecord;
    expect(record).toMatchObject({
      id: 'a~001780315203000',
      jobId: 'a',
      group: 'g',
      target: 'work',
      params: { job: 'a' },
      trigger: 'schedule',
      status: 'pending',
      attempt: 1,
      scheduledMs: T + 3000,
      scheduledAt: '2026-06-01T12:00:03.000Z',
      firedAt: '2026-06-01T12:00:03.000Z',
      catchUp: false,
      firedBy: { node: 'n1', token: 7 },
    });
    // No dispatcher placed it: it waits for a worker in pending/.
    expect(JSON.parse(rig.store.kv.get('pending/g/a~001780315203000')!)).toEqual({
      executionId: 'a~001780315203000',
      jobId: 'a',
      target: 'work',
      since: '2026-06-01T12:00:03.000Z',
    });
    expect(rig.clock.pendingTimers).toBe(1);
  });

  it('fires jobs in order of their next fire time', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'late', cron: '9 * * * * *' });
    rig.put({ id: 'early', cron: '2 * * * * *' });
    rig.put({ id: 'middle', cron: '5 * * * * *' });
    rig.loop.start();
    await rig.clock.advance(10_000);
    const order = rig.store.txns.flatMap((txn) =>
      txn.success.filter((op) => op.type === 'put' && op.key.startsWith('executions/')),
    );
    expect(order.map((op) => (op as { key: string }).key.split('/')[1])).toEqual([
      'early',
      'middle',
      'late',
    ]);
  });

  it('re-arms its one timer when a job change makes an earlier fire due', async () => {
    const rig = plannerRig(T, { maxSleepMs: 3_600_000 });
    rig.put({ id: 'daily', cron: '0 0 13 * * *' });
    rig.loop.start();
    await rig.clock.advance(10_000);
    rig.put({ id: 'b', cron: '20 * * * * *' });
    const committed: number[] = [];
    await rig.clock.advance(10_000);
    committed.push(...rig.store.fired('b'));
    expect(committed).toEqual([T + 20_000]);
    expect(rig.store.txns).toHaveLength(1);
    // Rescheduled to second 40: it fires then, not a minute after second 20.
    rig.put({ id: 'b', cron: '40 * * * * *' });
    await rig.clock.advance(20_000);
    expect(rig.store.fired('b')).toEqual([T + 20_000, T + 40_000]);
    // Removed: it never fires again; the daily job still does.
    rig.remove('b');
    await rig.clock.advanceTo(T + 3_600_000);
    expect(rig.store.fired('b')).toHaveLength(2);
    expect(rig.store.fired('daily')).toEqual([T + 3_600_000]);
    expect(rig.clock.pendingTimers).toBe(1);
  });

  it('stops firing a paused job and resumes it from the resume, with no catch-up', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *', policy: 'fire_all' });
    rig.loop.start();
    await rig.clock.advance(3000);
    rig.put({ id: 'a', cron: '* * * * * *', state: 'paused' });
    await rig.clock.advance(5500);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3]);
    rig.put({ id: 'a', cron: '* * * * * *', activeSince: rig.clock.now() });
    await rig.clock.advance(2000);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 9, 10]);
    expect(rig.misfires).toEqual([]);
  });

  describe('misfire after a stalled event loop', () => {
    async function stalled(policy: 'skip' | 'fire_once' | 'fire_all') {
      const rig = plannerRig(T);
      rig.put({ id: 'a', cron: '* * * * * *', policy });
      rig.loop.start();
      await rig.clock.advance(3000);
      rig.clock.stall(10_000); // the timer for second 4 runs at second 13
      await rig.clock.advance(2000);
      expect(rig.misfires).toEqual([{ jobId: 'a', dueMs: T + 4000, at: T + 13_000 }]);
      return rig.store.fired('a').map(s);
    }

    it('skip: drops the missed seconds, fires those within the threshold, goes on', async () => {
      expect(await stalled('skip')).toEqual([1, 2, 3, 12, 13, 14, 15]);
    });

    it('fire_once: one catch-up for the latest missed second', async () => {
      expect(await stalled('fire_once')).toEqual([1, 2, 3, 11, 12, 13, 14, 15]);
    });

    it('fire_all: every missed second', async () => {
      expect(await stalled('fire_all')).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
      ]);
    });
  });

  it('a new leader catches up from the jobstate the last leader left', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'all', cron: '* * * * * *', policy: 'fire_all', activeSince: T - 3_600_000 });
    rig.put({ id: 'once', cron: '* * * * * *', policy: 'fire_once', activeSince: T - 3_600_000 });
    rig.put({ id: 'skip', cron: '* * * * * *', policy: 'skip', activeSince: T - 3_600_000 });
    for (const id of ['all', 'once', 'skip']) rig.plan.recordFired(id, T - 60_000);
    rig.plan.rebaseAll();
    rig.loop.start();
    await rig.clock.advance(0);
    const all = rig.store.fired('all');
    expect(all).toHaveLength(60);
    expect(all[0]).toBe(T - 59_000);
    expect(rig.store.fired('once')).toEqual([T - 2000, T - 1000, T]);
    expect(rig.store.fired('skip')).toEqual([T - 1000, T]);
    for (const txn of rig.store.txns) {
      expect(txn.success.length).toBeLessThanOrEqual(128);
      expect(txn.compare.length).toBeLessThan(128);
    }
    const catchUps = [...rig.store.kv.entries()]
      .filter(([key]) => key.startsWith('executions/all/'))
      .map(([, value]) => JSON.parse(value) as ExecutionRecord)
      .filter((record) => record.catchUp);
    expect(catchUps).toHaveLength(58);
    expect(rig.store.jobState('all')?.lastScheduledMs).toBe(T);
  });

  it('never fires a scheduled time twice when the wall clock jumps backwards', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(5000);
    rig.clock.jump(-60_000);
    await rig.clock.advance(30_000);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 4, 5]);
    // The wall clock passes second 5 again 60 s after the jump; fires go on from there.
    await rig.clock.advance(33_000);
    const fired = rig.store.fired('a').map(s);
    expect(fired).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rig.misfires).toEqual([]);
    expect(rig.store.txns).toHaveLength(8);
  });

  it('treats a forward clock jump as a misfire and applies the policy', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *', policy: 'fire_once' });
    rig.loop.start();
    await rig.clock.advance(2000);
    rig.clock.jump(3_600_000);
    await rig.clock.advance(1000);
    const fired = rig.store.fired('a');
    expect(fired.map(s)).toEqual([1, 2, 3601, 3602, 3603]);
    expect(rig.misfires).toHaveLength(1);
  });

  it('retries writes through a store outage and then applies the misfire policy', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'all', cron: '* * * * * *', policy: 'fire_all' });
    rig.put({ id: 'skip', cron: '* * * * * *', policy: 'skip' });
    rig.loop.start();
    await rig.clock.advance(2000);
    rig.store.failWith = new StoreUnavailableError('etcd is down');
    await rig.clock.advance(5000);
    expect(rig.store.fired('all').map(s)).toEqual([1, 2]);
    expect(rig.errors.length).toBeGreaterThan(0);
    rig.store.failWith = undefined;
    await rig.clock.advance(2000);
    expect(rig.store.fired('all').map(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const skip = rig.store.fired('skip').map(s);
    expect(skip.slice(0, 2)).toEqual([1, 2]);
    expect(skip).not.toContain(3);
    expect(skip[skip.length - 1]).toBe(9);
  });

  it('does not duplicate a fire whose txn committed but whose reply was lost', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(1000);
    rig.store.applyThenFail = new StoreUnavailableError('reply lost');
    await rig.clock.advance(1000);
    expect(rig.errors).toHaveLength(1);
    await rig.clock.advance(2000);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 4]);
    expect(rig.store.jobState('a')?.lastScheduledMs).toBe(T + 4000);
  });

  it('leaves executions an earlier leader wrote untouched and counts them as existing', async () => {
    const rig = plannerRig(T);
    rig.store.kv.set('executions/a/001780315202000', 'written by the old leader');
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(4000);
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 4]);
    expect(rig.store.kv.get('executions/a/001780315202000')).toBe('written by the old leader');
  });

  it('packs simultaneous fires into as few txns as the op limit allows', async () => {
    const rig = plannerRig(T);
    for (let i = 0; i < 200; i++)
      rig.put({ id: `j${String(i).padStart(3, '0')}`, cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(1000);
    // 42 fires x (execution + pending entry) + 42 jobstate puts per txn; each fire compares
    // its execution key absent and its job's fence.
    expect(rig.store.txns.map((txn) => txn.compare.length)).toEqual([84, 84, 84, 84, 64]);
    for (const txn of rig.store.txns) {
      expect(txn.success.length).toBeLessThanOrEqual(128);
      expect(txn.compare.length).toBeLessThanOrEqual(127);
    }
    expect(rig.store.fired('j199')).toEqual([T + 1000]);
  });

  it('writes a long catch-up in order, txn after txn, with jobstate only moving forward', async () => {
    const rig = plannerRig(T);
    rig.put({ id: 'a', cron: '* * * * * *', policy: 'fire_all', activeSince: T - 3_600_000 });
    rig.plan.recordFired('a', T - 300_000);
    rig.plan.rebaseAll();
    rig.loop.start();
    await rig.clock.advance(0);
    expect(rig.store.fired('a')).toHaveLength(300);
    const states = rig.store.txns.map((txn) => {
      const put = txn.success.find((op) => op.type === 'put' && op.key === 'jobstate/a');
      return (JSON.parse((put as { value: string }).value) as { lastScheduledMs: number })
        .lastScheduledMs;
    });
    expect(states).toEqual([...states].sort((a, b) => a - b));
    expect(states[states.length - 1]).toBe(T);
    // 63 fires x 2 puts + the jobstate put per txn; 63 create compares + the job's fence.
    expect(rig.store.txns.map((txn) => txn.compare.length)).toEqual([64, 64, 64, 64, 49]);
  });
});

describe('FireLoop with a fire lookahead', () => {
  it('writes each fire ahead of its scheduled time, once, and never a misfire', async () => {
    const rig = plannerRig(T, { lookaheadMs: 300 });
    const committedAt = new Map<number, number>();
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.loop.start();
    for (let i = 0; i < 40; i++) {
      await rig.clock.advance(100);
      for (const ms of rig.store.fired('a'))
        if (!committedAt.has(ms)) committedAt.set(ms, rig.clock.now());
    }
    expect(rig.store.fired('a').map(s)).toEqual([1, 2, 3, 4]);
    for (const [scheduled, at] of committedAt) {
      expect(scheduled - at).toBeGreaterThanOrEqual(200);
      expect(scheduled - at).toBeLessThanOrEqual(300);
    }
    expect(rig.misfires).toEqual([]);
  });
});

describe('FireWriter with a placement (the dispatcher)', () => {
  it('writes the assignment in the fire txn, and gives back slots of fires not created', async () => {
    const released: string[] = [];
    const placement = {
      place: (job: { jobId: string }) => (job.jobId === 'nobody' ? undefined : 'w1'),
      release: (_group: string, _worker: string, id: string) => released.push(id),
    };
    const rig = plannerRig(T, {}, placement);
    rig.store.kv.set('executions/a/001780315202000', 'written by the old leader');
    rig.put({ id: 'a', cron: '* * * * * *' });
    rig.put({ id: 'nobody', cron: '* * * * * *' });
    rig.loop.start();
    await rig.clock.advance(2000);
    const record = JSON.parse(rig.store.kv.get('executions/a/001780315201000')!) as ExecutionRecord;
    expect(record).toMatchObject({ status: 'assigned', worker: 'w1' });
    expect(record.timeline.map((t) => t.status)).toEqual(['pending', 'assigned']);
    expect(JSON.parse(rig.store.kv.get('assignments/g/w1/a~001780315201000')!)).toMatchObject({
      executionId: 'a~001780315201000',
      workerId: 'w1',
      state: 'assigned',
      target: 'work',
    });
    expect(rig.store.kv.has('pending/g/nobody~001780315201000')).toBe(true);
    // Second 2 of job a already existed: its reserved slot went back.
    expect(released).toContain('a~001780315202000');
    expect(rig.store.kv.has('assignments/g/w1/a~001780315202000')).toBe(false);
  });
});
