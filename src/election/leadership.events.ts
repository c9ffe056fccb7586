/** What LeadershipService announces; the planner and dispatcher start and stop on these. */
export type LeadershipEvent =
  | { type: 'elected'; nodeId: string; token: number; at: Date }
  | { type: 'demoted'; nodeId: string; reason: string; at: Date };

/** A node's registration in `nodes/{id}`, as stored. */
export interface NodeRecord {
  id: string;
  address: string;
  version: string;
  startedAt: string;
}
