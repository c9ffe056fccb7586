export * from './keyspace';
export * from './job.types';
export * from './execution.types';
export * from './worker-protocol.types';
export * from './decode';
export * from './token.types';
export * from './job-state';
export * from './worker-logs.types';
