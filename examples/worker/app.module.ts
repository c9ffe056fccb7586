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
      // Nodes with FOREST_AUTH=on: a worker token of the group (sent on registration only).
      // Unset: none, for a node with auth off.
      token: process.env.FOREST_WORKER_TOKEN,
    }),
  ],
  providers: [DemoJobs],
})
export class AppModule {}
