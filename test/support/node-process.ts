import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './etcd-harness';

const root = join(__dirname, '..', '..');

/**
 * A Forest node as a separate OS process, running src/main.ts through the test register
 * hook (no build needed). Listens on a port the OS picks (FOREST_HTTP_PORT=0 unless given)
 * and reports it in its start-up log line.
 */
export class NodeProcess {
  private output = '';
  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
    /** FOREST_NODE_ID, when the test set one. */
    readonly nodeId: string | undefined,
  ) {}

  static run(args: string[], env: Record<string, string>): ChildProcess {
    const child = spawn(
      process.execPath,
      ['-r', join(root, 'test/support/ts-register.js'), join(root, 'src/main.ts'), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    child.once('exit', () => running.delete(child));
    return child;
  }

  /**
   * Starts a node on a free port and resolves once it answers HTTP. It does not rely on
   * the start-up log line, so any FOREST_LOG_LEVEL works. A node that fails to come up is
   * killed, and the error carries its output.
   */
  static async start(env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProcess> {
    const port = env.FOREST_HTTP_PORT ?? String(await freePort());
    const child = NodeProcess.run([], {
      FOREST_HTTP_HOST: '127.0.0.1',
      ...env,
      FOREST_HTTP_PORT: port,
    });
    const node = new NodeProcess(child, `http://127.0.0.1:${port}`, env.FOREST_NODE_ID);
    child.stdout?.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `node exited (${child.exitCode ?? child.signalCode}) before serving:\n${node.output}`,
        );
      }
      try {
        await fetch(`${node.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
        return node;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    child.kill('SIGKILL');
    throw new Error(`node did not serve HTTP within ${timeoutMs} ms:\n${node.output}`);
  }

  get log(): string {
    return this.output;
  }

  /**
   * Sends a signal and waits for the process to exit; resolves with its exit code, or the
   * signal that ended it (Nest re-raises SIGTERM after its shutdown hooks ran, so a
   * graceful stop ends with 'SIGTERM'; one that hung ends with 'SIGKILL').
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | NodeJS.Signals | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return this.child.exitCode ?? this.child.signalCode;
    }
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      this.child.once('exit', (code, endedBy) => resolve(code ?? endedBy)),
    );
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const result = await exited;
    clearTimeout(timer);
    return result;
  }
}

/** Collects a short-lived process's exit code and output. */
export function runToExit(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
