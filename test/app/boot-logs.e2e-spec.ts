import { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/etcd-harness';
import { NodeProcess, runToExit } from '../support/node-process';

type Exit = { code: number | null; signal: NodeJS.Signals | null };

function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves with how the process ended, or 'running' if it still runs after `ms`. */
async function exitWithin(child: ChildProcess, ms: number): Promise<Exit | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    exited(child),
    new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), ms))),
  ]);
  clearTimeout(timer);
  if (result === 'running') child.kill('SIGKILL');
  return result;
}

/** Like `node dist/src/main.js | head -n`: the reader goes away after `lines` lines. */
function closeStdoutAfter(child: ChildProcess, lines: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    child.stderr?.resume();
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').length - 1;
      if (seen >= lines && !child.stdout!.destroyed) {
        child.stdout!.destroy();
        resolve();
      }
    });
  });
}

/** Every non-empty line of the output, each of which must be a JSON object. */
function jsonLines(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        throw new Error(`not a JSON line: ${line}\n--- whole output:\n${output}`);
      }
    });
}

describe('a node that fails to start', () => {
  let root: string;
  let holder: NodeProcess | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'forest-boot-'));
  });

  afterEach(async () => {
    await holder?.stop();
    holder = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  /** A running node whose port and data dir the next one will find taken. */
  async function occupy(): Promise<{ port: string; dataDir: string }> {
    const dataDir = join(root, 'held');
    holder = await NodeProcess.start({ FOREST_DATA_DIR: dataDir, FOREST_LOG_LEVEL: 'warn' });
    return { port: new URL(holder.baseUrl).port, dataDir };
  }

  describe('with its output going to a reader that closed (`| head`)', () => {
    it.each([1, 5])(
      'on a busy port exits non-zero (reader gone after %i lines)',
      async (lines) => {
        const { port } = await occupy();
        const child = NodeProcess.run([], {
          FOREST_HTTP_PORT: port,
          FOREST_DATA_DIR: join(root, `second-${lines}`),
        });
        void closeStdoutAfter(child, lines);
        const result = await exitWithin(child, 20_000);
        expect(result).not.toBe('running');
        expect(result).toEqual({ code: 1, signal: null });
      },
      45_000,
    );

    it('exits on SIGTERM while still starting', async () => {
      // An etcd nobody answers: the start waits on it, logging meanwhile.
      const child = NodeProcess.run([], {
        FOREST_HTTP_PORT: '0',
        FOREST_ETCD_ENDPOINTS: `127.0.0.1:${await freePort()}`,
        FOREST_ETCD_DIAL_TIMEOUT_MS: '20000',
        FOREST_DATA_DIR: join(root, 'unused'),
      });
      await closeStdoutAfter(child, 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.kill('SIGTERM');
      const result = await exitWithin(child, 10_000);
      expect(result).not.toBe('running');
      expect(result).not.toEqual({ code: 0, signal: null });
    }, 45_000);
  });

  describe('logs only JSON lines', () => {
    it('on a busy port', async () => {
      const { port } = await occupy();
      const { code, stdout, stderr } = await runToExit(
        NodeProcess.run([], { FOREST_HTTP_PORT: port, FOREST_DATA_DIR: join(root, 'second') }),
      );
      expect(code).toBe(1);
      expect(stderr).toBe('');
      const last = jsonLines(stdout).at(-1)!;
      expect(last).toMatchObject({ level: 60, msg: expect.stringContaining('EADDRINUSE') });
      expect(last.err.stack).toContain('EADDRINUSE');
    }, 45_000);

    it('on a data dir another node holds', async () => {
      const { dataDir } = await occupy();
      const { code, stdout, stderr } = await runToExit(
        NodeProcess.run([], { FOREST_HTTP_PORT: '0', FOREST_DATA_DIR: dataDir }),
      );
      expect(code).toBe(1);
      expect(stderr).toBe('');
      const lines = jsonLines(stdout);
      expect(lines.at(-1)).toMatchObject({
        level: 60,
        msg: expect.stringMatching(
          /^Forest failed to start: data directory .* is in use by process/,
        ),
      });
      // Nest's own report of the failure is not repeated in another format.
      expect(lines.filter((l) => l.level >= 50)).toHaveLength(1);
    }, 45_000);

    it('on a plugin that fails to load, and when it is skipped', async () => {
      mkdirSync(join(root, 'plugins', 'broken'), { recursive: true });
      writeFileSync(join(root, 'plugins', 'broken', 'index.js'), "throw new Error('boom');\n");
      const env = { FOREST_PLUGIN_PATHS: join(root, 'plugins'), FOREST_DATA_DIR: join(root, 'd') };
      const failed = await runToExit(NodeProcess.run([], { ...env, FOREST_HTTP_PORT: '0' }));
      expect(failed.code).toBe(2);
      expect(failed.stderr).toBe('');
      expect(jsonLines(failed.stdout)).toEqual([
        expect.objectContaining({
          level: 60,
          msg: `Forest failed to start: ${join(root, 'plugins', 'broken')} failed to load: boom`,
        }),
      ]);

      const { port } = await occupy(); // skipped, then a busy port ends the boot
      const skipped = await runToExit(
        NodeProcess.run([], { ...env, FOREST_PLUGIN_ON_ERROR: 'skip', FOREST_HTTP_PORT: port }),
      );
      expect(skipped.code).toBe(1);
      expect(skipped.stderr).toBe('');
      expect(jsonLines(skipped.stdout)[0]).toMatchObject({
        level: 40,
        context: 'PluginLoader',
        msg: expect.stringContaining('plugin skipped (FOREST_PLUGIN_ON_ERROR=skip)'),
      });
    }, 60_000);

    it('and readable lines with FOREST_LOG_FORMAT=pretty', async () => {
      const { port } = await occupy();
      const { code, stdout } = await runToExit(
        NodeProcess.run([], {
          FOREST_HTTP_PORT: port,
          FOREST_DATA_DIR: join(root, 'second'),
          FOREST_LOG_FORMAT: 'pretty',
        }),
      );
      expect(code).toBe(1);
      expect(stdout).toMatch(
        /^\d{4}-\d\d-\d\dT\S+Z INFO {2}\[NestFactory\] Starting Nest application/m,
      );
      expect(stdout).toMatch(
        /Z FATAL Forest failed to start: listen EADDRINUSE.*\n {4}Error: listen/,
      );
      expect(stdout).not.toMatch(/^\{/m);
    }, 45_000);
  });

  it('--help and configuration errors stay plain text (usage messages)', async () => {
    const help = await runToExit(NodeProcess.run(['--help'], {}));
    expect(help.stdout).toMatch(/^Forest scheduler node\n/);
    const bad = await runToExit(NodeProcess.run([], { FOREST_LOG_FORMAT: 'fancy' }));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('FOREST_LOG_FORMAT: "fancy" is not allowed: use json or pretty');
  });
});
