import { Placeholder } from '../components/Layout';

/** Executions (placeholder; /executions and /executions/:id). Built by a later change. */
export function ExecutionsScreen() {
  return (
    <Placeholder title="Executions">
      Executions newest first with filters, one execution with its timeline, output and logs, cancel
      (GET /api/executions, GET /api/executions/{'{id}'}, logs).
    </Placeholder>
  );
}
