import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Forest's version from its package.json, found from both src/ and dist/src/. */
function readVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'forest' && pkg.version) return pkg.version;
  }
  return '0.0.0';
}

export const FOREST_VERSION = readVersion();
