import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every `from '...'` / `require('...')` specifier in a TypeScript file. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map(
    (m) => m[1],
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('libs/worker house rules', () => {
  const root = __dirname;
  const files = sources(root).map((file) => relative(root, file));

  it('imports only @forest/protocol, node built-ins and (in nest/) @nestjs/common and @nestjs/core', () => {
    const offending = files.flatMap((file) =>
      imports(join(root, file))
        .filter((spec) => !spec.startsWith('.'))
        .filter((spec) => {
          if (spec === '@forest/protocol' || spec.startsWith('node:')) return false;
          return !(file.startsWith('nest/') && /^@nestjs\/(common|core)(\/|$)/.test(spec));
        })
        .map((spec) => `${file}: ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('keeps the plain client free of Nest: nothing outside nest/ reaches into it', () => {
    const offending = files
      .filter((file) => !file.startsWith('nest/') && file !== 'index.ts')
      .flatMap((file) =>
        imports(join(root, file))
          .filter((spec) => /(^|\/)nest(\/|$)|@nestjs/.test(spec))
          .map((spec) => `${file}: ${spec}`),
      );
    expect(offending).toEqual([]);
  });
});
