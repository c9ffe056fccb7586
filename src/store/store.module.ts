import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CoordinationStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { createCoordinationStore } from './store.factory';
import { COORDINATION_STORE } from './store.tokens';

/** Provides the CoordinationStore to every module and closes it last on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: COORDINATION_STORE,
      inject: [ForestConfig],
      useFactory: (config: ForestConfig) => createCoordinationStore(config),
    },
  ],
  exports: [COORDINATION_STORE],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(COORDINATION_STORE) private readonly store: CoordinationStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
