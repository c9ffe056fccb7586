import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ForestAlert, PluginSettings } from '@forest/plugin-api';
import { SlackChannel } from './slack.channel';
import {
  buildSlackMessage,
  ERROR_CHARS,
  escapeMrkdwn,
  MESSAGE_CHARS,
  SlackBlock,
  truncate,
} from './slack.format';

class MapSettings extends PluginSettings {
  constructor(private readonly values: Record<string, string>) {
    super();
  }

  get(name: string): string | undefined {
    return this.values[name];
  }
}

const ALERT: ForestAlert = {
  id: 'alert-1',
  event: 'failed',
  severity: 'critical',
  at: '2025-01-01T00:00:00.000Z',
  node: 'node-1',
  message: 'execution x failed on worker w: boom',
  job: { id: 'nightly', name: 'nightly-report', group: 'reports' },
  execution: {
    id: 'x',
    status: 'failed',
    attempt: 2,
    scheduledAt: '2025-01-01T00:00:00.000Z',
    worker: 'w',
    error: 'boom',
  },
};

function fieldsOf(blocks: readonly SlackBlock[]): string[] {
  const section = blocks.find((b) => 'fields' in b);
  return section && 'fields' in section ? section.fields.map((f) => f.text) : [];
}

describe('slack message', () => {
  it('has a one-line fallback text, a header, the message and the fields', () => {
    const message = buildSlackMessage(ALERT);
    expect(message.text).toBe(
      ':rotating_light: [critical] failed: job nightly-report (reports) — execution x failed on worker w: boom',
    );
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: ':rotating_light: failed: job nightly-report (reports)',
        emoji: true,
      },
    });
    expect(message.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'execution x failed on worker w: boom' },
    });
    expect(message.blocks[2]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '```boom```' },
    });
    expect(fieldsOf(message.blocks)).toEqual([
      '*Event*\nfailed (critical)',
      '*Job*\nnightly-report (nightly)',
      '*Execution*\nx (attempt 2)',
      '*Worker*\nw',
      '*Node*\nnode-1',
      '*Time*\n<!date^1735689600^{date_short_pretty} {time_secs}|2025-01-01T00:00:00.000Z>',
    ]);
    expect(message.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'alert alert-1' }],
    });
    // It is what goes over the wire.
    expect(JSON.parse(JSON.stringify(message))).toEqual(message);
  });

  it('names the worker or the node when there is no job, with the severity emoji', () => {
    const lost = buildSlackMessage({
      ...ALERT,
      event: 'worker_lost',
      severity: 'warning',
      message: 'worker w-9 stopped heartbeating',
      job: undefined,
      execution: undefined,
      worker: { id: 'w-9', group: 'g', host: 'h' },
    });
    expect(lost.text).toBe(
      ':warning: [warning] worker_lost: worker w-9 (g) — worker w-9 stopped heartbeating',
    );
    expect(fieldsOf(lost.blocks)).toContain('*Worker*\nw-9');
    const leader = buildSlackMessage({
      ...ALERT,
      event: 'leader_changed',
      severity: 'info',
      message: 'node node-2 is now the leader',
      job: undefined,
      execution: undefined,
    });
    expect(leader.text).toMatch(/^:information_source: \[info\] leader_changed: node node-1 — /);
    expect(leader.blocks).toHaveLength(4); // no error block
  });

  it('adds the summary count for a suppressed alert', () => {
    const message = buildSlackMessage({
      ...ALERT,
      suppressed: { count: 7, since: '2025-01-01T00:00:00.000Z' },
    });
    expect(fieldsOf(message.blocks)).toContain(
      '*Summary*\n7 more since <!date^1735689600^{date_short_pretty} {time_secs}|2025-01-01T00:00:00.000Z>',
    );
    expect(fieldsOf(buildSlackMessage(ALERT).blocks).some((f) => f.startsWith('*Summary*'))).toBe(
      false,
    );
  });

  it('truncates long messages and errors within Slack limits', () => {
    const long = 'e'.repeat(10_000);
    const message = buildSlackMessage({
      ...ALERT,
      message: `failed: ${long}`,
      execution: { ...ALERT.execution!, error: long },
    });
    expect(message.text.length).toBeLessThan(MESSAGE_CHARS + 100);
    expect(message.text.endsWith('…')).toBe(true);
    const [, section, error] = message.blocks as unknown as { text: { text: string } }[];
    expect(section.text.text).toHaveLength(MESSAGE_CHARS);
    expect(section.text.text.endsWith('…')).toBe(true);
    expect(error.text.text).toHaveLength(ERROR_CHARS + 6);
    for (const block of message.blocks) {
      expect(JSON.stringify(block).length).toBeLessThan(3000);
    }
  });

  it('escapes mrkdwn so alert text cannot mention or link, without splitting entities', () => {
    const message = buildSlackMessage({ ...ALERT, message: 'a <!channel> & <http://x|y>' });
    expect(message.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'a &lt;!channel&gt; &amp; &lt;http://x|y&gt;' },
    });
    expect(escapeMrkdwn('ab&cd', 5)).toBe('ab…');
    expect(escapeMrkdwn('ab&cd', 8)).toBe('ab&amp;…');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab😀', 3)).toBe('ab…');
    expect(truncate('abc', 3)).toBe('abc');
  });
});

describe('SlackChannel', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('POSTs the message as JSON, retrying like the webhook', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (received.length === 1) res.writeHead(500).end('internal_error');
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const channel = new SlackChannel(
      new MapSettings({
        FOREST_SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T/B/x`,
        FOREST_SLACK_TIMEOUT_MS: '1000',
        FOREST_SLACK_BACKOFF_MS: '10',
      }),
    );
    const result = await channel.send(ALERT, { signal: new AbortController().signal });
    expect(result).toEqual({ status: 'delivered', detail: 'HTTP 200 after 2 attempt(s)' });
    expect(received).toHaveLength(2);
    expect(received[1].headers['content-type']).toBe('application/json');
    expect(received[1].headers['x-forest-signature-256']).toBeUndefined();
    expect(JSON.parse(received[1].body)).toEqual(buildSlackMessage(ALERT));
  });

  it('fails every send when the URL is not set, and refuses bad settings', async () => {
    const unset = new SlackChannel(new MapSettings({}));
    await expect(unset.send(ALERT, { signal: new AbortController().signal })).resolves.toEqual({
      status: 'failed',
      error: 'FOREST_SLACK_WEBHOOK_URL is not set',
    });
    expect(() => new SlackChannel(new MapSettings({ FOREST_SLACK_WEBHOOK_URL: 'x' }))).toThrow(
      /^FOREST_SLACK_WEBHOOK_URL: not a valid URL/,
    );
    expect(() => new SlackChannel(new MapSettings({ FOREST_SLACK_RETRIES: '11' }))).toThrow(
      /^FOREST_SLACK_RETRIES/,
    );
    expect(() => new SlackChannel(new MapSettings({ FOREST_SLACK_TIMEOUT_MS: '0' }))).toThrow(
      /^FOREST_SLACK_TIMEOUT_MS/,
    );
  });
});
