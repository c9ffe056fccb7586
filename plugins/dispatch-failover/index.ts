import { ForestPlugin } from '@forest/plugin-api';
import { FailoverStrategy } from './failover.strategy';

export { FailoverStrategy } from './failover.strategy';
export type { FailoverOptions } from './failover.strategy';

/** The `failover` dispatch strategy: one primary worker, the next takes over when needed. */
@ForestPlugin({
  name: 'dispatch-failover',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description:
    'failover: all work goes to the oldest live worker (or lowest id) until it is full or gone',
  providers: [FailoverStrategy],
})
export class FailoverDispatchPlugin {}
