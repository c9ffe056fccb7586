import { Agent, request } from 'node:http';
import { connect, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess } from '../support/node-process';

/**
 * The HTTP surface under hostile requests, over a real port of a node process: bodies that
 * are costly to parse or validate answer 400 quickly while /health stays responsive, and
 * requests that are never fully sent are closed after the configured timeouts. Timings are
 * printed; the only one asserted tightly is /health's 50 ms.
 */
describe('HTTP under hostile requests (node process, real port)', () => {
  let node: NodeProcess;
  let dataDir: string;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-http-'));
    node = await NodeProcess.start({
      FOREST_DATA_DIR: dataDir,
      FOREST_LOG_LEVEL: 'error',
      FOREST_HTTP_HEADERS_TIMEOUT_MS: '1000',
      FOREST_HTTP_REQUEST_TIMEOUT_MS: '1000',
      FOREST_HTTP_IDLE_TIMEOUT_MS: '500',
    });
    port = Number(new URL(node.baseUrl).port);
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await node?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  interface Answer {
    status: number;
    body: string;
    ms: number;
  }

  function send(
    method: string,
    path: string,
    body?: Buffer,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: body
            ? {
                'content-type': 'application/json',
                'content-length': String(body.length),
                ...headers,
              }
            : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              ms: performance.now() - started,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Probes /health back to back until stopped; resolves with every latency. */
  function probeHealth(): { stop: () => Promise<number[]> } {
    const latencies: number[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const answer = await send('GET', '/health');
        expect(answer.status).toBe(200);
        latencies.push(answer.ms);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return latencies;
      },
    };
  }

  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return `n=${sorted.length} median=${at(0.5).toFixed(1)} p99=${at(0.99).toFixed(1)} max=${sorted[sorted.length - 1].toFixed(1)} ms`;
  };

  it('answers costly bodies 400 quickly while /health answers within 50 ms throughout', async () => {
    const object = (count: number, key: (i: number) => string, base: object = {}) => {
      const result: Record<string, unknown> = { ...base };
      for (let i = 0; i < count; i++) result[key(i)] = 1;
      return result;
    };
    const json = (value: unknown) => Buffer.from(JSON.stringify(value));
    const job = {
      id: 'wide',
      name: 'w',
      group: 'none',
      target: 't',
      schedule: { cron: '* * * * *' },
    };
    // The first two are the issue's: /health must answer within 50 ms while they are sent.
    // The others are the costliest bodies under the default limits: timings printed.
    const cases: { name: string; path: string; body: Buffer; status: number; code: string }[] = [
      {
        name: '50,000 unknown keys',
        path: '/api/groups',
        body: json(object(50_000, (i) => `k${i}`, { name: 'flood' })),
        status: 400,
        code: 'JSON_TOO_WIDE',
      },
      {
        name: 'nested 100,000 deep',
        path: '/api/groups',
        body: Buffer.from(`{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
        status: 400,
        code: 'JSON_TOO_DEEP',
      },
      {
        name: '19,990 unknown keys (under FOREST_JSON_MAX_KEYS)',
        path: '/api/groups',
        body: json(object(19_990, (i) => `unknown-field-${i}`, { name: 'flood' })),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: '150,000 array items',
        path: '/api/groups',
        body: Buffer.from(`{"name":[${'0,'.repeat(149_999)}0]}`),
        status: 400,
        code: 'JSON_TOO_WIDE',
      },
      {
        name: 'job params with 19,000 keys',
        path: '/api/jobs',
        body: json({ ...job, params: object(19_000, (i) => `param-${i}`) }),
        status: 413,
        code: 'PARAMS_TOO_LARGE',
      },
      {
        name: 'a 1,000,000-character name',
        path: '/api/groups',
        body: json({ name: 'x'.repeat(1_000_000) }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
    ];
    // Warm up (first requests compile code paths).
    await send('GET', '/health');
    await send('POST', '/api/groups', Buffer.from('{"name":1}'));
    await send('POST', '/api/groups', Buffer.from('{"name":"none"}'));

    const lines: string[] = [];
    const run = async (kinds: typeof cases) => {
      const probes = probeHealth();
      for (const kind of kinds) {
        const answers: Answer[] = [];
        for (let round = 0; round < 3; round++) {
          // Three at once, as in the report.
          answers.push(
            ...(await Promise.all([0, 1, 2].map(() => send('POST', kind.path, kind.body)))),
          );
        }
        for (const answer of answers) {
          expect({ kind: kind.name, status: answer.status }).toEqual({
            kind: kind.name,
            status: kind.status,
          });
          expect(JSON.parse(answer.body)).toMatchObject({ code: kind.code });
          expect(answer.body.length).toBeLessThan(5000);
          expect(answer.ms).toBeLessThan(2000);
        }
        lines.push(
          `${kind.name} (${(kind.body.length / 1024).toFixed(0)} KiB) -> ${kind.status} ${kind.code}, ` +
            `${answers[0].body.length} bytes; 3 at once x3: ${summary(answers.map((a) => a.ms))}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return probes.stop();
    };
    // On a busy 2-core machine (other jest workers, the client in this process) the
    // scheduler alone can delay one probe: up to 3 attempts, each printed; the regression
    // this guards against (seconds) fails them all.
    let issueHealth: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      issueHealth = await run(cases.slice(0, 2));
      lines.push(`/health meanwhile (attempt ${attempt}): ${summary(issueHealth)}`);
      if (Math.max(...issueHealth) < 50) break;
    }
    const otherHealth = await run(cases.slice(2));
    lines.push(`/health meanwhile: ${summary(otherHealth)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    expect(issueHealth.length).toBeGreaterThan(10);
    expect(Math.max(...issueHealth)).toBeLessThan(50);
    // Bodies that are parsed and validated in full cost the node some ms each; /health
    // waits behind at most a few of them (printed above; bounded loosely here).
    expect(Math.max(...otherHealth)).toBeLessThan(1000);
  }, 60_000);

  function rawSocket(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  function closed(socket: Socket, started: number): Promise<{ ms: number; data: string }> {
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => undefined);
    return new Promise((resolve) =>
      socket.once('close', () => resolve({ ms: performance.now() - started, data })),
    );
  }

  it('closes a request whose body never completes after the request timeout', async () => {
    const socket = await rawSocket();
    const started = performance.now();
    socket.write(
      'POST /api/groups HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"a',
    );
    const { ms, data } = await closed(socket, started);
    process.stdout.write(
      `half-sent body (1000 announced, 10 sent): closed after ${ms.toFixed(0)} ms (${data.split('\r\n')[0]})\n`,
    );
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(4000);
    // Nothing was created.
    expect((await send('GET', '/api/groups')).body).not.toContain('"a"');
  });

  it('closes a request whose headers trickle in after the headers timeout', async () => {
    const socket = await rawSocket();
    const started = performance.now();
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
    const { ms } = await closed(socket, started);
    clearInterval(trickle);
    process.stdout.write(`trickled headers: closed after ${ms.toFixed(0)} ms\n`);
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(4000);
  });

  it('closes an idle keep-alive connection after the idle timeout', async () => {
    const socket = await rawSocket();
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const started = performance.now();
    const { ms, data } = await closed(socket, started);
    process.stdout.write(`idle keep-alive connection: closed after ${ms.toFixed(0)} ms\n`);
    expect(data).toMatch(/^HTTP\/1\.1 200/);
    expect(ms).toBeGreaterThan(400);
    expect(ms).toBeLessThan(3000);
  });

  it('holds a long-poll answer past the request timeout (only receiving is bounded)', async () => {
    expect((await send('POST', '/api/groups', Buffer.from('{"name":"pollers"}'))).status).toBe(201);
    const registered = await send(
      'POST',
      '/api/workers',
      Buffer.from(
        JSON.stringify({ group: 'pollers', targets: ['t'], capacity: 1, host: 'h', pid: 1 }),
      ),
    );
    expect(registered.status).toBe(201);
    const worker = JSON.parse(registered.body) as { workerId: string; sessionSecret?: string };
    const headers: Record<string, string> = worker.sessionSecret
      ? { authorization: `Bearer ${worker.sessionSecret}` }
      : {};
    const poll = await send(
      'GET',
      `/api/workers/pollers/${worker.workerId}/assignments?waitMs=2500`,
      undefined,
      headers,
    );
    process.stdout.write(
      `long poll (waitMs=2500, request timeout 1000): ${poll.status} after ${poll.ms.toFixed(0)} ms\n`,
    );
    expect(poll.status).toBe(200);
    expect(poll.ms).toBeGreaterThan(2000);
  });
});
