import { Inject } from '@nestjs/common';

/** The ExecutionHistory adapter chosen at boot (see HistoryModule). */
export const EXECUTION_HISTORY = Symbol('EXECUTION_HISTORY');
/** The ExecutionLogs adapter chosen at boot, or null when this node keeps no logs. */
export const EXECUTION_LOGS = Symbol('EXECUTION_LOGS');

export const InjectHistory = (): ParameterDecorator => Inject(EXECUTION_HISTORY);
export const InjectLogs = (): ParameterDecorator => Inject(EXECUTION_LOGS);
