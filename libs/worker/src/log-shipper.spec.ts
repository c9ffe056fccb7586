import type {
  LogBatchRequest,
  LogBatchResponse,
  WorkerLogLine,
  WorkerLogPolicy,
} from '@forest/protocol';
import { ForestNodeError } from './forest-worker.errors';
import { cutLine, LogShipper, type LogShipperOptions } from './log-shipper';

const POLICY: WorkerLogPolicy = {
  enabled: true,
  maxBytesPerExecution: 1024 * 1024,
  maxLinesPerExecution: 10_000,
  maxLineBytes: 8192,
  maxLinesPerBatch: 1000,
};
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A node that stores every line it is sent (once per seq) and answers like the real one. */
function recordingNode() {
  const batches: LogBatchRequest[] = [];
  const stored = new Map<string, WorkerLogLine[]>();
  const send = jest.fn((batch: LogBatchRequest): Promise<LogBatchResponse> => {
    batches.push(structuredClone(batch));
    return Promise.resolve({
      results: batch.executions.map(({ executionId, lines }) => {
        const kept = stored.get(executionId) ?? [];
        const fresh = lines.filter((line) => !kept.some((k) => k.seq === line.seq));
        stored.set(executionId, [...kept, ...fresh]);
        return { executionId, outcome: 'accepted' as const, stored: fresh.length, dropped: 0 };
      }),
    });
  });
  return { batches, stored, send };
}

function shipper(send: LogShipperOptions['send'], options: Partial<LogShipperOptions> = {}) {
  const logs = new LogShipper({
    send,
    logger: quiet,
    retryInitialMs: 1,
    retryMaxMs: 5,
    intervalMs: 10,
    ...options,
  });
  logs.configure(POLICY);
  return logs;
}

const texts = (lines: readonly WorkerLogLine[] | undefined) => (lines ?? []).map((l) => l.text);
const seqs = (lines: readonly WorkerLogLine[] | undefined) => (lines ?? []).map((l) => l.seq);

