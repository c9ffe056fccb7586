import { MemoryExecutionLogs } from './memory-logs';

const lines = (count: number, text: string) =>
  Array.from({ length: count }, (_, i) => ({ seq: i + 1, atMs: 0, level: 'info' as const, text }));

describe('MemoryExecutionLogs total bound', () => {
  it('evicts the logs of the executions that began logging first', async () => {
    const logs = new MemoryExecutionLogs({ maxTotalBytes: 100 });
    await logs.append('job~1', lines(4, 'x'.repeat(10))); // 40 bytes
    await logs.append('job~2', lines(4, 'y'.repeat(10))); // 80
    await logs.append('job~3', lines(4, 'z'.repeat(10))); // 120: job~1 goes
    expect(await logs.read('job~1', 0, 10)).toEqual([]);
    expect(await logs.read('job~2', 0, 10)).toHaveLength(4);
    expect(await logs.read('job~3', 0, 10)).toHaveLength(4);
  });

  it('keeps the execution being written even when it alone is over the total', async () => {
    const logs = new MemoryExecutionLogs({ maxTotalBytes: 10 });
    await logs.append('job~1', lines(1, 'a'));
    await logs.append('job~2', lines(3, 'b'.repeat(10)));
    expect(await logs.read('job~1', 0, 10)).toEqual([]);
    expect(await logs.read('job~2', 0, 10)).toHaveLength(3);
  });
});
