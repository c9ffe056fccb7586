import { ForestPlugin } from '@forest/plugin-api';
import { LogChannel } from './log.channel';

export { formatAlertLine, LogChannel } from './log.channel';

/** The `log` alert channel: alerts as lines in the node's own log. */
@ForestPlugin({
  name: 'alert-log',
  version: '1.0.0',
  compatibility: '^1.0.0',
  description: "log: each alert as one line in the node's log, at its severity's level",
  providers: [LogChannel],
})
export class LogAlertPlugin {}
