import { DomainError } from '../common/domain-error';

/** Leader-only work was attempted on a node that does not lead (or no longer does). */
export class NotLeaderError extends DomainError {
  constructor(nodeId: string, reason = 'this node is not the leader') {
    super('unavailable', 'NOT_LEADER', `node ${nodeId}: ${reason}`);
  }
}

/** No node leads right now (an election is under way, or no node is alive). */
export class NoLeaderError extends DomainError {
  constructor() {
    super('unavailable', 'NO_LEADER', 'no node is leader right now; retry in a few seconds');
  }
}
