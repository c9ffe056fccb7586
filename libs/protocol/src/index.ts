export * from './keyspace';
