import { LogArrivals } from './log-arrivals';

describe('LogArrivals', () => {
  it('calls the listeners of the execution whose lines were stored, until they unsubscribe', () => {
    const arrivals = new LogArrivals();
    const calls: string[] = [];
    const offA = arrivals.subscribe('a', () => calls.push('a1'));
    arrivals.subscribe('a', () => calls.push('a2'));
    arrivals.subscribe('b', () => calls.push('b'));
    arrivals.stored('a');
    expect(calls).toEqual(['a1', 'a2']);
    offA();
    offA(); // twice is harmless
    arrivals.stored('a');
    arrivals.stored('c');
    expect(calls).toEqual(['a1', 'a2', 'a2']);
  });

  it('forgets an execution once its last listener left', () => {
    const arrivals = new LogArrivals();
    const off = arrivals.subscribe('a', () => undefined);
    off();
    expect((arrivals as unknown as { waiting: Map<string, unknown> }).waiting.size).toBe(0);
  });
});
