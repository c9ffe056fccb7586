import { MemoryExecutionLogs } from '../../src/history/memory-logs';
import { describeLogsContract } from './logs-contract';

describeLogsContract('MemoryExecutionLogs', (options) => {
  const logs = new MemoryExecutionLogs(options);
  return Promise.resolve({ logs, dispose: () => logs.close() });
});
