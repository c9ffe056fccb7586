import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import {
  apiClient,
  artifactPath,
  assertChromiumInstalled,
  ConsoleBrowser,
  ConsolePage,
  ensureConsoleBuilt,
  ExampleWorker,
  resetArtifacts,
} from '../support/browser-harness';
import { NodeProcess } from '../support/node-process';
import { eventually } from '../support/wait';

/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a
 * real node (FOREST_AUTH=on, embedded store in a temp dir) with the example worker
 * (examples/worker) registered in its group `demo`: sign-in, the job and group forms, the
 * plan, trigger with params and live executions, cancel, pause, workers coming and going,
 * and a narrow window. The tests run in order and share the node, the worker and the
 * browser; each opens its own tab, saves a screenshot under test-artifacts/console/ and
 * fails on any browser console error it did not provoke.
 *
 * FOREST_UPDATE_DOCS_SCREENSHOT=1 also writes the README's screenshot, docs/console.png.
 */

const ADMIN_TOKEN = 'browser-test-admin-token-0123456789abcdef';
/** How long the console may take to show a change (its live updates and polls are faster). */
const UI_MS = 20_000;

describe('web console (browser)', () => {
  let dataDir: string;
  let node: NodeProcess | undefined;
  let worker: ExampleWorker | undefined;
  let browser: ConsoleBrowser | undefined;
  let api: ReturnType<typeof apiClient>;
  let workerToken: string;
  /** The tabs the running test opened: checked for console errors and screenshotted after it. */
  let tabs: ConsolePage[] = [];

  beforeAll(async () => {
    assertChromiumInstalled();
    ensureConsoleBuilt();
    resetArtifacts();
    dataDir = mkdtempSync(join(tmpdir(), 'forest-console-browser-'));
    // Both at once; whichever started is kept, so afterAll stops it if the other failed.
    const [started, launched] = await Promise.allSettled([
      NodeProcess.start({
        FOREST_DATA_DIR: dataDir,
        FOREST_AUTH: 'on',
        FOREST_ADMIN_TOKEN: ADMIN_TOKEN,
        FOREST_LOG_LEVEL: 'warn',
      }),
      ConsoleBrowser.launch(),
    ]);
    if (started.status === 'fulfilled') node = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    const base = node!.baseUrl;
    api = apiClient(base, ADMIN_TOKEN);
    // The worker's group and its token (the README's worker tokens); the example worker
    // serves `demo` with its two handlers, `hello` and `report.generate`.
    await api('POST', '/api/groups', { name: 'demo', remark: 'the example worker' });
    ({ token: workerToken } = await api('POST', '/api/tokens', {
      name: 'demo-workers',
      role: 'worker',
      groups: ['demo'],
    }));
    // The example's slow handler, `report.generate` (a page a second, stops when aborted).
    await api('POST', '/api/jobs', {
      id: 'report',
      name: 'monthly report',
      group: 'demo',
      target: 'report.generate',
      schedule: { cron: '@monthly' },
      params: { pages: 5 },
    });
    worker = await ExampleWorker.start({
      nodes: [base],
      group: 'demo',
      token: workerToken,
    });
  });

  afterAll(async () => {
    // The worker is killed, not stopped gracefully: a handler a failed test left running
    // would hold a graceful stop for 30 s.
    await Promise.allSettled([browser?.close(), worker?.stop('SIGKILL')]);
    await node?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    const name = (expect.getState().currentTestName ?? 'test').replace(
      /^web console \(browser\) /,
      '',
    );
    const open = tabs;
    tabs = [];
    try {
      for (const [i, tab] of open.entries()) {
        if (!tab.page.isClosed()) {
          await tab.screenshot(artifactPath(i === 0 ? name : `${name} tab ${i + 1}`));
        }
      }
      for (const tab of open) tab.assertNoErrors();
    } finally {
      await Promise.all(open.map((tab) => tab.close()));
    }
  });

  /** A new tab on `path`, signed in as admin unless `token: null`. */
  const open = async (
    path = '/',
    options: { token?: string | null; viewport?: { width: number; height: number } } = {},
  ): Promise<ConsolePage> => {
    const token = options.token === null ? undefined : (options.token ?? ADMIN_TOKEN);
    const tab = await browser!.open(node!.baseUrl, path, { token, viewport: options.viewport });
    tabs.push(tab);
    return tab;
  };

  /** Waits until the element's text matches (the console updates itself). */
  const showsText = (locator: Locator, pattern: RegExp | string, timeoutMs = UI_MS) =>
    eventually(async () => {
      const text = await locator.innerText({ timeout: 1000 });
      if (typeof pattern === 'string') expect(text).toContain(pattern);
      else expect(text).toMatch(pattern);
    }, timeoutMs);

  const heading = (tab: ConsolePage, name: string) =>
    tab.page.getByRole('heading', { level: 1, name });

  it('signs in with a token, and says clearly when a token is not accepted', async () => {
    const tab = await open('/', { token: null });
    const { page } = tab;
    // Without a token the console's first question is refused (401): that is the sign-in.
    tab.expectFailure(401, /\/api\/tokens\/self$/);
    await page.getByTestId('signin-token').waitFor();
    expect(await page.getByLabel('API token').count()).toBe(1);

    await page.getByTestId('signin-token').fill('fst_notarealtoken_0000000000000000');
    await page.getByTestId('signin-submit').click();
    const error = page.getByTestId('error-banner');
    await showsText(error, 'The node does not accept this token.');
    // Still on the sign-in form, nothing else shown.
    expect(await page.getByTestId('identity').count()).toBe(0);

    await page.getByTestId('signin-token').fill(ADMIN_TOKEN);
    await page.getByTestId('signin-submit').click();
    await showsText(page.getByTestId('identity'), /admin/);
    await heading(tab, 'Overview').waitFor();
    expect(await page.getByTestId('signin-token').count()).toBe(0);
    // The token stays in this tab only.
    expect(
      await page.evaluate(() => (globalThis as any).sessionStorage.getItem('forest.token')),
    ).toBe(ADMIN_TOKEN);
    expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
  });

  it('creates a group and a job through the forms: the API refuses a bad cron beside the field, a good one previews its next fires', async () => {
    const tab = await open('/jobs');
    const { page } = tab;
    await heading(tab, 'Jobs').waitFor();

    // A group, through the Groups screen's form.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Groups' })
      .click();
    await heading(tab, 'Groups').waitFor();
    await page.getByTestId('group-new-name').fill('reports');
    await page.getByTestId('group-new-remark').fill('monthly and weekly reports');
    await page.getByTestId('group-create').click();
    const groupRow = page.getByTestId('groups-table').locator('tr[data-key="reports"]');
    await showsText(groupRow, 'monthly and weekly reports');
    expect(await api('GET', '/api/groups/reports')).toMatchObject({ name: 'reports' });

    // A job, through the job form.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Jobs' })
      .click();
    await page.getByTestId('job-new').click();
    await heading(tab, 'New job').waitFor();
    await page.getByTestId('job-id').fill('hello');
    await page.getByTestId('job-name').fill('say hello');
    await page.getByTestId('job-group').selectOption('demo');
    await page.getByTestId('job-target').fill('hello');
    await page.getByTestId('job-params').fill('{"name": "Forest"}');

    // A bad cron: the preview and the save are refused (400), on purpose.
    tab.expectFailure(400, /\/api\/schedules\/preview$/);
    tab.expectFailure(400, /\/api\/jobs$/);
    const badCron = '61 * * * *';
    const cron = page.getByLabel('Cron', { exact: true });
    await cron.fill(badCron);
    await page.getByTestId('schedule-preview-error').waitFor();
    await page.getByTestId('job-save').click();
    // The API's own message for schedule.cron, as the node words it.
    const refused = await fetch(`${node!.baseUrl}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'refused',
        name: 'refused',
        group: 'demo',
        target: 'hello',
        schedule: { cron: badCron },
      }),
    });
    expect(refused.status).toBe(400);
    const { details } = (await refused.json()) as {
      details: Array<{ field: string; problems: string[] }>;
    };
    const cronProblem = details.find((d) => d.field === 'schedule.cron')!.problems.join('; ');
    expect(cronProblem.length).toBeGreaterThan(0);
    // Beside the field: the cron input is invalid and described by that message.
    await eventually(async () => {
      expect(await cron.getAttribute('aria-invalid')).toBe('true');
    }, UI_MS);
    const describedBy = (await cron.getAttribute('aria-describedby'))!.split(' ');
    const errorId = describedBy.find((id) => id.endsWith('-error'))!;
    const fieldError = page.locator(`[id="${errorId}"]`);
    expect((await fieldError.innerText()).trim()).toBe(cronProblem);
    // …inside the cron field's own box, next to the input.
    const cronField = page.locator('.field', { has: cron });
    expect(await cronField.locator('.field-error').innerText()).toBe(cronProblem);
    await page.screenshot({ path: artifactPath('job form refuses a bad cron') });

    // A good cron: no error, the next five fires in the preview.
    await cron.fill('0 */5 * * * *');
    await eventually(async () => {
      expect(await page.getByTestId('schedule-preview-error').count()).toBe(0);
      const fires = await page.getByTestId('schedule-preview').locator('li').allInnerTexts();
      expect(fires).toHaveLength(5);
      for (const fire of fires) expect(fire).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d[05]:00/);
    }, UI_MS);
    expect(await cron.getAttribute('aria-invalid')).toBeNull();

    await page.getByTestId('job-save').click();
    await page.waitForURL(/\/jobs\/hello$/);
    await page.getByText('Job say hello created.').waitFor();
    expect(await api('GET', '/api/jobs/hello')).toMatchObject({
      name: 'say hello',
      group: 'demo',
      target: 'hello',
      schedule: { cron: '0 */5 * * * *' },
      params: { name: 'Forest' },
      state: 'active',
    });

    // The list shows it.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Jobs' })
      .click();
    await showsText(page.getByTestId('jobs-table').locator('tr[data-key="hello"]'), 'say hello');
  });

  it('shows the job in the plan with its next fire and the leader that fires it', async () => {
    const tab = await open('/jobs');
    const { page } = tab;
    await heading(tab, 'Jobs').waitFor();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Plan' })
      .click();
    await heading(tab, 'Plan').waitFor();
    const row = page.getByTestId('plan-table').locator('tr[data-key="hello"]');
    await showsText(row, 'say hello');
    expect(await row.innerText()).toContain('0 */5 * * * *');
    const leader = await api<{ id: string }>('GET', '/api/nodes/leader');
    await showsText(page.getByTestId('plan-leader'), leader.id);
    await showsText(page.getByTestId('plan-timeline'), 'say hello');
  });

  /**
   * Triggers a job from the Jobs screen's row action with these params (JSON typed into the
   * dialog); returns the new execution's id, as the notice names it.
   */
  const triggerFromJobs = async (tab: ConsolePage, jobName: string, params: string) => {
    const { page } = tab;
    await page.getByRole('button', { name: `Trigger ${jobName} now` }).click();
    const dialog = page.getByTestId('trigger-dialog');
    await dialog.getByLabel('Params (JSON)').fill(params);
    await page.getByTestId('trigger-dialog-confirm').click();
    const notice = page.getByRole('status').filter({ hasText: 'Triggered: execution' });
    await notice.waitFor();
    const id = /execution (\S+~\S+)/.exec(await notice.innerText())?.[1];
    expect(id).toBeDefined();
    return id!;
  };

  /** An execution's row in the Executions list, and its status as the row shows it. */
  const executionRow = (tab: ConsolePage, id: string) =>
    tab.page.getByTestId('executions-table').locator(`tr[data-key="${id}"]`);
  const rowStatus = async (row: Locator, status: string) => {
    await eventually(async () => {
      expect(await row.getAttribute('data-status', { timeout: 1000 })).toBe(status);
    }, UI_MS);
    expect(await row.getByTestId('execution-status').innerText()).toContain(status);
  };
  /** The status in an execution's detail screen (its summary). */
  const detailStatus = (tab: ConsolePage) =>
    tab.page.getByTestId('execution-summary').getByTestId('execution-status');

  it('triggers a job with params and shows its execution reach succeeded, with its output, live', async () => {
    // One tab watches the executions; another triggers the job.
    const watcher = await open('/executions');
    await heading(watcher, 'Executions').waitFor();
    await watcher.page.getByTestId('executions-table').waitFor();
    const operator = await open('/jobs');
    await showsText(
      operator.page.getByTestId('jobs-table').locator('tr[data-key="hello"]'),
      'say hello',
    );
    const id = await triggerFromJobs(operator, 'say hello', '{"name": "Browser"}');

    // The watcher, never reloaded, sees it arrive and succeed.
    const row = executionRow(watcher, id);
    await rowStatus(row, 'succeeded');
    expect(await row.innerText()).toContain('say hello');
    // Its detail: the handler's log line and its result, the params it got.
    await row.getByTestId('execution-link').click();
    await watcher.page.waitForURL(new RegExp(`/executions/${encodeURIComponent(id)}$`));
    await showsText(detailStatus(watcher), 'succeeded');
    const output = watcher.page.getByTestId('execution-output');
    await showsText(output, 'INFO Hello, Browser!');
    await showsText(output, '{"greeted":"Browser"}');
    await showsText(watcher.page.getByTestId('execution-params'), '"Browser"');
    expect(watcher.reloads).toBe(0);
    expect(await api('GET', `/api/executions/${encodeURIComponent(id)}`)).toMatchObject({
      status: 'succeeded',
      params: { name: 'Browser' },
    });
  });

  it('cancels a long-running execution: it shows cancelled', async () => {
    const tab = await open('/jobs');
    const { page } = tab;
    await showsText(
      page.getByTestId('jobs-table').locator('tr[data-key="report"]'),
      'monthly report',
    );
    // report.generate works a page a second: 600 pages is ten minutes, unless cancelled.
    const id = await triggerFromJobs(tab, 'monthly report', '{"pages": 600}');
    // The notice links to the execution.
    await page.getByRole('status').getByRole('link', { name: id }).click();
    await page.waitForURL(new RegExp(`/executions/${encodeURIComponent(id)}$`));
    await showsText(detailStatus(tab), 'running');
    // The handler has begun: its first pages arrive in the live log.
    await showsText(page.getByTestId('execution-logs'), 'page 1 of 600');

    await page.getByTestId('execution-cancel').click();
    await page.getByTestId('execution-cancel-reason').fill('enough pages');
    await page.getByTestId('execution-cancel-dialog-confirm').click();
    await showsText(detailStatus(tab), 'cancelled');
    await page.getByTestId('execution-cancel').waitFor({ state: 'detached' });
    expect(await api('GET', `/api/executions/${encodeURIComponent(id)}`)).toMatchObject({
      status: 'cancelled',
    });
    // The list says so too.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Executions' })
      .click();
    await rowStatus(executionRow(tab, id), 'cancelled');
    expect(tab.reloads).toBe(0);
  });

  it('pauses a job: its state shows paused', async () => {
    const tab = await open('/jobs');
    const { page } = tab;
    const row = page.getByTestId('jobs-table').locator('tr[data-key="hello"]');
    await showsText(row, 'active');
    await page.getByRole('button', { name: 'Pause say hello' }).click();
    await showsText(row, 'paused');
    await page.getByRole('button', { name: 'Resume say hello' }).waitFor();
    expect(await row.locator('.badge').innerText()).toBe('paused');
    expect(await api('GET', '/api/jobs/hello')).toMatchObject({ state: 'paused' });
    // The filter agrees.
    await page.getByTestId('jobs-filter-state').selectOption('paused');
    await showsText(page.getByTestId('jobs-table'), 'say hello');
    expect(page.url()).toContain('state=paused');
  });

  it('shows a worker join and leave on the Cluster screen, live', async () => {
    const tab = await open('/cluster');
    const { page } = tab;
    await heading(tab, 'Cluster').waitFor();
    const workers = page.getByTestId('cluster-workers-demo');
    const first = workers.locator(`tr[data-key="${worker!.workerId}"]`);
    await showsText(first, 'report.generate');
    // Its load out of its capacity, and when it last heartbeated.
    const load = first.getByTestId('worker-load');
    expect(Number(await load.getAttribute('data-capacity'))).toBeGreaterThan(0);
    expect(Number(await load.getAttribute('data-used'))).toBeGreaterThanOrEqual(0);
    await showsText(first.getByTestId('worker-heartbeat'), /ago|now/);

    // A second example worker starts: it appears without a reload…
    const second = await ExampleWorker.start({
      nodes: [node!.baseUrl],
      group: 'demo',
      token: workerToken,
    });
    try {
      const row = workers.locator(`tr[data-key="${second.workerId}"]`);
      await showsText(row, 'report.generate');
      await showsText(page.getByTestId('cluster-group'), '2 workers');
      await page.screenshot({ path: artifactPath('cluster with a second worker') });
      // …and goes when it stops (SIGTERM: it leaves its group).
      // Nest re-raises SIGTERM once its shutdown hooks ran.
      expect([0, 'SIGTERM']).toContain(await second.stop());
      await row.waitFor({ state: 'detached', timeout: UI_MS });
    } finally {
      await second.stop('SIGKILL');
    }
    // The first one is still there.
    await first.waitFor();
    await showsText(page.getByTestId('cluster-group'), '1 worker');
    expect(tab.reloads).toBe(0);
  });

  it('is usable in a narrow window (420 px): navigation and the jobs list, no horizontal overflow', async () => {
    const tab = await open('/jobs', { viewport: { width: 420, height: 860 } });
    const { page } = tab;
    const row = page.getByTestId('jobs-table').locator('tr[data-key="hello"]');
    await showsText(row, 'say hello');
    const overflow = () =>
      page.evaluate(() => {
        const { documentElement, body } = (globalThis as any).document;
        return {
          page: documentElement.scrollWidth - documentElement.clientWidth,
          body: body.scrollWidth - body.clientWidth,
        };
      });
    expect(await overflow()).toEqual({ page: 0, body: 0 });

    // The navigation folds behind a menu button that opens it.
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Groups' })
      .click();
    await heading(tab, 'Groups').waitFor();
    await showsText(page.getByTestId('groups-table'), 'reports');
    expect(await overflow()).toEqual({ page: 0, body: 0 });
    await menu.click();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Jobs' })
      .click();
    await heading(tab, 'Jobs').waitFor();
    await showsText(row, 'say hello');
    expect(await overflow()).toEqual({ page: 0, body: 0 });

    // The row's actions are on screen and work.
    const trigger = page.getByRole('button', { name: 'Trigger say hello now' });
    await trigger.scrollIntoViewIfNeeded();
    const box = (await trigger.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(420);
    await trigger.click();
    const dialog = page.getByTestId('trigger-dialog');
    await dialog.getByRole('heading', { name: 'Trigger say hello now' }).waitFor();
    const dialogBox = (await dialog.boundingBox())!;
    expect(dialogBox.x + dialogBox.width).toBeLessThanOrEqual(420);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.getByRole('heading').waitFor({ state: 'detached' });
  });

  it('shows the jobs list with data at 1280×800 (the README screenshot)', async () => {
    // A few more jobs, so the list looks like a real one (set up through the API).
    const job = (body: Record<string, unknown>) => api('POST', '/api/jobs', body);
    await job({
      id: 'weekly-digest',
      name: 'weekly digest',
      group: 'reports',
      target: 'digest.send',
      schedule: { cron: '0 0 8 * * MON', timezone: 'Europe/Berlin' },
      dispatch: { strategy: 'least-busy' },
    });
    await job({
      id: 'nightly-export',
      name: 'nightly export',
      group: 'reports',
      target: 'export.run',
      schedule: { cron: '0 30 2 * * *', timezone: 'America/New_York' },
      concurrency: 'forbid',
    });
    await job({
      id: 'db-vacuum',
      name: 'database vacuum',
      group: 'reports',
      target: 'db.vacuum',
      schedule: { cron: '0 15 3 * * SUN', timezone: 'Europe/London' },
      dispatch: { strategy: 'random' },
    });
    await job({
      id: 'cache-warmup',
      name: 'cache warm-up',
      group: 'demo',
      target: 'hello',
      schedule: { cron: '@hourly' },
      dispatch: { strategy: 'broadcast' },
      state: 'paused',
    });
    const tab = await open('/jobs');
    const { page } = tab;
    const ids = ['hello', 'report', 'weekly-digest', 'nightly-export', 'db-vacuum', 'cache-warmup'];
    for (const id of ids) {
      await page.getByTestId('jobs-table').locator(`tr[data-key="${id}"]`).waitFor();
    }
    await showsText(page.getByTestId('identity'), 'admin');
    const file = artifactPath('readme console');
    await page.screenshot({ path: file, animations: 'disabled' });
    // The overview with the same data, for comparison.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Overview' })
      .click();
    await heading(tab, 'Overview').waitFor();
    await page.screenshot({ path: artifactPath('readme overview'), animations: 'disabled' });
    if (process.env.FOREST_UPDATE_DOCS_SCREENSHOT === '1') {
      copyFileSync(file, join(__dirname, '..', '..', 'docs', 'console.png'));
    }
  });
});
