import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ForestExceptionFilter } from './common/forest-exception.filter';
import { createValidationPipe } from './common/validation';
import { ForestConfigModule } from './config/config.module';
import { ForestConfig } from './config/forest.config';
import { ElectionModule } from './election/election.module';
import { ExecutionModule } from './execution/execution.module';
import { HealthModule } from './health/health.module';
import { JobModule } from './job/job.module';
import { PlannerModule } from './planner/planner.module';
import { WorkerGatewayModule } from './worker-gateway/worker-gateway.module';
import { StoreModule } from './store/store.module';

/**
 * The scheduler node. Built from an already validated config so tests can start nodes
 * with any configuration without touching process.env.
 */
@Module({})
export class AppModule {
  static forRoot(config: ForestConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ForestConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            base: { node: config.nodeId },
            // Request logs at debug: a busy worker fleet polls constantly.
            customLogLevel: (_req, res, error) =>
              error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug',
          },
        }),
        StoreModule,
        HealthModule,
        ElectionModule,
        JobModule,
        PlannerModule,
        ExecutionModule,
        WorkerGatewayModule,
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        {
          provide: APP_FILTER,
          inject: [ForestConfig],
          useFactory: (cfg: ForestConfig) => new ForestExceptionFilter(cfg.httpBodyLimit),
        },
      ],
    };
  }
}
