import { useState } from 'react';
import { useAuth } from './auth';
import { Field } from './Field';
import { ErrorBanner, Notice } from './Banner';

/** The sign-in form (FOREST_AUTH=on): an API token, kept in this tab's sessionStorage. */
export function SignIn({ reason }: { reason?: string }) {
  const { signIn } = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <main className="signin">
      <form
        className="card signin-card"
        aria-labelledby="signin-title"
        onSubmit={(event) => {
          event.preventDefault();
          if (!token.trim()) {
            setError(new Error('Enter an API token.'));
            return;
          }
          setBusy(true);
          setError(undefined);
          signIn(token)
            .catch(setError)
            .finally(() => setBusy(false));
        }}
      >
        <h1 id="signin-title">
          <span className="brand-mark" aria-hidden="true">
            ▲
          </span>{' '}
          Forest console
        </h1>
        <p>
          This node requires an API token (<code>FOREST_AUTH=on</code>). Paste an admin, operator or
          viewer token. It is kept in this browser tab only and sent as{' '}
          <code>Authorization: Bearer …</code>.
        </p>
        {reason && <Notice kind="warning">{reason}</Notice>}
        <Field
          label="API token"
          hint="The first admin token is in <data dir>/admin-token, or FOREST_ADMIN_TOKEN."
        >
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellCheck={false}
            value={token}
            onChange={(event) => setToken(event.target.value)}
            data-testid="signin-token"
            autoFocus
          />
        </Field>
        <ErrorBanner error={error} />
        <button
          type="submit"
          className="button-primary"
          disabled={busy}
          data-testid="signin-submit"
        >
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
