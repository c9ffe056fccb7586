import { ForestPlugin } from '@forest/plugin-api';
import { RoundRobinStrategy } from './round-robin.strategy';

export { RoundRobinStrategy } from './round-robin.strategy';

/** The `round-robin` dispatch strategy: workers in turn, in id order, skipping full ones. */
@ForestPlugin({
  name: 'dispatch-round-robin',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'round-robin: executions go to the workers in turn, in id order, skipping full ones',
  providers: [RoundRobinStrategy],
})
export class RoundRobinDispatchPlugin {}
