import { parseExecutionId } from '@forest/protocol';
import { isValidKeySegment } from '@forest/store';

/** An execution id the API accepts: `{jobId}~{execKey}`, both key segments. */
export function isValidExecutionId(id: string): boolean {
  const parts = parseExecutionId(id);
  return parts !== undefined && isValidKeySegment(parts.jobId) && isValidKeySegment(parts.execKey);
}
