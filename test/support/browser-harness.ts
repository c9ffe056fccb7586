import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';

/**
 * The web console's browser tests (test/console/*.browser-spec.ts): Debian's Chromium driven
 * by playwright-core (never a downloaded browser), the built console served by a real node,
 * and the example worker (examples/worker) as its own process. Everything runs on free
 * loopback ports and temp dirs, and is stopped by pid (and the temp dirs removed) in afterAll.
 */

const root = join(__dirname, '..', '..');

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export const CHROMIUM_PATH = process.env.FOREST_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where each test's screenshot goes (gitignored). */
export const ARTIFACTS_DIR = join(root, 'test-artifacts', 'console');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The console's browser tests need Debian's Chromium at ${CHROMIUM_PATH} ` +
        '(apt-get install chromium; .ci/run installs it when missing), or FOREST_TEST_CHROMIUM ' +
        'naming another Chromium binary. Never a downloaded browser (no `playwright install`).',
    );
  }
}

/** The newest modification time (ms) of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(
      latest,
      entry.isDirectory() ? newest(path) : entry.isFile() ? statSync(path).mtimeMs : 0,
    );
  }
  return latest;
}

/**
 * The node serves dist/console (`npm run build`). When it is missing, or older than a file
 * of console/, the console is built here (Vite only: `npm run build:console` also
 * type-checks, which CI's `npm run build` does), so the tests always drive the current source.
 */
export function ensureConsoleBuilt(): void {
  const index = join(root, 'dist', 'console', 'index.html');
  const sources = Math.max(
    newest(join(root, 'console', 'src')),
    newest(join(root, 'console', 'public')),
    statSync(join(root, 'console', 'index.html')).mtimeMs,
    statSync(join(root, 'console', 'vite.config.mts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const build = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      'console/vite.config.mts',
    ],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  if (build.status !== 0 || !existsSync(index)) {
    throw new Error(
      `could not build the console (run \`npm run build\`):\n${build.stdout}\n${build.stderr}`,
    );
  }
}

/** A 4xx a test provokes on purpose: Chrome logs it as a console error, which is then fine. */
export interface ExpectedFailure {
  status: number;
  /** Matched against the failed request's URL. */
  url: RegExp;
}

/** One browser (a fresh profile in a temp dir, removed on close) for a whole test file. */
export class ConsoleBrowser {
  private constructor(
    readonly context: BrowserContext,
    private readonly profileDir: string,
  ) {}

  static async launch(): Promise<ConsoleBrowser> {
    assertChromiumInstalled();
    const profileDir = mkdtempSync(join(tmpdir(), 'forest-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 800 },
        timezoneId: 'UTC',
        locale: 'en-GB',
        colorScheme: 'light',
        reducedMotion: 'reduce',
      });
      // No step of a test waits longer than this for the console (a failing test fails fast).
      context.setDefaultTimeout(15_000);
      return new ConsoleBrowser(context, profileDir);
    } catch (error) {
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A new tab (its own sessionStorage, so signed out) on `baseUrl + path`. With `token` the
   * tab is signed in before the console loads (the token in sessionStorage, as the sign-in
   * form leaves it).
   */
  async open(
    baseUrl: string,
    path = '/',
    options: { token?: string; viewport?: { width: number; height: number } } = {},
  ): Promise<ConsolePage> {
    const page = await this.context.newPage();
    if (options.viewport) await page.setViewportSize(options.viewport);
    const tab = new ConsolePage(page);
    if (options.token !== undefined) {
      // Runs in the page before its scripts, on every load of this tab: only the first one
      // signs in, so a sign-out stays signed out.
      await page.addInitScript((token) => {
        const storage = (globalThis as any).sessionStorage;
        if (storage.getItem('forest.signed-in-by-test') === null) {
          storage.setItem('forest.token', token);
          storage.setItem('forest.signed-in-by-test', '1');
        }
      }, options.token);
    }
    await page.goto(baseUrl + path);
    return tab;
  }

  /** Closes the browser (every tab) and removes its profile. */
  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profileDir, { recursive: true, force: true });
    }
  }
}

