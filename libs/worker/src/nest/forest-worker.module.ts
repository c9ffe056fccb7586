import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FOREST_WORKER_OPTIONS } from './forest-worker.constants';
import { ForestWorkerExplorer } from './forest-worker.explorer';
import type {
  ForestWorkerModuleAsyncOptions,
  ForestWorkerModuleOptions,
} from './forest-worker-module.options';
import { ForestWorkerService } from './forest-worker.service';

/**
 * Runs a Forest worker inside a Nest application: `@ForestJob('target')` methods on any
 * provider become its handlers. Exports ForestWorkerService (status).
 */
@Module({})
export class ForestWorkerModule {
  static forRoot(options: ForestWorkerModuleOptions): DynamicModule {
    return ForestWorkerModule.build([], { provide: FOREST_WORKER_OPTIONS, useValue: options });
  }

  static forRootAsync(options: ForestWorkerModuleAsyncOptions): DynamicModule {
    return ForestWorkerModule.build(options.imports ?? [], {
      provide: FOREST_WORKER_OPTIONS,
      useFactory: options.useFactory,
      inject: options.inject ?? [],
    });
  }

  private static build(
    imports: DynamicModule['imports'],
    optionsProvider: Provider,
  ): DynamicModule {
    return {
      module: ForestWorkerModule,
      imports: [DiscoveryModule, ...(imports ?? [])],
      providers: [optionsProvider, ForestWorkerExplorer, ForestWorkerService],
      exports: [ForestWorkerService],
    };
  }
}
