import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NodeProcess } from '../support/node-process';

/**
 * The README's "Quick start", run as written: every command of the section's bash blocks,
 * in order. `npm start` becomes a node process on a free port and a temp data dir
 * (NodeProcess: the same src/main.ts without rebuilding dist/), `npm ci` is skipped (the
 * tests run on installed dependencies), `npm run example:worker` runs as it is (it builds
 * and starts examples/worker), pointed at that node by FOREST_NODES, and every curl runs in
 * bash with localhost:2856 replaced by the node's address. A command of another kind fails
 * the test, so the README cannot grow a step this test does not run.
 */

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The commands of the bash blocks in the README's "Quick start" section, in order. */
function quickStartCommands(readme: string): string[] {
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quick start" section');
  const commands: string[] = [];
  for (const [, block] of section.matchAll(/^```bash\n([\s\S]*?)^```/gm)) {
    let current = '';
    for (const line of block.split('\n')) {
      if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
      current += `${line}\n`;
      // A command ends where its single quotes are balanced and no backslash continues it.
      const open = (current.match(/'/g) ?? []).length % 2 === 1;
      if (!open && !line.endsWith('\\')) {
        commands.push(current.trim());
        current = '';
      }
    }
    if (current !== '') throw new Error(`unterminated command in the quick start: ${current}`);
  }
  return commands;
}

/** A command without its trailing `# comment` (npm commands carry no quotes). */
function bare(command: string): string {
  return command.replace(/\s+#.*$/, '').trim();
}

async function until<T>(
  what: () => string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether any process of the group `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface ExecutionItem {
  id: string;
  status: string;
}

describe('README quick start', () => {
  let dataDir: string;
  let node: NodeProcess | undefined;
  let worker: ChildProcess | undefined;
  let workerLog = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'forest-quickstart-'));
  });

  afterAll(async () => {
    // The worker runs in its own process group (npm, sh, node): end all of it.
    if (worker?.pid !== undefined && groupAlive(worker.pid)) process.kill(-worker.pid, 'SIGKILL');
    await node?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs as written: node, group and job, example worker, executions succeed', async () => {
    const commands = quickStartCommands(await readFile(join(root, 'README.md'), 'utf8'));
    expect(commands.length).toBeGreaterThanOrEqual(4);

    const answers: Array<{ command: string; body: any }> = [];
    let jobId: string | undefined;
    let params: any;
    let succeeded: ExecutionItem | undefined;

    const get = async (path: string): Promise<any> =>
      (await fetch(`${node!.baseUrl}${path}`)).json();
    const curl = async (command: string) => {
      const address = node!.baseUrl.replace('http://', '');
      const { stdout } = await run('bash', ['-c', command.replaceAll('localhost:2856', address)]);
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`not JSON from ${command}:\n${stdout}`);
      }
    };

    for (const command of commands) {
      if (command.startsWith('npm ')) {
        for (const step of bare(command).split(/\s*&&\s*/)) {
          if (step === 'npm ci') continue;
          if (step === 'npm start') {
            expect(node).toBeUndefined();
            node = await NodeProcess.start({ FOREST_DATA_DIR: join(dataDir, 'data') });
          } else if (step === 'npm run example:worker') {
            expect(node).toBeDefined();
            // Detached: its own process group, so the test can stop it as Ctrl-C would.
            worker = spawn('bash', ['-c', step], {
              cwd: root,
              env: { ...process.env, FOREST_NODES: node!.baseUrl },
              stdio: ['ignore', 'pipe', 'pipe'],
              detached: true,
            });
            worker.stdout?.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
            worker.stderr?.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
            await until(
              () => `the example worker registers\n${workerLog}`,
              60_000,
              () => {
                if (worker!.exitCode !== null || worker!.signalCode !== null) {
                  throw new Error(`the example worker exited:\n${workerLog}`);
                }
                return /registered worker=\S+ group=demo/.test(workerLog) ? true : undefined;
              },
            );
          } else {
            throw new Error(`the quick start has a step this test does not know: ${step}`);
          }
        }
      } else if (command.startsWith('curl ')) {
        expect(node).toBeDefined();
        if (command.includes('/api/executions')) {
          // "Watch the executions succeed": the same request until one has.
          const body = await until(
            () => 'a succeeded execution',
            20_000,
            async () => {
              const page = await curl(command);
              const items = page.items as ExecutionItem[];
              return items.some((item) => item.status === 'succeeded') ? page : undefined;
            },
          );
          succeeded = (body.items as ExecutionItem[]).find((item) => item.status === 'succeeded');
          answers.push({ command, body });
        } else {
          const body = await curl(command);
          answers.push({ command, body });
          if (command.includes('/api/jobs')) {
            jobId = body.id;
            params = body.params;
          }
        }
      } else {
        throw new Error(`the quick start has a command this test does not know: ${command}`);
      }
    }

    // Every answer is a success, not the error shape; the group and the job exist.
    for (const { command, body } of answers) {
      expect({ command, code: body.code }).toEqual({ command, code: undefined });
    }
    expect(answers.find((a) => a.command.includes('/api/groups'))?.body).toMatchObject({
      name: 'demo',
    });
    expect(jobId).toBeDefined();
    expect(succeeded?.id.startsWith(`${jobId}~`)).toBe(true);
    expect(await get('/api/groups/demo')).toMatchObject({ name: 'demo' });
    const job = await get(`/api/jobs/${jobId}`);
    expect(job).toMatchObject({ group: 'demo', target: 'hello', state: 'active' });

    // The output is what the example's hello handler logged and returned for the params.
    const execution = await get(`/api/executions/${encodeURIComponent(succeeded!.id)}`);
    expect(execution.status).toBe('succeeded');
    expect(execution.output).toContain(`INFO Hello, ${params.name}!`);
    expect(execution.output).toContain(JSON.stringify({ greeted: params.name }));
    expect(workerLog).toContain(`hello job=${jobId} execution=`);

    // Ctrl-C: the whole process group gets SIGINT; the worker leaves its group and exits.
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      worker!.once('close', (code, signal) => resolve([code, signal])),
    );
    process.kill(-worker!.pid!, 'SIGINT');
    const [code, signal] = await closed; // every holder of its output pipes exited
    await until(
      () => 'the worker process group ends',
      10_000,
      () => (groupAlive(worker!.pid!) ? undefined : true),
    );
    expect([0, 130, 'SIGINT']).toContain(signal ?? code);
    expect(workerLog).toMatch(/worker=\S+ left group=demo/);
    expect(workerLog).not.toMatch(/ERROR|Error:/);
    expect(await get('/api/workers?group=demo')).toEqual({ items: [] });

    expect(await node!.stop()).toBe('SIGTERM');
  });
});
