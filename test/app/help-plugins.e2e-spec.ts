import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess, runToExit } from '../support/node-process';

/**
 * `--help` lists the settings plugins declare (@ForestPlugin `settings`), loading the
 * plugins without starting Nest; FOREST_ALERT_DEFAULT_CHANNELS is checked against the
 * channels the loaded plugins provide before anything starts.
 */
describe('plugins in --help and in the boot checks (node process)', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'forest-help-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("--help lists each plugin's settings under its name, with defaults", async () => {
    const pager = join(root, 'plugins', 'pager');
    mkdirSync(pager, { recursive: true });
    writeFileSync(
      join(pager, 'index.ts'),
      `import { ForestPlugin } from '@forest/plugin-api';
       @ForestPlugin({
         name: 'pager', version: '1.0.0', compatibility: '^1.0.0',
         settings: [{ env: 'FOREST_PAGER_KEY', description: 'API key of the pager', default: 'none' }],
       })
       export class PagerPlugin {}`,
    );
    const dataDir = join(root, 'data');
    const { code, stdout, stderr } = await runToExit(
      NodeProcess.run(['--help'], {
        FOREST_PLUGIN_PATHS: join(root, 'plugins'),
        FOREST_DATA_DIR: dataDir,
      }),
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const plugins = stdout.slice(stdout.indexOf('Plugin settings'));
    expect(plugins).toMatch(/\n {2}alert-webhook:\n {4}FOREST_WEBHOOK_URL +webhook: http\(s\) URL/);
    expect(plugins).toMatch(/\n {4}FOREST_SLACK_WEBHOOK_URL +slack: Slack incoming-webhook URL\n/);
    expect(plugins).toMatch(/\n {4}FOREST_WEBHOOK_TIMEOUT_MS +.*\(default: 5000\)\n/);
    expect(plugins).toMatch(
      /\n {2}pager:\n {4}FOREST_PAGER_KEY +API key of the pager \(default: none\)\n/,
    );
    // Help starts nothing: no store, no data dir.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('--help still works when the plugin settings are wrong', async () => {
    const { code, stdout } = await runToExit(
      NodeProcess.run(['--help'], { FOREST_PLUGIN_PATHS: join(root, 'missing') }),
    );
    expect(code).toBe(0);
    expect(stdout).toContain('FOREST_WEBHOOK_URL');
  });

  it('refuses FOREST_ALERT_DEFAULT_CHANNELS naming a channel no plugin provides', async () => {
    const dataDir = join(root, 'data');
    const { code, stdout, stderr } = await runToExit(
      NodeProcess.run([], {
        FOREST_ALERT_DEFAULT_CHANNELS: 'log,nope',
        FOREST_DATA_DIR: dataDir,
        FOREST_HTTP_PORT: '0',
      }),
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^invalid configuration:\n {2}- FOREST_ALERT_DEFAULT_CHANNELS: "nope" is not an alert channel: the loaded plugins provide (\S+, )*log, (\S+, )*webhook\n/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
