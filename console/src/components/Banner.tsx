import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { errorText } from '../api/client';
import { probeConnection, useConnection } from '../api/connection';

/** An error a screen caught, in a red box with an optional retry (role="alert"). */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === undefined || error === null) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner">
      <span>{errorText(error)}</span>
      {onRetry && (
        <button type="button" className="button-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** A neutral or success message (role="status"). */
export function Notice({
  children,
  kind = 'info',
  onClose,
}: {
  children: ReactNode;
  kind?: 'info' | 'success' | 'warning';
  onClose?: () => void;
}) {
  return (
    <div className={`banner banner-${kind}`} role="status">
      <span>{children}</span>
      {onClose && (
        <button
          type="button"
          className="button-small button-plain"
          onClick={onClose}
          aria-label="Dismiss"
        >
          ×
        </button>
      )}
    </div>
  );
}

/**
 * The banner at the top of every screen when the node does not answer, or answers 503
 * STORE_UNAVAILABLE. While shown it asks /health every 5 s and disappears when the node is back.
 */
export function ConnectionBanner() {
  const state = useConnection();
  const [checking, setChecking] = useState(false);
  useEffect(() => {
    if (state === 'ok') return;
    const timer = setInterval(() => void probeConnection(), 5000);
    return () => clearInterval(timer);
  }, [state]);
  if (state === 'ok') return null;
  const check = () => {
    setChecking(true);
    void probeConnection().finally(() => setChecking(false));
  };
  return (
    <div
      className="banner banner-error banner-connection"
      role="alert"
      data-testid="connection-banner"
    >
      <span>
        {state === 'unreachable'
          ? 'The node is unreachable: it may be down or restarting. Showing the last data loaded.'
          : 'The node answers 503 STORE_UNAVAILABLE: its coordination store (etcd) is unavailable. Changes cannot be saved until it is back.'}
      </span>
      <button type="button" className="button-small" onClick={check} disabled={checking}>
        {checking ? 'Checking…' : 'Check again'}
      </button>
    </div>
  );
}
