import { Placeholder } from '../components/Layout';

/** Plugins (placeholder): loaded and skipped plugins. Built by a later change. */
export function PluginsScreen() {
  return (
    <Placeholder title="Plugins">
      Loaded dispatch strategies and alert channels, and plugins that were skipped (GET
      /api/plugins).
    </Placeholder>
  );
}
