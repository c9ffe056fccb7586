import { api, call } from '../api/client';
import type { Schemas } from '../api/client';
import { ErrorBanner } from '../components/Banner';
import { ScreenHeader } from '../components/Layout';
import { Table } from '../components/Table';
import type { Column } from '../components/Table';
import { useAsync } from '../components/useAsync';
import '../observe.css';

type Plugin = Schemas['PluginViewDto'];
type Skipped = Schemas['SkippedPluginDto'];

const KIND: Record<Plugin['provides'][number]['kind'], string> = {
  'dispatch-strategy': 'dispatch strategy',
  'alert-channel': 'alert channel',
};

/** The plugins this node loaded (dispatch strategies, alert channels) and those it skipped. */
export function PluginsScreen() {
  const plugins = useAsync(() => call(api.GET('/api/plugins')), []);
  const columns: Column<Plugin>[] = [
    {
      header: 'Plugin',
      render: (p) => (
        <>
          <strong>{p.name}</strong> <span className="muted small">{p.version}</span>
        </>
      ),
    },
    {
      header: 'Provides',
      render: (p) => (
        <ul className="provides">
          {p.provides.map((provision) => (
            <li key={`${provision.kind}:${provision.name}`}>
              <code>{provision.name}</code>{' '}
              <span className="muted small">{KIND[provision.kind]}</span>
            </li>
          ))}
        </ul>
      ),
    },
    { header: 'Description', className: 'cell-wrap', render: (p) => p.description },
    {
      header: 'Source',
      render: (p) => (
        <>
          {p.source}
          <div className="muted mono small">{p.location}</div>
        </>
      ),
    },
    { header: 'API', render: (p) => <code>{p.compatibility}</code> },
  ];
  const skippedColumns: Column<Skipped>[] = [
    { header: 'Location', render: (s) => <span className="mono">{s.location}</span> },
    { header: 'Source', render: (s) => s.source },
    { header: 'Why not loaded', className: 'cell-wrap', render: (s) => s.reason },
  ];
  return (
    <section>
      <ScreenHeader title="Plugins">
        What this node loaded: the dispatch strategies and alert channels jobs can name.
        {plugins.data && ` Plugin API ${plugins.data.apiVersion}.`}
      </ScreenHeader>
      <ErrorBanner error={plugins.error} onRetry={plugins.reload} />
      <Table
        caption="Loaded plugins"
        columns={columns}
        rows={plugins.data?.plugins}
        rowKey={(p) => p.name}
        rowProps={(p) => ({ 'data-testid': 'plugin-row', 'data-name': p.name })}
        loading={plugins.loading && !plugins.data}
        testId="plugins-table"
        empty="No plugins loaded."
      />
      {plugins.data && plugins.data.skipped.length > 0 && (
        <>
          <h2>Skipped (FOREST_PLUGIN_ON_ERROR=skip)</h2>
          <Table
            caption="Plugins not loaded"
            columns={skippedColumns}
            rows={plugins.data.skipped}
            rowKey={(s) => s.location}
            testId="plugins-skipped"
          />
        </>
      )}
    </section>
  );
}
