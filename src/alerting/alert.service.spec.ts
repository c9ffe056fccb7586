import { Logger } from '@nestjs/common';
import { AlertDelivery, ForestAlert, ForestAlertChannel } from '@forest/plugin-api';
import { loadConfig } from '../config/forest.config';
import { JobService } from '../job/job.service';
import { MetricsService } from '../metrics/metrics.service';
import { PluginRegistry } from '../plugins/plugin-registry';
import { AlertInput, AlertService } from './alert.service';

class RecordingChannel implements ForestAlertChannel {
  readonly received: ForestAlert[] = [];
  send(alert: ForestAlert): AlertDelivery {
    this.received.push(alert);
    return { status: 'delivered' };
  }
}

/** AlertService over fake plugins and jobs: which channels get what, and containment. */
function setup(env: Record<string, string> = {}) {
  const config = loadConfig({
    FOREST_NODE_ID: 'n1',
    FOREST_ALERT_TIMEOUT_MS: '100',
    FOREST_ALERT_DEFAULT_CHANNELS: 'ops',
    ...env,
  });
  const channels: Record<string, ForestAlertChannel> = {
    ops: new RecordingChannel(),
    team: new RecordingChannel(),
    throws: {
      send() {
        throw new Error('smtp down');
      },
    },
    hangs: { send: () => new Promise<AlertDelivery>(() => undefined) },
  };
  const registry = {
    channel: (name: string) =>
      channels[name] && {
        name,
        kind: 'alert-channel',
        instance: channels[name],
        plugin: { info: { name: `plugin-${name}` } },
      },
    channelNames: () => Object.keys(channels).sort(),
  } as unknown as PluginRegistry;
  const jobs = {
    get: (id: string) =>
      id === 'j1'
        ? Promise.resolve({
            name: 'nightly',
            group: 'reports',
            alerts: { channels: ['team', 'throws', 'hangs'], events: ['failed'] },
          })
        : Promise.reject(new Error('no such job')),
  } as unknown as JobService;
  const metrics = new MetricsService();
  const service = new AlertService(config, registry, jobs, metrics);
  return {
    service,
    metrics,
    ops: channels.ops as RecordingChannel,
    team: channels.team as RecordingChannel,
  };
}

const failed: AlertInput = {
  event: 'failed',
  severity: 'critical',
  jobId: 'j1',
  message: 'execution j1~1 failed: boom',
};

async function settle(service: AlertService, channels: number) {
  for (let i = 0; i < 100; i++) {
    const record = service.recent()[0];
    if (record && record.deliveries.length >= channels) return record;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('deliveries did not settle');
}

describe('AlertService', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('sends to the default channels and to the job channels that selected the event', async () => {
    const { service, ops, team } = setup();
    service.raise(failed);
    const record = await settle(service, 4);
    expect(ops.received).toHaveLength(1);
    expect(team.received).toHaveLength(1);
    expect(team.received[0]).toMatchObject({
      event: 'failed',
      severity: 'critical',
      node: 'n1',
      job: { id: 'j1', name: 'nightly', group: 'reports' },
      message: 'execution j1~1 failed: boom',
    });
    // A throwing and a hanging channel are contained: failed, named, and nothing stalls.
    const byChannel = Object.fromEntries(record.deliveries.map((d) => [d.channel, d.delivery]));
    expect(byChannel).toEqual({
      ops: { status: 'delivered' },
      team: { status: 'delivered' },
      throws: {
        status: 'failed',
        error: 'alert channel "throws" of plugin plugin-throws failed: smtp down',
      },
      hangs: {
        status: 'failed',
        error: 'alert channel "hangs" of plugin plugin-hangs did not answer within 100ms',
      },
    });
  });

  it('counts deliveries by channel and outcome, and the channel calls that failed or timed out', async () => {
    const { service, metrics } = setup();
    service.raise(failed);
    await settle(service, 4);
    const deliveries = (await metrics.alerts.deliveries.get()).values;
    expect(
      deliveries.map((v) => `${v.labels.channel} ${v.labels.outcome} ${v.value}`).sort(),
    ).toEqual(['hangs failed 1', 'ops delivered 1', 'team delivered 1', 'throws failed 1']);
    const failures = (await metrics.plugins.callFailures.get()).values;
    expect(
      failures.map((v) => `${v.labels.call} ${v.labels.name} ${v.labels.reason}`).sort(),
    ).toEqual(['send hangs timeout', 'send throws error']);
  });

  it('sends events a job did not select, and cluster events, to the default channels only', async () => {
    const { service, ops, team } = setup();
    service.raise({ ...failed, event: 'misfire', severity: 'warning' });
    service.raise({ event: 'leader_changed', severity: 'info', message: 'n1 leads' });
    await settle(service, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ops.received.map((a) => a.event).sort()).toEqual(['leader_changed', 'misfire']);
    expect(team.received).toEqual([]);
  });

  it('holds repeats of one job and event back and sends one summary', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    try {
      const { service, ops } = setup({ FOREST_ALERT_REPEAT_WINDOW_S: '60' });
      service.onModuleInit();
      for (let i = 0; i < 30; i++) service.raise({ ...failed, message: `failure ${i}` });
      await jest.advanceTimersByTimeAsync(10);
      expect(ops.received.map((a) => a.message)).toEqual(['failure 0']);
      await jest.advanceTimersByTimeAsync(61_000);
      expect(ops.received).toHaveLength(2);
      expect(ops.received[1]).toMatchObject({
        event: 'failed',
        suppressed: { count: 29 },
        message: expect.stringMatching(
          /^29 more failed alert\(s\) for job j1 since .*; the latest: failure 29$/,
        ),
      });
      service.onModuleDestroy();
    } finally {
      jest.useRealTimers();
    }
  });
});
