import { ExecutionRecord } from '@forest/protocol';

/** An execution that reached a final status, and the next attempt that finish created. */
export interface ExecutionFinished {
  record: ExecutionRecord;
  retry?: ExecutionRecord;
}
