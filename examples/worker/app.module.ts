import { Module } from '@nestjs/common';
import { ForestWorkerModule } from '@forest/worker';
import { DemoJobs } from './demo.jobs';

@Module({
  imports: [
    ForestWorkerModule.forRoot({
      // Any node of the cluster will do; the worker fails over between them.
      nodes: (process.env.FOREST_NODES ?? 'http://127.0.0.1:2856').split(','),
      group: process.env.FOREST_GROUP ?? 'demo',
      concurrency: 4,
    }),
  ],
  providers: [DemoJobs],
})
export class AppModule {}
