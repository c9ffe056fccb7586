export * from './keyspace';
export * from './job.types';
export * from './execution.types';
