import { useEffect, useRef } from 'react';

/** Calls `fn` every `ms` while `on` (a live screen's fallback while its event stream is down). */
export function usePoll(on: boolean, fn: () => void, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => ref.current(), ms);
    return () => clearInterval(timer);
  }, [on, ms]);
}
