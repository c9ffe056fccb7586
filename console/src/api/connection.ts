import { useSyncExternalStore } from 'react';

/**
 * Whether the node answers: `ok`, `unreachable` (no answer at all: the node is down or the
 * network is) or `store-unavailable` (it answers 503 STORE_UNAVAILABLE: etcd is down or
 * partitioned from it). Every API call reports here (see call in client.ts); the connection
 * banner shows it.
 */
export type ConnectionState = 'ok' | 'unreachable' | 'store-unavailable';

let state: ConnectionState = 'ok';
const listeners = new Set<() => void>();

export function reportConnection(next: ConnectionState): void {
  if (next === state) return;
  state = next;
  listeners.forEach((listener) => listener());
}

export function useConnection(): ConnectionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

/** Asks /health whether the node (and its store) is back; reports the outcome. */
export async function probeConnection(): Promise<ConnectionState> {
  try {
    const response = await fetch('/health', { cache: 'no-store' });
    const next: ConnectionState = response.ok ? 'ok' : 'store-unavailable';
    reportConnection(next);
    return next;
  } catch {
    reportConnection('unreachable');
    return 'unreachable';
  }
}
