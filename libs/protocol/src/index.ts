export * from './keyspace';
export * from './job.types';
