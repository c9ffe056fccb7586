import { Logger } from '@nestjs/common';
import { ALERT_CHANNEL_METADATA, ForestAlert, getForestPluginInfo } from '@forest/plugin-api';
import { LogAlertPlugin } from './index';
import { formatAlertLine, LogChannel } from './log.channel';

const signal = new AbortController().signal;

function alert(overrides: Partial<ForestAlert> = {}): ForestAlert {
  return {
    id: 'a-1',
    event: 'failed',
    severity: 'critical',
    at: '2025-01-01T00:00:00.000Z',
    node: 'node-1',
    message: 'execution nightly~42 of job nightly failed on worker w-1: boom',
    job: { id: 'nightly', name: 'nightly', group: 'reports' },
    execution: {
      id: 'nightly~42',
      status: 'failed',
      attempt: 1,
      scheduledAt: '2025-01-01T00:00:00.000Z',
      worker: 'w-1',
      error: 'boom',
    },
    ...overrides,
  };
}

describe('LogChannel', () => {
  let error: jest.SpyInstance;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('is the channel "log" of plugin alert-log', () => {
    expect(Reflect.getMetadata(ALERT_CHANNEL_METADATA, LogChannel)).toBe('log');
    expect(getForestPluginInfo(LogAlertPlugin)).toMatchObject({
      name: 'alert-log',
      version: '1.0.0',
      compatibility: '^1.0.0',
    });
  });

  it('logs critical alerts as errors and says delivered', () => {
    expect(new LogChannel().send(alert(), { signal })).toEqual({ status: 'delivered' });
    expect(error).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith(
      'failed job=nightly execution=nightly~42 worker=w-1: ' +
        'execution nightly~42 of job nightly failed on worker w-1: boom',
    );
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('logs warnings with warn and info with log', () => {
    const channel = new LogChannel();
    channel.send(alert({ severity: 'warning', event: 'misfire' }), { signal });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^misfire job=nightly /);
    const leader = alert({
      severity: 'info',
      event: 'leader_changed',
      message: 'node node-2 is now the leader',
      job: undefined,
      execution: undefined,
    });
    expect(channel.send(leader, { signal }).status).toBe('delivered');
    expect(log).toHaveBeenCalledWith('leader_changed: node node-2 is now the leader');
    expect(error).not.toHaveBeenCalled();
  });

  it('names the worker of a worker alert and counts a summary', () => {
    const line = formatAlertLine(
      alert({
        event: 'worker_lost',
        severity: 'warning',
        message: 'worker w-9 stopped heartbeating',
        job: undefined,
        execution: undefined,
        worker: { id: 'w-9', group: 'g', host: 'h' },
        suppressed: { count: 3, since: '2025-01-01T00:00:00.000Z' },
      }),
    );
    expect(line).toBe(
      'worker_lost worker=w-9: worker w-9 stopped heartbeating (3 more since 2025-01-01T00:00:00.000Z)',
    );
  });
});
