import { ForestPlugin } from '@forest/plugin-api';
import { ConsistentHashStrategy } from './consistent-hash.strategy';

export { ConsistentHashStrategy } from './consistent-hash.strategy';
export type { ConsistentHashOptions } from './consistent-hash.strategy';

/** The `consistent-hash` dispatch strategy: the same key sticks to the same worker. */
@ForestPlugin({
  name: 'dispatch-consistent-hash',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description:
    'consistent-hash: a job (or a params value) sticks to one worker; worker changes move ~1/n of keys',
  providers: [ConsistentHashStrategy],
})
export class ConsistentHashDispatchPlugin {}
