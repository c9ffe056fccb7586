/*
 * Live-log benchmark (issue #13: "a log line written by a handler is visible through the
 * follow API within 500 ms"). Prints figures; asserts nothing. Run with `npm run bench`, or:
 *
 *   node -r ./test/support/ts-register.js test/bench/log-follow.bench.ts
 *
 * Per setup (the embedded store, where lines live in the node's memory; and a real etcd with
 * a real PostgreSQL history, where they live in PostgreSQL), one node with the real HTTP
 * server and one ForestWorker (the SDK, default log shipping) in this process. RUNS manual
 * runs of a job whose handler writes LINES lines, one every GAP_MS; for each run a client
 * follows `GET /api/executions/{id}/logs/follow` over a socket from before the first line.
 * The figure is, per line, the time it arrived on the follow stream minus the time the
 * handler wrote it (one process: one clock): p50 / p99 / max, and lines missing from a
 * stream (must be 0).
 *
 * Overrides: BENCH_LOGS_RUNS=20 BENCH_LOGS_LINES=20 BENCH_LOGS_GAP_MS=50.
 */
import { AddressInfo } from 'node:net';
import { ForestJobContext, ForestWorker } from '@forest/worker';
import { ADMIN_TOKEN, call, jobBody } from '../auth/auth-test-support';
import { startTestApp, TestApp } from '../support/app-harness';
import { EtcdHarness } from '../support/etcd-harness';
import { PostgresHarness } from '../support/postgres-harness';
import { openSse } from '../support/sse-client';
import { percentile, printTable, runBenchmark, sleep } from './bench-support';

const RUNS = Number(process.env.BENCH_LOGS_RUNS ?? 20);
const LINES = Number(process.env.BENCH_LOGS_LINES ?? 20);
const GAP_MS = Number(process.env.BENCH_LOGS_GAP_MS ?? 50);
const GROUP = 'logs';
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Handlers wait until the bench's follower is connected, then log with their write times. */
class LoggingHandler {
  readonly writtenAt = new Map<string, number[]>();
  private readonly gates = new Map<string, () => void>();

  readonly handle = async (ctx: ForestJobContext): Promise<string> => {
    await new Promise<void>((resolve) => this.gates.set(ctx.executionId, resolve));
    const times: number[] = [];
    this.writtenAt.set(ctx.executionId, times);
    for (let line = 1; line <= LINES; line++) {
      times.push(Date.now());
      ctx.logger.info(`line ${line}`);
      await sleep(GAP_MS);
    }
    return 'done';
  };

  waiting(id: string): boolean {
    return this.gates.has(id);
  }

  open(id: string): void {
    this.gates.get(id)?.();
  }
}

interface SetupResult {
  delays: number[];
  missing: number;
}

async function measure(node: TestApp): Promise<SetupResult> {
  await node.app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(node.app.getHttpServer().address() as AddressInfo).port}`;
  const admin = { token: ADMIN_TOKEN };
  await call(node.app, 'POST', '/api/groups', { ...admin, payload: { name: GROUP } });
  const job = await call(node.app, 'POST', '/api/jobs', {
    ...admin,
    payload: jobBody('logging', GROUP, { target: 'logging' }),
  });
  if (job.statusCode !== 201) throw new Error(`job: ${JSON.stringify(job.body)}`);
  const handler = new LoggingHandler();
  const worker = new ForestWorker({
    nodes: [base],
    group: GROUP,
    token: ADMIN_TOKEN,
    concurrency: 4,
    handlers: { logging: handler.handle },
    logger: quiet,
  });
  await worker.start();
  const delays: number[] = [];
  let missing = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const answer = await call(node.app, 'POST', '/api/jobs/logging/trigger', {
        ...admin,
        payload: {},
      });
      const id = answer.body.id as string;
      const stream = await openSse(`${base}/api/executions/${id}/logs/follow`, {
        authorization: `Bearer ${ADMIN_TOKEN}`,
      });
      const arrivedAt = new Map<number, number>();
      const seen = stream.events.length;
      const watcher = setInterval(() => {
        for (const event of stream.events.slice(seen)) {
          if (event.event === 'line' && !arrivedAt.has(event.data.seq)) {
            arrivedAt.set(event.data.seq, Date.now());
          }
        }
      }, 1);
      try {
        while (!handler.waiting(id)) await sleep(5);
        handler.open(id);
        await stream.next((event) => event.event === 'end', 30_000);
      } finally {
        clearInterval(watcher);
        stream.close();
      }
      const written = handler.writtenAt.get(id) ?? [];
      for (let seq = 1; seq <= LINES; seq++) {
        const at = arrivedAt.get(seq);
        if (at === undefined || written[seq - 1] === undefined) missing++;
        else delays.push(at - written[seq - 1]);
      }
    }
  } finally {
    await worker.stop({ timeoutMs: 2000 });
  }
  return { delays, missing };
}

function report(name: string, result: SetupResult): [string, string, string][] {
  const sorted = [...result.delays].sort((a, b) => a - b);
  return [
    [`${name}: lines followed`, String(sorted.length), ''],
    [`${name}: written -> seen p50`, percentile(sorted, 0.5).toFixed(0), 'ms'],
    [`${name}: written -> seen p99`, percentile(sorted, 0.99).toFixed(0), 'ms'],
    [`${name}: written -> seen max`, (sorted.at(-1) ?? NaN).toFixed(0), 'ms'],
    [`${name}: lines missing from a stream`, String(result.missing), ''],
  ];
}

runBenchmark(async () => {
  console.log(
    `live-log benchmark: ${RUNS} runs x ${LINES} lines, one every ${GAP_MS} ms; ` +
      'figure: line arrives on /logs/follow - the handler wrote it (target: within 500 ms)',
  );
  const env = { FOREST_AUTH: 'on', FOREST_ADMIN_TOKEN: ADMIN_TOKEN };
  const rows: [string, string, string][] = [];

  const embedded = await startTestApp({ store: 'embedded', env });
  try {
    rows.push(...report('embedded store (memory)', await measure(embedded)));
  } finally {
    await embedded.close();
  }

  const etcd = await EtcdHarness.start();
  const postgres = await PostgresHarness.start();
  try {
    const node = await startTestApp({
      store: 'etcd',
      etcdEndpoint: etcd.endpoint,
      env: { ...env, FOREST_HISTORY_URL: postgres.url },
    });
    try {
      rows.push(...report('etcd + PostgreSQL', await measure(node)));
    } finally {
      await node.close();
    }
  } finally {
    await postgres.stop();
    await etcd.stop();
  }
  printTable(rows);
});
