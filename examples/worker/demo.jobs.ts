import { setTimeout } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { ForestJob, type ForestJobContext } from '@forest/worker';

@Injectable()
export class DemoJobs {
  private readonly logger = new Logger(DemoJobs.name);

  /** Target `hello`; params `{ "name": "Forest" }` or none. */
  @ForestJob('hello')
  hello(ctx: ForestJobContext<{ name?: string } | null>) {
    const name = ctx.params?.name ?? 'world';
    this.logger.log(`hello job=${ctx.jobId} execution=${ctx.executionId}`); // this console
    ctx.logger.info('Hello, %s!', name); // the execution's output
    return { greeted: name }; // appended to the output as JSON
  }

  /** Target `report.generate`; params `{ "pages": 3 }`. Slow work that stops when aborted. */
  @ForestJob('report.generate')
  async generateReport(ctx: ForestJobContext<{ pages?: number } | null>) {
    const pages = ctx.params?.pages ?? 5;
    for (let page = 1; page <= pages; page++) {
      // Rejects with an AbortError as soon as the signal aborts (time limit, shutdown).
      await setTimeout(1_000, undefined, { signal: ctx.signal });
      ctx.logger.info('page %d of %d', page, pages);
    }
    return { pages };
  }
}
