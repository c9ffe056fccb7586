/*
 * Bulk import of 10,000 jobs (POST /api/jobs/import), on the embedded store and on etcd,
 * through Fastify inject (the whole HTTP pipeline: body limits, JSON scan and parse,
 * validation of every job, the write txns). Also 1,000 concurrent single creates in one
 * group, which used to contend on the group key. Prints figures, asserts nothing.
 */
import { startTestApp, StoreKind, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';
import { printColumns, runBenchmark } from './bench-support';

const JOBS = 10_000;
const CONCURRENT_CREATES = 1_000;

function jobOf(i: number, group: string): Record<string, unknown> {
  return {
    id: `bench-${String(i).padStart(5, '0')}`,
    name: `bench job ${i}`,
    group,
    schedule: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin' },
    target: 'bench.run',
    params: { region: 'eu', index: i },
    retry: { maxAttempts: 2 },
  };
}

async function measure(kind: StoreKind, etcd?: EtcdHarness): Promise<string[]> {
  const subject: TestApp = await startTestApp({ store: kind, etcdEndpoint: etcd?.endpoint });
  try {
    const app = subject.app;
    for (const name of ['imports', 'creates']) {
      await app.inject({ method: 'POST', url: '/api/groups', payload: { name } });
    }
    const payload = JSON.stringify({
      version: 1,
      jobs: Array.from({ length: JOBS }, (_, i) => jobOf(i, 'imports')),
    });
    const started = performance.now();
    const answer = await app.inject({
      method: 'POST',
      url: '/api/jobs/import',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    const importMs = performance.now() - started;
    if (answer.statusCode !== 200) throw new Error(`import: ${answer.statusCode} ${answer.body}`);
    const { txns } = answer.json<{ txns: number }>();

    const exportStarted = performance.now();
    const exported = await app.inject({ method: 'GET', url: '/api/jobs/export?group=imports' });
    const exportMs = performance.now() - exportStarted;
    if (exported.json<{ jobs: unknown[] }>().jobs.length !== JOBS) throw new Error('export');

    const createsStarted = performance.now();
    const creates = await Promise.all(
      Array.from({ length: CONCURRENT_CREATES }, (_, i) =>
        app.inject({ method: 'POST', url: '/api/jobs', payload: jobOf(JOBS + i, 'creates') }),
      ),
    );
    const createsMs = performance.now() - createsStarted;
    const failed = creates.filter((r) => r.statusCode !== 201).length;
    return [
      kind,
      `${(importMs / 1000).toFixed(2)} s`,
      `${(payload.length / 1024 / 1024).toFixed(1)} MiB`,
      String(txns),
      `${exportMs.toFixed(0)} ms`,
      `${(createsMs / 1000).toFixed(2)} s`,
      String(failed),
    ];
  } finally {
    await subject.close();
  }
}

async function main(): Promise<void> {
  const rows = [await measure('embedded')];
  const etcd = await EtcdHarness.start();
  try {
    rows.push(await measure('etcd', etcd));
  } finally {
    await etcd.stop();
  }
  console.log(
    `\nbulk import of ${JOBS} jobs; ${CONCURRENT_CREATES} concurrent creates in one group`,
  );
  printColumns(
    ['store', 'import', 'body', 'txns', 'export', 'creates', 'failed'],
    rows,
    [10, 10, 10, 6, 9, 9, 7],
  );
}

runBenchmark(main);
