/**
 * The plain-Node worker client, without the Nest integration: import
 * `@forest/worker/client` where @nestjs/* is not installed.
 */
export { ForestWorker } from './forest-worker';
export * from './forest-worker.types';
export * from './forest-worker.errors';
export { MAX_REPORT_TEXT_BYTES } from '@forest/protocol';
