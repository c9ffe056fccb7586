import { ExecutionStatus } from '@forest/protocol';
import {
  canStopScanning,
  decideRetention,
  JobRetentionWindow,
  RetentionEntry,
  RetentionPolicy,
} from './retention';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const HOUR = 3_600_000;

/** Entry n of a job: key n (zero-padded, so key order = n), finished n minutes ago. */
function entry(
  n: number,
  status: ExecutionStatus = 'succeeded',
  finishedMs?: number,
): RetentionEntry {
  return {
    key: `executions/job/${String(n).padStart(15, '0')}`,
    modRevision: 100 + n,
    status,
    ...(status === 'pending' || status === 'assigned' || status === 'running'
      ? {}
      : { finishedAt: new Date(finishedMs ?? NOW).toISOString() }),
  };
}

const keys = (decisions: { key: string }[]) => decisions.map((d) => Number(d.key.slice(-15)));

describe('retention decisions', () => {
  const policy = (keepPerJob: number, maxAgeH = 24): RetentionPolicy => ({
    keepPerJob,
    cutoffMs: NOW - maxAgeH * HOUR,
  });

  it('keeps the newest keepPerJob finished executions and deletes the older ones', () => {
    const entries = [1, 2, 3, 4, 5, 6].map((n) => entry(n));
    const decisions = decideRetention(entries, policy(4));
    expect(keys(decisions)).toEqual([1, 2]);
    expect(decisions.every((d) => d.reason === 'count')).toBe(true);
    expect(decisions[0].modRevision).toBe(101);
  });

  it('deletes nothing at or under the cap', () => {
    expect(
      decideRetention(
        [1, 2, 3].map((n) => entry(n)),
        policy(3),
      ),
    ).toEqual([]);
    expect(decideRetention([], policy(1))).toEqual([]);
  });

  it('never deletes or counts unfinished executions', () => {
    const entries = [
      entry(1, 'pending'),
      entry(2, 'succeeded'),
      entry(3, 'running'),
      entry(4, 'failed'),
      entry(5, 'assigned'),
      entry(6, 'cancelled'),
      entry(7, 'pending'),
    ];
    // Three finished, cap 2: only the oldest finished one goes; every active one stays.
    expect(keys(decideRetention(entries, policy(2)))).toEqual([2]);
    // Very old and over the cap, but not finished: kept.
    const active = [1, 2, 3].map((n) => entry(n, 'running'));
    expect(decideRetention(active, policy(1, 1))).toEqual([]);
  });

  it('treats every final status as finished', () => {
    const statuses: ExecutionStatus[] = [
      'succeeded',
      'failed',
      'timed_out',
      'cancelled',
      'lost',
      'skipped',
    ];
    const entries = statuses.map((status, i) => entry(i + 1, status));
    expect(keys(decideRetention(entries, policy(1)))).toEqual([1, 2, 3, 4, 5]);
  });

  it('deletes finished executions older than the cutoff whatever the count', () => {
    const entries = [
      entry(1, 'succeeded', NOW - 48 * HOUR),
      entry(2, 'failed', NOW - 25 * HOUR),
      entry(3, 'succeeded', NOW - 23 * HOUR),
      entry(4, 'pending'),
      entry(5, 'succeeded', NOW - 24 * HOUR), // exactly at the cutoff: kept
    ];
    const decisions = decideRetention(entries, policy(10));
    expect(keys(decisions)).toEqual([1, 2]);
    expect(decisions.map((d) => d.reason)).toEqual(['age', 'age']);
  });

  it('applies the cap to the executions the age leaves', () => {
    const entries = [
      entry(1, 'succeeded', NOW - 30 * HOUR),
      entry(2),
      entry(3),
      entry(4, 'succeeded', NOW - 30 * HOUR), // finished late but old: age
      entry(5),
    ];
    const decisions = decideRetention(entries, policy(2));
    expect(decisions.map((d) => [Number(d.key.slice(-15)), d.reason])).toEqual([
      [1, 'age'],
      [4, 'age'],
      [2, 'count'],
    ]);
  });

  it('keeps an execution whose finishedAt cannot be read from the age rule', () => {
    const odd: RetentionEntry = { ...entry(1), finishedAt: 'yesterday-ish' };
    const missing: RetentionEntry = { key: 'executions/job/2', modRevision: 2, status: 'lost' };
    expect(decideRetention([odd, missing], policy(5, 1))).toEqual([]);
    // ...but they still count for the cap.
    expect(keys(decideRetention([odd, missing, entry(3)], policy(1)))).toHaveLength(2);
  });

  it('decides the same whether a job arrives in one list or streamed page by page', () => {
    const entries = Array.from({ length: 5000 }, (_, i) =>
      entry(i + 1, i % 7 === 0 ? 'running' : 'succeeded', NOW - (5000 - i) * 60_000),
    );
    const whole = decideRetention(entries, policy(1000, 48));
    const window = new JobRetentionWindow(policy(1000, 48));
    const streamed = [];
    for (let start = 0; start < entries.length; start += 16) {
      for (const e of entries.slice(start, start + 16)) streamed.push(...window.add(e));
    }
    expect(streamed).toEqual(whole);
    expect(window.kept).toBe(1000);
    const finished = entries.filter((e) => e.status === 'succeeded').length;
    expect(whole).toHaveLength(finished - 1000);
    // The kept ones are the newest finished.
    const deleted = new Set(whole.map((d) => d.key));
    const keptFinished = entries.filter((e) => e.status === 'succeeded' && !deleted.has(e.key));
    expect(keptFinished.map((e) => e.key)).toEqual(
      entries
        .filter((e) => e.status === 'succeeded')
        .slice(-1000)
        .map((e) => e.key),
    );
  });

  it('stops scanning a job within the cap once keys reach the cutoff', () => {
    const p = policy(10);
    expect(canStopScanning(10, p.cutoffMs, p)).toBe(true);
    expect(canStopScanning(10, p.cutoffMs - 1, p)).toBe(false);
    // Over the cap: the whole job must be read to know its newest finished ones.
    expect(canStopScanning(11, NOW, p)).toBe(false);
    // A key of another shape: keep reading.
    expect(canStopScanning(1, undefined, p)).toBe(false);
  });
});
