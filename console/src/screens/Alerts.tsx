import { Placeholder } from '../components/Layout';

/** Alerts (placeholder): recent alerts and their deliveries. Built by a later change. */
export function AlertsScreen() {
  return (
    <Placeholder title="Alerts">
      Recent alerts with their delivery per channel (GET /api/alerts).
    </Placeholder>
  );
}
