import { Placeholder } from '../components/Layout';

/** Overview (placeholder): the cluster at a glance. Built by a later change. */
export function OverviewScreen() {
  return (
    <Placeholder title="Overview">
      Executions per minute, fire lag, live workers and running executions (GET /api/stats/overview,
      GET /api/events).
    </Placeholder>
  );
}
