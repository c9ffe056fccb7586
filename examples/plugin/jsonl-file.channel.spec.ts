import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALERT_CHANNEL_METADATA,
  ForestAlert,
  getForestPluginInfo,
  PluginSettings,
} from '@forest/plugin-api';
import { ExamplePlugin } from './index';
import { JsonlFileChannel } from './jsonl-file.channel';

/** PluginSettings over a plain object, as the host's are over the node's FOREST_* variables. */
class TestSettings extends PluginSettings {
  constructor(private readonly values: Record<string, string>) {
    super();
  }

  get(name: string): string | undefined {
    return this.values[name]?.trim() || undefined;
  }
}

function alert(overrides: Partial<ForestAlert> = {}): ForestAlert {
  return {
    id: 'a-1',
    event: 'failed',
    severity: 'critical',
    at: '2025-01-01T00:00:00.000Z',
    node: 'node-1',
    message: 'execution nightly~42 of job nightly failed on worker w-1: boom',
    job: { id: 'nightly', name: 'nightly', group: 'reports' },
    ...overrides,
  };
}

describe('JsonlFileChannel', () => {
  let dir: string;
  let file: string;
  const signal = new AbortController().signal;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsonl-channel-'));
    file = join(dir, 'alerts.jsonl');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ForestAlert);

  it('is the channel "jsonl-file" of plugin forest-plugin-example', () => {
    expect(Reflect.getMetadata(ALERT_CHANNEL_METADATA, JsonlFileChannel)).toBe('jsonl-file');
    expect(getForestPluginInfo(ExamplePlugin)?.name).toBe('forest-plugin-example');
  });

  it('appends each alert as one JSON line and says where', async () => {
    const channel = new JsonlFileChannel(new TestSettings({ FOREST_ALERT_FILE: file }));
    expect(await channel.send(alert(), { signal })).toEqual({ status: 'delivered', detail: file });
    const leader = alert({ id: 'a-2', event: 'leader_changed', severity: 'info', job: undefined });
    await channel.send(leader, { signal });
    expect(lines()).toEqual([alert(), JSON.parse(JSON.stringify(leader))]);
  });

  it('keeps lines whole when deliveries overlap', async () => {
    const channel = new JsonlFileChannel(new TestSettings({ FOREST_ALERT_FILE: file }));
    const long = 'x'.repeat(10_000);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        channel.send(alert({ id: `a-${i}`, message: long }), { signal }),
      ),
    );
    // Every line parses (lines() would throw on a torn one) and each alert is there once.
    const ids = lines().map((a) => a.id);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(20);
  });

  it('fails every send while FOREST_ALERT_FILE is not set', async () => {
    const channel = new JsonlFileChannel(new TestSettings({}));
    expect(await channel.send(alert(), { signal })).toEqual({
      status: 'failed',
      error: 'FOREST_ALERT_FILE is not set',
    });
  });

  it('stops the boot on a relative path, naming the setting', () => {
    expect(
      () => new JsonlFileChannel(new TestSettings({ FOREST_ALERT_FILE: 'alerts.jsonl' })),
    ).toThrow('FOREST_ALERT_FILE: must be an absolute path (got "alerts.jsonl")');
  });

  it('reports a file it cannot write, and writes nothing once the host gave up', async () => {
    const missing = join(dir, 'no-such-dir', 'alerts.jsonl');
    const channel = new JsonlFileChannel(new TestSettings({ FOREST_ALERT_FILE: missing }));
    const result = await channel.send(alert(), { signal });
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.status === 'failed' && result.error).toMatch(/^cannot append to .*ENOENT/);

    const aborted = new AbortController();
    aborted.abort();
    const ok = new JsonlFileChannel(new TestSettings({ FOREST_ALERT_FILE: file }));
    expect(await ok.send(alert(), { signal: aborted.signal })).toEqual({
      status: 'failed',
      error: 'aborted before writing',
    });
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });
});
