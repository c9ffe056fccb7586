import { ForestPlugin } from '@forest/plugin-api';
import { BroadcastStrategy } from './broadcast.strategy';

export { BroadcastStrategy } from './broadcast.strategy';

/** The `broadcast` dispatch strategy: one shard on every live worker of the target. */
@ForestPlugin({
  name: 'dispatch-broadcast',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: 'broadcast: each execution runs as one shard on every live worker (at most 60)',
  providers: [BroadcastStrategy],
})
export class BroadcastDispatchPlugin {}
