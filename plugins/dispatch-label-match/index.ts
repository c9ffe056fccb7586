import { ForestPlugin } from '@forest/plugin-api';
import { LabelMatchStrategy } from './label-match.strategy';

export { LabelMatchStrategy } from './label-match.strategy';
export type { LabelMatchOptions } from './label-match.strategy';

/** The `label-match` dispatch strategy: narrow to workers with given labels, then delegate. */
@ForestPlugin({
  name: 'dispatch-label-match',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description:
    'label-match: only workers with the given labels, chosen among by another strategy (default round-robin)',
  providers: [LabelMatchStrategy],
})
export class LabelMatchDispatchPlugin {}
