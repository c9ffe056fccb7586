import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { ForestJobContext } from '../forest-worker.types';
import { FakeNode } from '../testing/fake-node';
import { ForestJob } from './forest-job.decorator';
import { ForestWorkerModule } from './forest-worker.module';
import { ForestWorkerService } from './forest-worker.service';

@Injectable()
class MailJobs {
  readonly sent: string[] = [];

  @ForestJob('send-mail')
  send(ctx: ForestJobContext) {
    this.sent.push(ctx.executionId); // `this` is the provider instance
    return `sent ${this.sent.length}`;
  }

  notAJob() {
    return 'ignored';
  }
}

@Injectable()
class ReportJobs {
  private readonly prefix = 'report';

  @ForestJob('build-report')
  async build(ctx: ForestJobContext) {
    ctx.logger.info('building');
    await Promise.resolve();
    return `${this.prefix} for ${(ctx.params as { month: string }).month}`;
  }
}

@Injectable()
class OtherMailJobs {
  @ForestJob('send-mail')
  mail() {
    return 'duplicate';
  }
}

@Module({
  providers: [{ provide: 'FOREST_URL', useFactory: () => fakeUrl }],
  exports: ['FOREST_URL'],
})
class SettingsModule {}

let fakeUrl = '';
let node: FakeNode;
let app: TestingModule | undefined;

beforeEach(async () => {
  node = await FakeNode.start({ heartbeatIntervalMs: 100 });
  fakeUrl = node.url;
});

afterEach(async () => {
  try {
    await app?.close();
  } finally {
    app = undefined;
    await node.close();
  }
});

async function boot(imports: unknown[], providers: Array<new (...args: never[]) => unknown>) {
  app = await Test.createTestingModule({
    imports: imports as never[],
    providers,
  }).compile();
  app.useLogger(false);
  return app;
}

function finished(executionId: string) {
  return node.waitFor(
    () => ['succeeded', 'failed'].includes(node.executions.get(executionId)?.status ?? ''),
    `execution ${executionId}`,
  );
}

describe('ForestWorkerModule', () => {
  it('discovers @ForestJob methods on two providers, runs them bound, and leaves on close', async () => {
    const testing = await boot(
      [
        ForestWorkerModule.forRoot({
          nodes: [node.url],
          group: 'g',
          concurrency: 2,
          pollWaitMs: 200,
        }),
      ],
      [MailJobs, ReportJobs],
    );
    await testing.init();
    const service = testing.get(ForestWorkerService);
    expect(service.targets.sort()).toEqual(['build-report', 'send-mail']);

    await node.waitFor(() => node.workers.size === 1, 'registration');
    expect(node.registrations[0]).toMatchObject({ group: 'g', capacity: 2 });
    expect([...node.registrations[0].targets].sort()).toEqual(['build-report', 'send-mail']);

    const mail = node.assign({ target: 'send-mail' });
    const report = node.assign({ target: 'build-report', params: { month: '2026-01' } });
    await Promise.all([finished(mail.executionId), finished(report.executionId)]);
    expect(node.executions.get(mail.executionId)).toMatchObject({
      status: 'succeeded',
      output: 'sent 1',
    });
    expect(node.executions.get(report.executionId)?.output).toMatch(
      /INFO building\nreport for 2026-01$/,
    );
    expect(testing.get(MailJobs).sent).toEqual([mail.executionId]);
    expect(service.status).toMatchObject({ state: 'running', succeeded: 2 });

    await testing.close();
    app = undefined;
    expect(service.status?.state).toBe('stopped');
    expect(node.workers.size).toBe(0);
    expect(node.count('DELETE', /^\/api\/workers\/g\/w1$/)).toBe(1);
  });

  it('fails app.init() when two methods claim the same target, naming both', async () => {
    const testing = await boot(
      [ForestWorkerModule.forRoot({ nodes: [node.url], group: 'g', concurrency: 1 })],
      [MailJobs, OtherMailJobs],
    );
    await expect(testing.init()).rejects.toThrow(
      "@ForestJob('send-mail') is declared twice: on MailJobs.send() and on OtherMailJobs.mail(). " +
        'Each target needs exactly one handler.',
    );
    expect(node.registrations).toHaveLength(0);
    app = undefined; // close() would rethrow the failed init; nothing was started
  });

  it('takes its options from forRootAsync({ imports, inject, useFactory })', async () => {
    const testing = await boot(
      [
        ForestWorkerModule.forRootAsync({
          imports: [SettingsModule],
          inject: ['FOREST_URL'],
          useFactory: (url: string) => ({
            nodes: [url],
            group: 'async',
            concurrency: 1,
            pollWaitMs: 200,
          }),
        }),
      ],
      [ReportJobs],
    );
    await testing.init();
    await node.waitFor(() => node.workers.size === 1, 'registration');
    expect(node.registrations[0]).toMatchObject({
      group: 'async',
      targets: ['build-report'],
      capacity: 1,
    });
    const a = node.assign({ target: 'build-report', params: { month: 'may' } });
    await finished(a.executionId);
    expect(node.executions.get(a.executionId)?.output).toMatch(/report for may$/);
  });

  it('passes `token` through to registration (a node with FOREST_AUTH=on)', async () => {
    await node.close();
    node = await FakeNode.start({ heartbeatIntervalMs: 100, token: 'module-token-0123456789' });
    const testing = await boot(
      [
        ForestWorkerModule.forRoot({
          nodes: [node.url],
          group: 'g',
          concurrency: 1,
          pollWaitMs: 200,
          token: 'module-token-0123456789',
        }),
      ],
      [MailJobs],
    );
    await testing.init();
    await node.waitFor(() => node.workers.size === 1, 'registration');
    expect(node.requests[0]).toMatchObject({
      path: '/api/workers',
      status: 201,
      bearer: 'module-token-0123456789',
    });
    const mail = node.assign({ target: 'send-mail' });
    await finished(mail.executionId);
    expect(node.executions.get(mail.executionId)?.status).toBe('succeeded');
  });

  it('does not start a worker when no @ForestJob method exists', async () => {
    const testing = await boot(
      [ForestWorkerModule.forRoot({ nodes: [node.url], group: 'g', concurrency: 1 })],
      [],
    );
    await testing.init();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(node.requests).toHaveLength(0);
    expect(testing.get(ForestWorkerService).status?.state).toBe('idle');
  });
});
