import fc from 'fast-check';
import { scanJson } from './json-body';

/** Nesting depth and keys + items of a parsed JSON value: what scanJson measures on the text. */
function measure(value: unknown): { depth: number; entries: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, entries: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let depth = 0;
  let entries = children.length;
  for (const child of children) {
    const inner = measure(child);
    depth = Math.max(depth, inner.depth);
    entries += inner.entries;
  }
  return { depth: depth + 1, entries };
}

const bytes = (text: string) => Buffer.from(text);

describe('scanJson', () => {
  it('measures depth and keys+items exactly as the parsed value has them', () => {
    const text = fc.oneof(
      fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v)),
      fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v, null, 2)),
      fc
        .jsonValue({ maxDepth: 6 })
        .map((v) =>
          JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? `[{"\\${x}` : x)),
        ),
    );
    fc.assert(
      fc.property(text, (json) => {
        const { depth, entries } = measure(JSON.parse(json));
        const limits = { maxDepth: depth, maxKeys: entries };
        expect(scanJson(bytes(json), limits)).toBe('ok');
        if (depth > 0) {
          expect(scanJson(bytes(json), { ...limits, maxDepth: depth - 1 })).toBe('too_deep');
        }
        if (entries > 0) {
          expect(scanJson(bytes(json), { maxDepth: depth, maxKeys: entries - 1 })).toBe('too_wide');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores brackets, commas and escaped quotes inside strings', () => {
    const limits = { maxDepth: 1, maxKeys: 2 };
    expect(scanJson(bytes('{"a":"[[[{{{,,,","b":"\\"[[,"}'), limits)).toBe('ok');
    expect(scanJson(bytes('{"a\\\\":"x","b":[1]}'), limits)).toBe('too_deep');
    expect(scanJson(bytes('["\\\\\\"[", 1, 2]'), limits)).toBe('too_wide');
    expect(scanJson(bytes('"ü[ü{ü"'), limits)).toBe('ok');
  });

  it('stops at the first limit crossed, so 100,000-deep nesting costs nothing', () => {
    const deep = bytes(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(scanJson(deep, { maxDepth: 64, maxKeys: 20_000 })).toBe('too_deep');
    const wide = bytes(`[${'0,'.repeat(50_000)}0]`);
    expect(scanJson(wide, { maxDepth: 64, maxKeys: 20_000 })).toBe('too_wide');
  });

  it('scans a 1 MiB body in linear time (a few ms), whatever its shape', () => {
    const mib = 1024 * 1024;
    const shapes: Record<string, string> = {
      'one long string': `"${'x'.repeat(mib)}"`,
      escapes: `"${'\\\\'.repeat(mib / 2)}"`,
      'escaped quotes': `"${'\\"'.repeat(mib / 2)}"`,
      'many small strings': `[${'"a",'.repeat(mib / 4)}"a"]`,
      whitespace: `[${' '.repeat(mib)}]`,
      'unterminated string': `"${'['.repeat(mib)}`,
    };
    const limits = { maxDepth: 64, maxKeys: 10_000_000 };
    for (const [shape, text] of Object.entries(shapes)) {
      const body = bytes(text);
      scanJson(body, limits);
      const started = performance.now();
      scanJson(body, limits);
      const elapsed = performance.now() - started;
      process.stdout.write(`scanJson ${shape} (${body.length} bytes): ${elapsed.toFixed(2)} ms\n`);
      expect(elapsed).toBeLessThan(100);
    }
  });
});
