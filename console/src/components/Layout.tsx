import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useAuth } from './auth';
import { ConnectionBanner } from './Banner';

/** The screens in the navigation, in order. */
export const NAV: { to: string; label: string }[] = [
  { to: '/', label: 'Overview' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/executions', label: 'Executions' },
  { to: '/groups', label: 'Groups' },
  { to: '/plan', label: 'Plan' },
  { to: '/cluster', label: 'Cluster' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/plugins', label: 'Plugins' },
];

/** The frame of every screen: header with navigation and the signed-in identity, banners. */
export function Layout() {
  const { self, signOut } = useAuth();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const [lastPath, setLastPath] = useState(location.pathname);
  if (lastPath !== location.pathname) {
    setLastPath(location.pathname);
    setMenuOpen(false);
  }
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ▲
          </span>{' '}
          Forest
        </div>
        <button
          type="button"
          className="menu-toggle button-plain"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? 'nav nav-open' : 'nav'}>
          {NAV.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.to === '/'} className="nav-link">
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="identity" data-testid="identity">
          {self &&
            (self.auth ? (
              <>
                <span title={self.groups ? `groups: ${self.groups.join(', ')}` : 'every group'}>
                  <span className="visually-hidden">Signed in as </span>
                  <strong>{self.name}</strong> <span className="badge">{self.role}</span>
                  {self.groups && <span className="muted"> · {self.groups.join(', ')}</span>}
                </span>
                <button type="button" className="button-small" onClick={signOut}>
                  Sign out
                </button>
              </>
            ) : (
              <span className="muted" title="FOREST_AUTH=off: the node listens on loopback only">
                auth off
              </span>
            ))}
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

/** The heading row of a screen: title, optional description and actions on the right. */
export function ScreenHeader({
  title,
  children,
  actions,
}: {
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · Forest`;
  }, [title]);
  return (
    <div className="screen-header">
      <div>
        <h1>{title}</h1>
        {children && <p className="muted">{children}</p>}
      </div>
      {actions && <div className="screen-actions">{actions}</div>}
    </div>
  );
}
