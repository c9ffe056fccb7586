import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS, SettingSpec } from './config.settings';

/**
 * The README's configuration table is what users read: every setting the node accepts is
 * in it, and nothing it lists is a setting the node does not have (a stale README is how
 * a new user loses an afternoon).
 */
describe('README configuration table', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf('## Configuration');
  const table = readme
    .slice(start, readme.indexOf('\n## ', start + 1))
    .split('\n')
    .filter((line) => line.startsWith('| `FOREST_'));
  const listed = new Set(
    table.flatMap((line) => [...line.matchAll(/`(FOREST_[A-Z0-9_]+)`/g)].map((m) => m[1])),
  );
  const specs = Object.values(SETTINGS) as SettingSpec<unknown>[];

  it('lists every setting the node reads', () => {
    expect(specs.map((spec) => spec.env).filter((env) => !listed.has(env))).toEqual([]);
  });

  it('lists no setting the node does not read', () => {
    const known = new Set(specs.map((spec) => spec.env));
    expect([...listed].filter((env) => !known.has(env))).toEqual([]);
  });
});
