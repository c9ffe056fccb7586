import { ForestPlugin } from '@forest/plugin-api';
import { JsonlFileChannel } from './jsonl-file.channel';
import { WeightedStrategy } from './weighted.strategy';

export { JsonlFileChannel } from './jsonl-file.channel';
export { WeightedStrategy } from './weighted.strategy';

/**
 * The example of plugins/README.md: the `weighted` dispatch strategy and the `jsonl-file`
 * alert channel. The loader takes the one @ForestPlugin class this entry point exports;
 * the strategy and channel are exported too, for tests and for other code to reuse.
 */
@ForestPlugin({
  name: 'forest-plugin-example',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description:
    'weighted: workers in proportion to a weight label; jsonl-file: alerts as JSON lines',
  providers: [WeightedStrategy, JsonlFileChannel],
})
export class ExamplePlugin {}