describe('LogShipper', () => {
  it('sends nothing until a registration enables logs, nor after one disables them', async () => {
    const node = recordingNode();
    const logs = new LogShipper({
      send: node.send,
      logger: quiet,
      retryInitialMs: 1,
      retryMaxMs: 5,
    });
    logs.begin('e1');
    logs.line('e1', 'info', 'before registration');
    expect(await logs.flush(1000)).toBe(true);
    logs.configure({ ...POLICY, enabled: false });
    logs.begin('e2');
    logs.line('e2', 'info', 'node keeps no logs');
    await logs.finish('e2', 1000);
    expect(await logs.flush(1000)).toBe(true);
    logs.configure(undefined); // an older node: no `logs` in its answer
    logs.begin('e3');
    logs.line('e3', 'info', 'older node');
    expect(await logs.flush(1000)).toBe(true);
    expect(node.send).not.toHaveBeenCalled();
    expect(logs.pending).toBe(0);
  });

  it('numbers each execution\u2019s lines and sends the waiting lines of all executions in one batch', async () => {
    const node = recordingNode();
    const logs = shipper(node.send, { intervalMs: 20 });
    logs.begin('a');
    logs.begin('b');
    logs.line('a', 'info', 'a1', 1000);
    logs.line('b', 'warn', 'b1', 1001);
    logs.line('a', 'error', 'a2', 1002);
    await logs.flush(5000);
    expect(node.batches).toHaveLength(1);
    expect(node.batches[0].executions).toEqual([
      {
        executionId: 'a',
        lines: [
          { seq: 1, atMs: 1000, level: 'info', text: 'a1' },
          { seq: 2, atMs: 1002, level: 'error', text: 'a2' },
        ],
      },
      { executionId: 'b', lines: [{ seq: 1, atMs: 1001, level: 'warn', text: 'b1' }] },
    ]);
    expect(logs.stats).toEqual({ sent: 3, dropped: 0 });
  });

  it('sends on its own once the interval passes', async () => {
    const node = recordingNode();
    const logs = shipper(node.send, { intervalMs: 5, batchLines: 1000 });
    logs.begin('e');
    logs.line('e', 'info', 'one');
    logs.line('e', 'info', 'two');
    await waitUntil(() => node.batches.length > 0);
    expect(texts(node.stored.get('e'))).toEqual(['one', 'two']);
  });

  it('sends a full batch at once, without waiting for the interval', async () => {
    const node = recordingNode();
    // An interval no test waits for: only the batch size can make it send.
    const logs = shipper(node.send, { intervalMs: 3_600_000, batchLines: 5 });
    logs.begin('e');
    for (let i = 1; i <= 4; i++) logs.line('e', 'info', `l${i}`);
    await Promise.resolve();
    expect(node.send).not.toHaveBeenCalled();
    logs.line('e', 'info', 'l5');
    await waitUntil(() => node.batches.length > 0);
    expect(seqs(node.batches[0].executions[0].lines)).toEqual([1, 2, 3, 4, 5]);
    logs.close();
  });

  it('sends a failed batch again with the same seqs, and the node stores each line once', async () => {
    const node = recordingNode();
    let calls = 0;
    const flaky = (batch: LogBatchRequest) => {
      calls++;
      if (calls === 1) {
        // The node stored it, but the answer was lost on the way back.
        void node.send(batch);
        return Promise.reject(new Error('socket hang up'));
      }
      if (calls === 2)
        return Promise.reject(
          new ForestNodeError(503, 'STORE_UNAVAILABLE', 'x', undefined, 'POST', 'n'),
        );
      return node.send(batch);
    };
    const logs = shipper(flaky);
    logs.begin('e');
    logs.line('e', 'info', 'first');
    logs.line('e', 'info', 'second');
    expect(await logs.flush(5000)).toBe(true);
    expect(calls).toBe(3);
    expect(node.batches.map((b) => seqs(b.executions[0].lines))).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(texts(node.stored.get('e'))).toEqual(['first', 'second']);
  });

  it('keeps its queue bounded while the node is unreachable: the oldest lines go, counted', async () => {
    let release!: () => void;
    const unreachable = new Promise<void>((resolve) => (release = resolve));
    const node = recordingNode();
    const send = async (batch: LogBatchRequest) => {
      await unreachable;
      return node.send(batch);
    };
    const logs = shipper(send, { intervalMs: 3_600_000, batchLines: 2, maxQueuedLines: 3 });
    logs.begin('e');
    logs.line('e', 'info', 'l1');
    logs.line('e', 'info', 'l2'); // a batch of two is on its way, waiting for the node
    for (let i = 3; i <= 8; i++) logs.line('e', 'info', `l${i}`);
    expect(logs.stats.dropped).toBe(3); // l3, l4, l5: the queue holds l6..l8
    expect(logs.pending).toBe(5);
    release();
    expect(await logs.flush(5000)).toBe(true);
    expect(seqs(node.stored.get('e'))).toEqual([1, 2, 6, 7, 8]);
    expect(logs.stats).toEqual({ sent: 5, dropped: 3 });
  });

  it('sends no more than the node keeps per execution, and cuts long lines to the line limit', async () => {
    const node = recordingNode();
    const logs = new LogShipper({
      send: node.send,
      logger: quiet,
      retryInitialMs: 1,
      retryMaxMs: 5,
    });
    logs.configure({ ...POLICY, maxLinesPerExecution: 2, maxLineBytes: 16 });
    logs.begin('e');
    logs.line('e', 'info', 'x'.repeat(100));
    logs.line('e', 'info', 'short');
    logs.line('e', 'info', 'over the bound');
    expect(await logs.flush(5000)).toBe(true);
    const stored = node.stored.get('e') ?? [];
    expect(texts(stored)).toEqual([`${'x'.repeat(13)}…`, 'short']);
    expect(Buffer.byteLength(stored[0].text)).toBeLessThanOrEqual(16);
    expect(logs.stats).toEqual({ sent: 2, dropped: 1 });
  });

  it('finish resolves once the execution\u2019s lines reached the node', async () => {
    const order: string[] = [];
    const node = recordingNode();
    const logs = shipper(
      async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`sent ${batch.executions[0].lines.length}`);
        return node.send(batch);
      },
      { intervalMs: 3_600_000 },
    );
    logs.begin('e');
    logs.line('e', 'info', 'last words');
    await logs.finish('e', 5000);
    order.push('finished');
    expect(order).toEqual(['sent 1', 'finished']);
    logs.forget('e');
    logs.line('e', 'info', 'after the run ended');
    expect(logs.pending).toBe(0);
  });

  it('stops sending for an execution the node says is not this worker\u2019s, or that was revoked', async () => {
    const sent: LogBatchRequest[] = [];
    const logs = shipper((batch) => {
      sent.push(structuredClone(batch));
      return Promise.resolve({
        results: batch.executions.map(({ executionId }) => ({
          executionId,
          outcome: executionId === 'moved' ? ('conflict' as const) : ('accepted' as const),
          stored: 1,
          dropped: 0,
        })),
      });
    });
    for (const id of ['moved', 'mine', 'revoked']) logs.begin(id);
    logs.line('moved', 'info', 'm1');
    logs.line('mine', 'info', 'k1');
    await logs.flush(5000);
    logs.discard('revoked');
    logs.line('revoked', 'info', 'r1');
    logs.line('moved', 'info', 'm2');
    logs.line('mine', 'info', 'k2');
    await logs.flush(5000);
    const ids = sent.flatMap((b) => b.executions.map((e) => e.executionId));
    expect(ids).toEqual(['moved', 'mine', 'mine']);
  });

  it('turns itself off when the node answers LOGS_NOT_KEPT, and drops a batch the node refuses', async () => {
    const refusing = jest.fn(() =>
      Promise.reject(new ForestNodeError(400, 'VALIDATION_FAILED', 'bad', undefined, 'POST', 'n')),
    );
    const refused = shipper(refusing);
    refused.begin('e');
    refused.line('e', 'info', 'refused');
    expect(await refused.flush(5000)).toBe(true);
    expect(refused.stats).toEqual({ sent: 0, dropped: 1 });
    expect(refused.enabled).toBe(true);

    const notKept = jest.fn(() =>
      Promise.reject(new ForestNodeError(409, 'LOGS_NOT_KEPT', 'no', undefined, 'POST', 'n')),
    );
    const off = shipper(notKept);
    off.begin('e');
    off.line('e', 'info', 'one');
    expect(await off.flush(5000)).toBe(true);
    expect(off.enabled).toBe(false);
    off.line('e', 'info', 'two');
    expect(await off.flush(5000)).toBe(true);
    expect(notKept).toHaveBeenCalledTimes(1);
  });
});

describe('cutLine', () => {
  it('keeps lines within the limit as they are and never splits a character', () => {
    expect(cutLine('hello', 5)).toBe('hello');
    const cut = cutLine('ééééé', 8); // 10 bytes
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(8);
    expect(cut).toBe('éé…');
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
