/* Helpers the benchmarks share: percentiles, process CPU from /proc, the summary table. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CoordinationStore, TxnOp } from '@forest/store';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The q-quantile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** utime + stime of a process in µs, from /proc (Linux); undefined elsewhere. */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return (ticks * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU time every process of the host has used (busy: all but idle and iowait), in µs of one
 * core, from /proc/stat (Linux); undefined elsewhere. Less a run's own processes: how much
 * else ran beside it.
 */
export function hostCpuMicros(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [, ...fields] = line.trim().split(/\s+/);
    const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
    const busy = ticks.reduce((sum, v) => sum + v, 0) - ticks[3] - ticks[4];
    return (busy * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Prints the closing table of a benchmark: figure, measured value, target. */
export function printTable(rows: [string, string, string][], nameWidth = 44, valueWidth = 12) {
  console.log('');
  console.log(`${'figure'.padEnd(nameWidth)} ${'measured'.padStart(valueWidth)}  target`);
  for (const [name, value, target] of rows) {
    console.log(`${name.padEnd(nameWidth)} ${value.padStart(valueWidth)}  ${target}`);
  }
}

/**
 * Prints a table with a column per variant: `headers` name the columns (the first one the
 * figures), `widths` their widths; the first column is padded right, the others left, but
 * the last, which is printed as it is (a target, say).
 */
export function printColumns(headers: string[], rows: string[][], widths: number[]): void {
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0
          ? cell.padEnd(widths[0])
          : i === cells.length - 1
            ? cell
            : cell.padStart(widths[i] ?? 12),
      )
      .join('  ')
      .trimEnd();
  console.log('');
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

/** Runs a benchmark's main and exits non-zero (with the error) if it fails. */
export function runBenchmark(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** Puts every key/value in txns of `perTxn` puts, `lanes` txns at a time. */
export async function putAll(
  store: CoordinationStore,
  kvs: [string, string][],
  perTxn = 100,
  lanes = 8,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < kvs.length) {
      const batch = kvs.slice(next, next + perTxn);
      next += perTxn;
      const success: TxnOp[] = batch.map(([key, value]) => ({ type: 'put', key, value }));
      await store.txn({ compare: [], success });
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}
