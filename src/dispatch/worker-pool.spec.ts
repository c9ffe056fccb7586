import { WorkerRecord } from '@forest/protocol';
import { RoundRobin } from './round-robin';
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

describe('WorkerPool and RoundRobin', () => {
  it('offers only workers with the target and a free slot, reservations included', () => {
    const pool = new WorkerPool();
    pool.upsertWorker(worker('b', 1));
    pool.upsertWorker(worker('a', 2));
    pool.upsertWorker(worker('c', 5, ['other']));
    expect(pool.candidates('g', 't').map((w) => w.record.id)).toEqual(['a', 'b']);
    pool.get('g', 'b')!.inbox.set('x1', 'reserved');
    expect(pool.candidates('g', 't').map((w) => w.record.id)).toEqual(['a']);
    pool.release('g', 'b', 'x1');
    expect(pool.candidates('g', 't').map((w) => w.record.id)).toEqual(['a', 'b']);
    // A slot that became an assignment is not released by a late release().
    pool.setSlot('g', 'b', 'x2', 'assigned');
    pool.release('g', 'b', 'x2');
    expect(pool.get('g', 'b')!.inbox.size).toBe(1);
  });

  it('tells whether any worker of a group has a free slot', () => {
    const pool = new WorkerPool();
    expect(pool.hasFreeSlot('g')).toBe(false);
    pool.upsertWorker(worker('a', 1));
    pool.upsertWorker(worker('b', 1, ['other']));
    expect(pool.hasFreeSlot('g')).toBe(true);
    pool.get('g', 'a')!.inbox.set('x1', 'reserved');
    expect(pool.hasFreeSlot('g')).toBe(true); // b, for its own target
    pool.setSlot('g', 'b', 'x2', 'assigned');
    expect(pool.hasFreeSlot('g')).toBe(false);
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

  it('rotates through candidates in id order, surviving changes to the set', () => {
    const pool = new WorkerPool();
    for (const id of ['a', 'b', 'c']) pool.upsertWorker(worker(id, 100));
    const rr = new RoundRobin();
    const pick = () => rr.choose('g', pool.candidates('g', 't'))!.record.id;
    expect([pick(), pick(), pick(), pick()]).toEqual(['a', 'b', 'c', 'a']);
    pool.removeWorker('g', 'b');
    expect([pick(), pick(), pick()]).toEqual(['c', 'a', 'c']);
    expect(rr.choose('g', [])).toBeUndefined();
  });
});
