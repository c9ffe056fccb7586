import { createBrowserRouter, RouterProvider } from 'react-router';
import type { RouteObject } from 'react-router';
import { AuthProvider, useAuth } from './components/auth';
import { ConnectionBanner, ErrorBanner } from './components/Banner';
import { Layout } from './components/Layout';
import { SignIn } from './components/SignIn';
import { GroupsScreen } from './screens/Groups';
import { JobEditScreen } from './screens/JobEdit';
import { JobsScreen } from './screens/Jobs';
import { NotFoundScreen } from './screens/NotFound';
import { OverviewScreen } from './screens/Overview';
import { PlanScreen } from './screens/Plan';

/**
 * Every screen has its own URL; the node answers index.html for all of them (the SPA
 * fallback in src/http/console-static.ts).
 */
export const ROUTES: RouteObject[] = [
  {
    element: <Layout />,
    // Shown while a lazily loaded screen is fetched on a first page load.
    hydrateFallbackElement: (
      <p className="loading-page" role="status">
        Loading…
      </p>
    ),
    children: [
      { index: true, element: <OverviewScreen /> },
      { path: 'jobs', element: <JobsScreen /> },
      { path: 'jobs/new', element: <JobEditScreen /> },
      { path: 'jobs/:id', element: <JobEditScreen /> },
      { path: 'groups', element: <GroupsScreen /> },
      { path: 'groups/:name', element: <GroupsScreen /> },
      { path: 'plan', element: <PlanScreen /> },
      // Loaded on first visit (their own chunks keep the first load small).
      {
        path: 'executions',
        lazy: async () => ({ Component: (await import('./screens/Executions')).ExecutionsScreen }),
      },
      {
        path: 'executions/:id',
        lazy: async () => ({
          Component: (await import('./screens/ExecutionDetail')).ExecutionDetailScreen,
        }),
      },
      {
        path: 'cluster',
        lazy: async () => ({ Component: (await import('./screens/Cluster')).ClusterScreen }),
      },
      {
        path: 'alerts',
        lazy: async () => ({ Component: (await import('./screens/Alerts')).AlertsScreen }),
      },
      {
        path: 'plugins',
        lazy: async () => ({ Component: (await import('./screens/Plugins')).PluginsScreen }),
      },
      { path: '*', element: <NotFoundScreen /> },
    ],
  },
];

const router = createBrowserRouter(ROUTES);

function Gate() {
  const { state, retry } = useAuth();
  switch (state.status) {
    case 'loading':
      return (
        <p className="loading-page" role="status">
          Connecting to the node…
        </p>
      );
    case 'signed-out':
      return <SignIn reason={state.reason} />;
    case 'error':
      return (
        <main className="signin">
          <ConnectionBanner />
          <div className="card signin-card">
            <h1>Forest console</h1>
            <ErrorBanner error={state.error} onRetry={retry} />
          </div>
        </main>
      );
    case 'signed-in':
      return <RouterProvider router={router} />;
  }
}

export function App() {
  return (
    <AuthProvider>
      <Gate />
    </AuthProvider>
  );
}
