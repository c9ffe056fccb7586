import { Placeholder } from '../components/Layout';

/** Cluster (placeholder): nodes, the leader and workers. Built by a later change. */
export function ClusterScreen() {
  return (
    <Placeholder title="Cluster">
      Scheduler nodes with the leader, and live workers per group (GET /api/nodes, GET
      /api/workers).
    </Placeholder>
  );
}
