import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExecutionRecord,
  executionId,
  executionKeyOf,
  Keyspace,
  scheduledExecKey,
} from '@forest/protocol';
import { EmbeddedStore, TxnRequest } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { MetricsService } from '../metrics/metrics.service';
import { assignmentOf, newExecution, transition } from '../execution/execution-record';
import { ReportService } from './report.service';

const G = 'g';
const W = 'w1';

describe('ReportService', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let service: ReportService;
  let txns: TxnRequest[];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-reports-'));
    store = await EmbeddedStore.open({ dataDir });
    txns = [];
    const counting = new Proxy(store, {
      get: (target, name) => {
        const value: unknown = Reflect.get(target, name);
        if (name === 'txn') {
          return (request: TxnRequest) => {
            txns.push(request);
            return target.txn(request);
          };
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    service = new ReportService(counting, { nodeId: 'n1' } as ForestConfig);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** An execution assigned to W, as a fire writes it; returns its id. */
  async function assigned(n: number, policies: Partial<ExecutionRecord> = {}): Promise<string> {
    const jobId = policies.jobId ?? 'job';
    const id = executionId(jobId, scheduledExecKey(n));
    const pending = newExecution(
      {
        id,
        jobId,
        jobName: jobId,
        group: G,
        target: 't',
        params: null,
        trigger: 'schedule',
        attempt: 1,
        scheduledMs: n,
        catchUp: false,
        firedBy: { node: 'n1', token: 1 },
        timeoutMs: 0,
      },
      Date.now(),
      'n1',
    );
    const record = transition({ ...pending, ...policies, id }, 'assigned', Date.now(), 'n1', {
      worker: W,
    });
    await store.put(executionKeyOf(id)!, JSON.stringify(record));
    if (record.concurrency === 'forbid') await store.put(Keyspace.activeExecution(jobId), id);
    await store.put(
      Keyspace.assignment(G, W, id),
      JSON.stringify(assignmentOf(record, W, new Date().toISOString())),
    );
    return id;
  }

  const record = async (id: string) =>
    JSON.parse((await store.get(executionKeyOf(id)!))!.value) as ExecutionRecord;

  it('writes a batch holding the running and the final report of the same executions in one txn', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => assigned(1000 + n)));
    const reports = ids.flatMap((id) => [
      { executionId: id, status: 'running' as const },
      { executionId: id, status: 'succeeded' as const, output: `out ${id}` },
    ]);
    const results = await service.report(G, W, reports);
    expect(results).toEqual(
      reports.map((r) => ({ executionId: r.executionId, outcome: 'accepted' })),
    );
    // One read and one write, not a pair per execution.
    expect(txns.filter((t) => t.success.some((op) => op.type !== 'get'))).toHaveLength(1);
    for (const id of ids) {
      const done = await record(id);
      expect(done).toMatchObject({ status: 'succeeded', output: `out ${id}`, worker: W });
      expect(done.timeline.map((t) => t.status)).toEqual([
        'pending',
        'assigned',
        'running',
        'succeeded',
      ]);
      expect(await store.get(Keyspace.assignment(G, W, id))).toBeUndefined();
    }
  });

  it('splits the writes of a batch by the txn op limit: failures of forbid jobs with retries', async () => {
    // Each final report here writes five keys (record, inbox entry, retry record, its pending
    // entry, the marker handed to the retry): 40 of them cannot share one etcd txn.
    const retry = {
      maxAttempts: 1,
      backoff: 'fixed' as const,
      initialDelayMs: 100,
      maxDelayMs: 100,
    };
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        assigned(3000 + n, { jobId: `forbid-${n}`, concurrency: 'forbid', retry }),
      ),
    );
    const results = await service.report(
      G,
      W,
      ids.map((id) => ({ executionId: id, status: 'failed' as const, error: 'boom' })),
    );
    expect(results.map((r) => r.outcome)).toEqual(ids.map(() => 'accepted'));
    const writes = txns.filter((t) => t.success.some((op) => op.type !== 'get'));
    expect(writes.length).toBeGreaterThan(1);
    for (const txn of writes) {
      expect(txn.success.length).toBeLessThanOrEqual(128);
      expect(txn.compare.length).toBeLessThanOrEqual(128);
    }
    for (const [n, id] of ids.entries()) {
      expect(await record(id)).toMatchObject({ status: 'failed' });
      expect(await record(`${id}.r2`)).toMatchObject({ status: 'pending', retryOf: id });
      expect((await store.get(Keyspace.activeExecution(`forbid-${n}`)))?.value).toBe(`${id}.r2`);
    }
  });

  it('decides a report that contradicts an earlier one of the same batch after it (conflict)', async () => {
    const id = await assigned(1);
    const results = await service.report(G, W, [
      { executionId: id, status: 'succeeded' },
      { executionId: id, status: 'succeeded' },
      { executionId: id, status: 'failed', error: 'boom' },
      { executionId: id, status: 'running' },
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'conflict', 'accepted']);
    expect(await record(id)).toMatchObject({ status: 'succeeded' });
  });

  it('gives every report of a batch its own outcome across several txns', async () => {
    const ids = await Promise.all(Array.from({ length: 130 }, (_, n) => assigned(2000 + n)));
    const results = await service.report(G, W, [
      ...ids.map((id) => ({ executionId: id, status: 'running' as const })),
      { executionId: 'job~999', status: 'succeeded' },
    ]);
    expect(results.slice(0, 130).every((r) => r.outcome === 'accepted')).toBe(true);
    expect(results[130]).toMatchObject({ executionId: 'job~999', outcome: 'not_found' });
    // A start rewrites only the inbox entry; the record keeps `assigned` until it finishes.
    expect((await record(ids[129])).status).toBe('assigned');
  });

  describe('metrics', () => {
    let metrics: MetricsService;

    beforeEach(() => {
      metrics = new MetricsService();
      service = new ReportService(store, { nodeId: 'n1' } as ForestConfig, metrics);
    });

    /** The count and sum of the handler start lag histogram. */
    async function startLag(): Promise<{ count?: number; sum?: number }> {
      const { values } = await metrics.executions.handlerStartLag.get();
      const of = (suffix: string) =>
        values.find((v) => v.metricName === `forest_execution_handler_start_lag_seconds_${suffix}`)
          ?.value;
      return { count: of('count'), sum: of('sum') };
    }

    async function finished(status: string): Promise<number | undefined> {
      const { values } = await metrics.executions.finished.get();
      return values.find((v) => v.labels.group === G && v.labels.status === status)?.value;
    }

    it('observes the handler start lag once per start: from the running report, or from a final one that records the start', async () => {
      const [a, b] = [await assigned(10_000), await assigned(20_000)];
      await service.report(G, W, [{ executionId: a, status: 'running', startedAtMs: 10_250 }]);
      // Repeated, and then finished: the start is already recorded.
      await service.report(G, W, [{ executionId: a, status: 'running', startedAtMs: 10_250 }]);
      await service.report(G, W, [{ executionId: a, status: 'succeeded', startedAtMs: 10_250 }]);
      // A fast handler: its final report alone (the running one folded into it).
      await service.report(G, W, [
        { executionId: b, status: 'running', startedAtMs: 20_500 },
        { executionId: b, status: 'failed', error: 'x', startedAtMs: 20_500 },
      ]);
      const lag = await startLag();
      expect(lag.count).toBe(2);
      expect(lag.sum).toBeCloseTo(0.75);
      expect(await finished('succeeded')).toBe(1);
      expect(await finished('failed')).toBe(1);
    });

    it('measures a retry from the end of its backoff, counts the retry, and skips reports without a start time', async () => {
      const id = await assigned(1000, {
        retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 100, maxDelayMs: 100 },
      });
      await service.report(G, W, [{ executionId: id, status: 'failed', error: 'x' }]);
      const { values } = await metrics.executions.retries.get();
      expect(values.map((v) => [v.labels.group, v.value])).toEqual([[G, 1]]);
      const retry = await record(`${id}.r2`);
      await store.put(
        Keyspace.assignment(G, W, retry.id),
        JSON.stringify(assignmentOf(retry, W, new Date().toISOString())),
      );
      await store.put(
        executionKeyOf(retry.id)!,
        JSON.stringify(transition(retry, 'assigned', Date.now(), 'n1', { worker: W })),
      );
      await service.report(G, W, [
        { executionId: retry.id, status: 'running', startedAtMs: retry.retryAtMs! + 40 },
      ]);
      expect(await startLag()).toEqual({ count: 1, sum: 0.04 });
    });
  });
});