/**
 * A console tab. Collects the browser's console errors and uncaught exceptions; a test fails
 * on any (assertNoErrors) unless it is a 4xx the test declared with `expectFailure` first.
 * Chrome logs every non-2xx fetch as "Failed to load resource: … status of N", with the
 * resource's URL as the message's location.
 */
export class ConsolePage {
  private readonly problems: string[] = [];
  private readonly expected: ExpectedFailure[] = [];
  /** Each load of a document in the main frame (a reload counts): `reloads` is this minus one. */
  private loads = 0;

  constructor(readonly page: Page) {
    page.on('console', (message) => this.onConsole(message));
    page.on('pageerror', (error) =>
      this.problems.push(`uncaught: ${error.stack ?? error.message}`),
    );
    page.on('load', () => this.loads++);
  }

  /** Loads of the page after the first (reloads or full navigations). */
  get reloads(): number {
    return Math.max(0, this.loads - 1);
  }

  expectFailure(status: number, url: RegExp): void {
    this.expected.push({ status, url });
  }

  /** The console errors and uncaught exceptions so far that no `expectFailure` covers. */
  get errors(): readonly string[] {
    return this.problems;
  }

  assertNoErrors(): void {
    if (this.problems.length > 0) {
      throw new Error(`the browser reported errors:\n${this.problems.join('\n')}`);
    }
  }

  async screenshot(file: string, fullPage = true): Promise<void> {
    await this.page.screenshot({ path: file, fullPage, animations: 'disabled' });
  }

  async close(): Promise<void> {
    if (!this.page.isClosed()) await this.page.close();
  }

  private onConsole(message: ConsoleMessage): void {
    if (message.type() !== 'error') return;
    const text = message.text();
    const url = message.location().url;
    const failed = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(
      text,
    );
    if (failed) {
      const status = Number(failed[1]);
      if (this.expected.some((e) => e.status === status && e.url.test(url))) return;
    }
    this.problems.push(`console.error: ${text}${url ? ` (${url})` : ''}`);
  }
}

/** Empties the screenshot folder, so it holds this run's pictures only. */
export function resetArtifacts(): void {
  rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
}

/** Where a test's screenshot goes: its name made file-system safe. */
export function artifactPath(testName: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 100);
  return join(ARTIFACTS_DIR, `${slug}.png`);
}

/**
 * The example worker (examples/worker: the Nest app `npm run example:worker` builds and
 * runs) as its own process, pointed at a test node. It runs the same sources through the
 * test register hook (as NodeProcess runs src/main.ts), so no build is needed.
 */
export class ExampleWorker {
  private output = '';
  /** The worker id it registered with (from its "registered worker=…" log line). */
  workerId: string | undefined;
  private readonly exited: Promise<number | NodeJS.Signals | null>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-50_000);
      this.workerId ??= /registered worker=(\S+)/.exec(this.output)?.[1];
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  /** Starts it and resolves once it registered in its group. */
  static async start(
    options: { nodes: string[]; group: string; token?: string },
    timeoutMs = 60_000,
  ): Promise<ExampleWorker> {
    const child = spawn(
      process.execPath,
      ['-r', join(root, 'test/support/ts-register.js'), join(root, 'examples/worker/main.ts')],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          NO_COLOR: '1',
          FOREST_NODES: options.nodes.join(','),
          FOREST_GROUP: options.group,
          ...(options.token ? { FOREST_WORKER_TOKEN: options.token } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    child.once('exit', () => running.delete(child));
    const worker = new ExampleWorker(child);
    const deadline = Date.now() + timeoutMs;
    while (worker.workerId === undefined) {
      if (!worker.alive || Date.now() > deadline) {
        await worker.stop('SIGKILL');
        throw new Error(`the example worker did not register:\n${worker.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return worker;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get log(): string {
    return this.output;
  }

  /** SIGTERM: a graceful stop (it leaves its group); SIGKILL after 20 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | NodeJS.Signals | null> {
    if (this.alive) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** A small client of the node's API for test setup (bearer token). */
export function apiClient(baseUrl: string, token: string) {
  return async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await fetch(baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}
