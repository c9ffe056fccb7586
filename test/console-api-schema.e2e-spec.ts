import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONSOLE_SCHEMA_FILE } from './support/console-api';

const run = promisify(execFile);
const root = join(__dirname, '..');

/**
 * The web console's API types (console/src/api/schema.d.ts) are generated from the node's
 * OpenAPI document. A change to the API without `npm run console:api` fails here, so the
 * console never compiles against an API that no longer exists. The generator runs in a child
 * process: openapi-typescript is ESM-only, which jest (CJS, Node 20) cannot load.
 */
describe('console API schema', () => {
  it('console/src/api/schema.d.ts is what `npm run console:api` generates from the API', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-r', './test/support/ts-register.js', 'test/support/console-api.ts', '--stdout'],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    const checkedIn = readFileSync(CONSOLE_SCHEMA_FILE, 'utf8');
    if (stdout !== checkedIn) {
      throw new Error(
        'console/src/api/schema.d.ts is stale: the API changed. Run `npm run console:api` ' +
          'and commit the result (then fix the console if it no longer type-checks).',
      );
    }
  });
});
