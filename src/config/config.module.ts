import { DynamicModule, Global, Module } from '@nestjs/common';
import { ForestConfig } from './forest.config';

/** Makes the validated ForestConfig injectable everywhere. */
@Global()
@Module({})
export class ForestConfigModule {
  static forRoot(config: ForestConfig): DynamicModule {
    return {
      module: ForestConfigModule,
      providers: [{ provide: ForestConfig, useValue: config }],
      exports: [ForestConfig],
    };
  }
}
