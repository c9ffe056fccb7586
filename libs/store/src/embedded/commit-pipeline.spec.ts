import { CommitPipeline, CommitSink, Entry } from './commit-pipeline';

/** A sink whose writes finish only when the test says so. */
class ManualSink implements CommitSink<string> {
  readonly writes: string[][] = [];
  readonly published: string[] = [];
  failure?: Error;
  private finish: Array<(error?: Error) => void> = [];

  write(batch: Array<Entry<string>>): Promise<void> {
    this.writes.push(batch.map((entry) => entry.item));
    return new Promise((resolve, reject) =>
      this.finish.push((error) => (error ? reject(error) : resolve())),
    );
  }

  durable(batch: Array<Entry<string>>): void {
    this.published.push(...batch.map((entry) => entry.item));
  }

  failed(error: Error): void {
    this.failure = error;
  }

  /** Completes the oldest write in flight. */
  complete(error?: Error): void {
    this.finish.shift()?.(error);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CommitPipeline (group commit)', () => {
  it('writes changes that arrive during a flush together in the next single write', async () => {
    const sink = new ManualSink();
    const pipeline = new CommitPipeline<string>(0, sink);
    const order: string[] = [];
    const track = (item: string) => pipeline.submit(item).then(() => order.push(item));

    const first = track('a');
    await tick();
    expect(sink.writes).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map(track);
    await tick();
    expect(sink.writes).toHaveLength(1); // b, c and d wait for the flush in flight

    sink.complete();
    await first;
    expect(order).toEqual(['a']);
    await tick();
    expect(sink.writes).toEqual([['a'], ['b', 'c', 'd']]);
    sink.complete();
    await Promise.all(rest);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(sink.published).toEqual(['a', 'b', 'c', 'd']);
    expect(pipeline.flushes).toBe(2);
  });

  it('answers a read barrier only once everything before it is durable', async () => {
    const sink = new ManualSink();
    const pipeline = new CommitPipeline<string>(10, sink);
    await pipeline.barrier(); // nothing pending: immediate
    const write = pipeline.submit('x');
    let read = false;
    const barrier = pipeline.barrier().then(() => (read = true));
    await tick();
    expect(read).toBe(false);
    sink.complete();
    await Promise.all([write, barrier]);
    expect(read).toBe(true);
    expect(pipeline.lastLsn).toBe(11);
  });

  it('fails every waiting and later change once a write fails', async () => {
    const sink = new ManualSink();
    const pipeline = new CommitPipeline<string>(0, sink);
    const first = pipeline.submit('a');
    await tick();
    const second = pipeline.submit('b');
    const boom = new Error('disk full');
    sink.complete(boom);
    await expect(first).rejects.toBe(boom);
    await expect(second).rejects.toBe(boom);
    await expect(pipeline.submit('c')).rejects.toBe(boom);
    await expect(pipeline.barrier()).rejects.toBe(boom);
    expect(sink.failure).toBe(boom);
    expect(sink.published).toEqual([]);
    await pipeline.drain();
  });
});
