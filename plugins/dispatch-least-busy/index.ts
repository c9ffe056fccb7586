import { ForestPlugin } from '@forest/plugin-api';
import { LeastBusyStrategy } from './least-busy.strategy';

export { LeastBusyStrategy } from './least-busy.strategy';

/** The `least-busy` dispatch strategy: the worker with the lowest load for its capacity. */
@ForestPlugin({
  name: 'dispatch-least-busy',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'least-busy: each execution goes to the worker with the lowest load/capacity',
  providers: [LeastBusyStrategy],
})
export class LeastBusyDispatchPlugin {}
