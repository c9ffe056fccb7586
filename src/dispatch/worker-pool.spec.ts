import { WorkerRecord } from '@forest/protocol';
import { WorkerPool } from './worker-pool';

function worker(id: string, capacity = 2, targets = ['t']): WorkerRecord {
  return {
    id,
    group: 'g',
    targets,
    capacity,
    host: 'h',
    pid: 1,
    labels: {},
    registeredAt: '2026-01-01T00:00:00.000Z',
    node: 'n',
    lease: '1',
  };
}

const ids = (workers: { record: WorkerRecord }[]) => workers.map((w) => w.record.id);

describe('WorkerPool', () => {
  it('offers the workers of a target in id order, full ones included', () => {
    const pool = new WorkerPool();
    pool.upsertWorker(worker('b', 1));
    pool.upsertWorker(worker('a', 2));
    pool.upsertWorker(worker('c', 5, ['other']));
    expect(ids(pool.eligible('g', 't'))).toEqual(['a', 'b']);
    expect(pool.reserve('g', 'b', 'x1')).toBe(true);
    expect(ids(pool.eligible('g', 't'))).toEqual(['a', 'b']);
    expect(pool.reserve('g', 'b', 'x9')).toBe(false); // full
    expect(pool.reserve('g', 'nobody', 'x9')).toBe(false);
    pool.release('g', 'b', 'x1');
    expect(pool.get('g', 'b')!.inbox.size).toBe(0);
    // A slot that became an assignment is not released by a late release().
    pool.setSlot('g', 'b', 'x2', 'assigned');
    pool.release('g', 'b', 'x2');
    expect(pool.get('g', 'b')!.inbox.size).toBe(1);
    pool.removeWorker('g', 'a');
    expect(ids(pool.eligible('g', 't'))).toEqual(['b']);
  });

  it('counts running slots as they change', () => {
    const pool = new WorkerPool();
    pool.setSlot('g', 'a', 'x0', 'running'); // before the worker is known
    pool.upsertWorker(worker('a', 5));
    expect(pool.get('g', 'a')!.running).toBe(1);
    pool.setSlot('g', 'a', 'x1', 'assigned');
    pool.setSlot('g', 'a', 'x1', 'running');
    pool.setSlot('g', 'a', 'x1', 'running');
    expect(pool.get('g', 'a')!.running).toBe(2);
    pool.deleteSlot('g', 'a', 'x1');
    pool.deleteSlot('g', 'a', 'x1');
    expect(pool.get('g', 'a')!.running).toBe(1);
  });

  it('tells whether a target of a group has a free slot', () => {
    const pool = new WorkerPool();
    expect(pool.hasFreeSlotFor('g', 't')).toBe(false);
    pool.upsertWorker(worker('a', 1));
    pool.upsertWorker(worker('b', 1, ['other']));
    expect(pool.hasFreeSlotFor('g', 't')).toBe(true);
    pool.reserve('g', 'a', 'x1');
    expect(pool.hasFreeSlotFor('g', 't')).toBe(false);
    expect(pool.hasFreeSlotFor('g', 'other')).toBe(true); // b, for its own target
    pool.setSlot('g', 'b', 'x2', 'assigned');
    expect(pool.hasFreeSlotFor('g', 'other')).toBe(false);
  });

  it('keeps assignments of unknown workers as orphans until the worker shows up', () => {
    const pool = new WorkerPool();
    expect(pool.setSlot('g', 'late', 'x1', 'running')).toBe(false);
    pool.upsertWorker(worker('late'));
    expect(pool.get('g', 'late')!.inbox.get('x1')).toBe('running');
    expect(pool.takeOrphans()).toEqual([]);
    pool.setSlot('g', 'ghost', 'x2', 'assigned');
    expect(pool.takeOrphans()).toEqual([
      { group: 'g', workerId: 'ghost', inbox: new Map([['x2', 'assigned']]) },
    ]);
  });
});
