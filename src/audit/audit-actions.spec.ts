import { describeAuditedCall } from './audit-actions';

describe('describeAuditedCall', () => {
  it.each([
    ['POST', '/api/groups', {}, 'group.create', 'group'],
    ['PUT', '/api/groups/:name', { name: 'billing' }, 'group.update', 'group:billing'],
    ['DELETE', '/api/groups/:name', { name: 'billing' }, 'group.delete', 'group:billing'],
    ['POST', '/api/jobs', {}, 'job.create', 'job'],
    ['PUT', '/api/jobs/:id', { id: 'nightly' }, 'job.update', 'job:nightly'],
    ['PATCH', '/api/jobs/:id', { id: 'nightly' }, 'job.update', 'job:nightly'],
    ['DELETE', '/api/jobs/:id', { id: 'nightly' }, 'job.delete', 'job:nightly'],
    ['POST', '/api/jobs/:id/pause', { id: 'nightly' }, 'job.pause', 'job:nightly'],
    ['POST', '/api/jobs/:id/resume', { id: 'nightly' }, 'job.resume', 'job:nightly'],
    ['POST', '/api/jobs/:id/trigger', { id: 'nightly' }, 'job.trigger', 'job:nightly'],
    ['POST', '/api/executions/:id/cancel', { id: 'a~1' }, 'execution.cancel', 'execution:a~1'],
    ['POST', '/api/workers', {}, 'worker.register', 'worker'],
    [
      'DELETE',
      '/api/workers/:group/:workerId',
      { group: 'g', workerId: 'w-1' },
      'worker.leave',
      'worker:g/w-1',
    ],
    ['POST', '/api/tokens', {}, 'token.create', 'token'],
    ['DELETE', '/api/tokens/:id', { id: 't1' }, 'token.delete', 'token:t1'],
    ['POST', '/api/tokens/:id/rotate', { id: 't1' }, 'token.rotate', 'token:t1'],
  ])('%s %s is %s on %s', (method, route, params, action, object) => {
    expect(describeAuditedCall(method, route, params)).toMatchObject({ action, object });
  });

  it.each([
    ['GET', '/api/jobs'],
    ['GET', '/api/audit'],
    ['HEAD', '/api/jobs/:id'],
    ['POST', '/api/workers/:group/:workerId/heartbeat'],
    ['POST', '/api/workers/:group/:workerId/reports'],
    ['POST', '/api/workers/:group/:workerId/executions/:executionId/report'],
    ['POST', '/api/schedules/preview'],
    ['POST', '/health'],
  ])('%s %s is not audited', (method, route) => {
    expect(describeAuditedCall(method, route, {})).toBeUndefined();
  });

  it('an unknown route (no pattern) is not audited', () => {
    expect(describeAuditedCall('POST', undefined, {})).toBeUndefined();
  });

  it('a create names its object from the answer\u2019s id or name, never other fields', () => {
    const job = describeAuditedCall('POST', '/api/jobs', {})!;
    expect(job.objectFromAnswer!({ id: 'nightly', params: { secret: 'x' } })).toBe('job:nightly');
    const group = describeAuditedCall('POST', '/api/groups', {})!;
    expect(group.objectFromAnswer!({ name: 'billing' })).toBe('group:billing');
    const token = describeAuditedCall('POST', '/api/tokens', {})!;
    expect(token.objectFromAnswer!({ token: 'secret-value' })).toBeUndefined();
    const worker = describeAuditedCall('POST', '/api/workers', {})!;
    expect(worker.objectFromAnswer!({ group: 'g', workerId: 'w-1', sessionSecret: 's' })).toBe(
      'worker:g/w-1',
    );
    expect(
      describeAuditedCall('POST', '/api/jobs/:id/pause', { id: 'x' })!.objectFromAnswer,
    ).toBeUndefined();
  });
});
