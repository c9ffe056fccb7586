import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api, ApiError, call, onUnauthorized, tokenStore } from '../api/client';
import type { TokenSelf } from '../api/client';

/** What a role may do, as the node's access levels (src/auth/access.ts) have it. */
export type Ability = 'read' | 'operate' | 'admin';

const ROLE_ABILITIES: Record<string, readonly Ability[]> = {
  admin: ['read', 'operate', 'admin'],
  operator: ['read', 'operate'],
  viewer: ['read'],
  worker: [],
};

type AuthState =
  | { status: 'loading' }
  | { status: 'signed-in'; self: TokenSelf }
  | { status: 'signed-out'; reason?: string }
  | { status: 'error'; error: ApiError };

export interface Auth {
  state: AuthState;
  /** The caller (a token, or `anonymous (auth off)`), once known. */
  self?: TokenSelf;
  /** True when the caller's role allows the ability (everything with auth off). */
  can(ability: Ability): boolean;
  signIn(token: string): Promise<void>;
  signOut(): void;
  retry(): void;
}

const AuthContext = createContext<Auth | undefined>(undefined);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}

/** Shortcut: may the caller take actions of this ability? */
export function useCan(ability: Ability): boolean {
  return useAuth().can(ability);
}

/**
 * Who is signed in: asks GET /api/tokens/self with the tab's token (sessionStorage). With
 * FOREST_AUTH=off the node answers `auth: false` and no sign-in is needed; with auth on and
 * no (or a revoked) token it answers 401 and the sign-in form shows. Any later 401 signs out.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    call(api.GET('/api/tokens/self'))
      .then((self) => live && setState({ status: 'signed-in', self }))
      .catch((error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 401) {
          const hadToken = tokenStore.get() !== null;
          tokenStore.clear();
          setState({
            status: 'signed-out',
            reason: hadToken ? 'The node no longer accepts your token.' : undefined,
          });
        } else if (error instanceof ApiError && error.status === 403) {
          tokenStore.clear();
          setState({
            status: 'signed-out',
            reason:
              'This token may not read (a worker token?). Use an admin, operator or viewer token.',
          });
        } else {
          setState({
            status: 'error',
            error: error instanceof ApiError ? error : new ApiError(0, 'UNKNOWN', String(error)),
          });
        }
      });
    return () => {
      live = false;
    };
  }, [attempt]);

  useEffect(
    () =>
      onUnauthorized(() => {
        if (tokenStore.get() === null && state.status === 'signed-out') return;
        tokenStore.clear();
        setState({ status: 'signed-out', reason: 'The node no longer accepts your token.' });
      }),
    [state.status],
  );

  const signIn = useCallback(async (token: string) => {
    tokenStore.set(token.trim());
    try {
      const self = await call(api.GET('/api/tokens/self'));
      setState({ status: 'signed-in', self });
    } catch (error) {
      tokenStore.clear();
      if (error instanceof ApiError && error.status === 401) {
        throw new ApiError(401, error.code, 'The node does not accept this token.');
      }
      if (error instanceof ApiError && error.status === 403) {
        throw new ApiError(
          403,
          error.code,
          'This token may not read: use an admin, operator or viewer token.',
        );
      }
      throw error;
    }
  }, []);

  const signOut = useCallback(() => {
    tokenStore.clear();
    setState({ status: 'signed-out' });
  }, []);

  const value = useMemo<Auth>(() => {
    const self = state.status === 'signed-in' ? state.self : undefined;
    return {
      state,
      self,
      can: (ability) => (self ? (ROLE_ABILITIES[self.role] ?? []).includes(ability) : false),
      signIn,
      signOut,
      retry: () => setAttempt((n) => n + 1),
    };
  }, [state, signIn, signOut]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
