import { ForestPlugin } from '@forest/plugin-api';
import { RandomStrategy } from './random.strategy';

export { RandomStrategy } from './random.strategy';

/** The `random` dispatch strategy: a uniformly random worker with a free slot. */
@ForestPlugin({
  name: 'dispatch-random',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'random: each execution goes to a uniformly random worker with a free slot',
  providers: [RandomStrategy],
})
export class RandomDispatchPlugin {}
