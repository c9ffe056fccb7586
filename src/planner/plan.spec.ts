import { jobRecord } from '../../test/support/planner-rig';
import { Plan } from './plan';

const T = Date.parse('2026-06-01T12:00:00.000Z');

describe('Plan', () => {
  it('plans active jobs only, from when they became active', () => {
    const plan = new Plan();
    plan.applyJob(jobRecord({ id: 'a', cron: '0 * * * * *' }, T), 1, T);
    plan.applyJob(jobRecord({ id: 'p', cron: '* * * * * *', state: 'paused' }, T), 2, T);
    expect(plan.size).toBe(1);
    expect(plan.get('a')?.nextMs).toBe(T + 60_000);
    expect(plan.earliest()).toBe(T + 60_000);
  });

  it('resumes a job after its last fire, never at or before it', () => {
    const plan = new Plan();
    plan.applyJob(jobRecord({ id: 'a', cron: '* * * * * *', activeSince: T - 10_000 }, T), 1, T);
    expect(plan.get('a')?.nextMs).toBe(T - 9000);
    plan.recordFired('a', T + 5000);
    expect(plan.get('a')?.nextMs).toBe(T + 6000);
    plan.recordFired('a', T + 2000); // older news: ignored
    expect(plan.lastFiredOf('a')).toBe(T + 5000);
    expect(plan.get('a')?.nextMs).toBe(T + 6000);
  });

  it('starts a changed schedule from now, not from the last fire', () => {
    const plan = new Plan();
    plan.applyJob(jobRecord({ id: 'a', cron: '0 0 * * * *', activeSince: T - 7_200_000 }, T), 1, T);
    plan.recordFired('a', T - 3_600_000);
    plan.applyJob(jobRecord({ id: 'a', cron: '* * * * * *', activeSince: T - 7_200_000 }, T), 2, T);
    expect(plan.get('a')?.nextMs).toBe(T + 1000);
  });

  it('ignores replayed events older than what a paged load already applied', () => {
    const plan = new Plan();
    plan.beginReplay();
    // Loaded pages show the job at revision 10 (active) and a deleted job's absence.
    plan.applyJob(jobRecord({ id: 'a', cron: '0 * * * * *' }, T), 10, T);
    // The watch replays from an earlier revision: an older paused version, then a job
    // created at 6 and deleted at 8 that the later page no longer showed.
    plan.applyJob(jobRecord({ id: 'a', cron: '0 * * * * *', state: 'paused' }, T), 7, T);
    plan.applyJob(jobRecord({ id: 'gone', cron: '* * * * * *' }, T), 6, T);
    plan.removeJob('gone', 8);
    plan.applyJob(jobRecord({ id: 'gone', cron: '* * * * * *' }, T), 6, T);
    expect(plan.get('a')?.modRevision).toBe(10);
    expect(plan.get('gone')).toBeUndefined();
    plan.endReplay();
    plan.applyJob(jobRecord({ id: 'a', cron: '0 * * * * *', state: 'paused' }, T), 11, T);
    expect(plan.get('a')).toBeUndefined();
  });

  it('drops jobs a reload no longer sees, but not ones written since it began', () => {
    const plan = new Plan();
    plan.applyJob(jobRecord({ id: 'old', cron: '* * * * * *' }, T), 3, T);
    plan.applyJob(jobRecord({ id: 'new', cron: '* * * * * *' }, T), 12, T);
    plan.removeUnseen(new Set(), 10);
    expect([...plan.values()].map((entry) => entry.jobId)).toEqual(['new']);
  });

  it('pops due entries in time order and keeps them out until they settle', () => {
    const plan = new Plan();
    plan.applyJob(jobRecord({ id: 'b', cron: '2 * * * * *' }, T), 1, T);
    plan.applyJob(jobRecord({ id: 'a', cron: '1 * * * * *' }, T), 2, T);
    plan.applyJob(jobRecord({ id: 'c', cron: '3 * * * * *' }, T), 3, T);
    const due = plan.takeDue(T + 2000);
    expect(due.map((entry) => entry.jobId)).toEqual(['a', 'b']);
    expect(due.every((entry) => entry.inFlight)).toBe(true);
    expect(plan.earliest()).toBe(T + 3000);
    // A job change while its fire is in flight waits for the fire to settle.
    plan.applyJob(jobRecord({ id: 'a', cron: '1 * * * * *' }, T), 4, T);
    expect(plan.earliest()).toBe(T + 3000);
    plan.recordFired('a', T + 1000);
    plan.settle('a');
    expect(plan.get('a')?.nextMs).toBe(T + 61_000);
  });
});
