/*
 * Coordination-store benchmark: the figures the scheduler's targets rest on, for both
 * adapters. Prints; asserts nothing. Run with `npm run bench`.
 *
 *   - sequential puts/s (one at a time: latency-bound)
 *   - concurrent fenced-style txns/s (200 in flight: what group commit buys)
 *   - 50-op txns/s (batched fires)
 *   - watch delivery latency (put resolved -> event delivered), p50/p99
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationStore, EmbeddedStore, EtcdStore, WatchEvent } from '@forest/store';
import { EtcdHarness } from '../support/etcd-harness';

const SEQUENTIAL = 1000;
const CONCURRENT = 5000;
const IN_FLIGHT = 200;
const BATCHES = 200;
const WATCH_SAMPLES = 500;

async function sequentialPuts(store: CoordinationStore): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) await store.put(`bench/seq/${i}`, 'v');
  return SEQUENTIAL / ((performance.now() - start) / 1000);
}

async function concurrentTxns(store: CoordinationStore): Promise<number> {
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    while (next < CONCURRENT) {
      const i = next++;
      await store.txn({
        compare: [{ key: `bench/txn/${i}`, target: 'createRevision', op: '==', value: 0 }],
        success: [{ type: 'put', key: `bench/txn/${i}`, value: 'v' }],
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return CONCURRENT / ((performance.now() - start) / 1000);
}

async function batchedTxns(store: CoordinationStore): Promise<number> {
  const start = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    await store.txn({
      compare: [],
      success: Array.from({ length: 50 }, (_, i) => ({
        type: 'put' as const,
        key: `bench/batch/${b}/${i}`,
        value: 'v',
      })),
    });
  }
  return (BATCHES * 50) / ((performance.now() - start) / 1000);
}

async function watchLatency(store: CoordinationStore): Promise<{ p50: number; p99: number }> {
  const arrivals = new Map<string, number>();
  let wake: (() => void) | undefined;
  const watch = await store.watch('bench/watch/', {
    onEvents: (events: WatchEvent[]) => {
      const now = performance.now();
      for (const event of events) arrivals.set(event.kv.key, now);
      wake?.();
    },
  });
  const samples: number[] = [];
  for (let i = 0; i < WATCH_SAMPLES; i++) {
    const key = `bench/watch/${i}`;
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    const sent = performance.now();
    await store.put(key, 'v');
    if (!arrivals.has(key)) await arrived;
    samples.push(arrivals.get(key)! - sent);
  }
  await watch.cancel();
  samples.sort((a, b) => a - b);
  return {
    p50: samples[Math.floor(samples.length * 0.5)],
    p99: samples[Math.floor(samples.length * 0.99)],
  };
}

async function measure(name: string, store: CoordinationStore): Promise<void> {
  const seq = await sequentialPuts(store);
  const conc = await concurrentTxns(store);
  const batched = await batchedTxns(store);
  const watch = await watchLatency(store);
  console.log(
    `${name.padEnd(9)} sequential puts ${seq.toFixed(0).padStart(6)}/s | ` +
      `txns (${IN_FLIGHT} in flight) ${conc.toFixed(0).padStart(6)}/s | ` +
      `puts in 50-op txns ${batched.toFixed(0).padStart(7)}/s | ` +
      `put->watch event p50 ${watch.p50.toFixed(2)} ms p99 ${watch.p99.toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  console.log(`store benchmark (${new Date().toISOString()}, node ${process.version})`);
  const dataDir = mkdtempSync(join(tmpdir(), 'forest-bench-'));
  const embedded = await EmbeddedStore.open({ dataDir });
  try {
    await measure('embedded', embedded);
  } finally {
    await embedded.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const etcd = await EtcdHarness.start();
  const store = new EtcdStore({ endpoints: [etcd.endpoint], prefix: '/bench/' });
  try {
    await measure('etcd', store);
  } finally {
    await store.close();
    await etcd.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
