/*
 * The web console's typed API client is generated from the node's OpenAPI document:
 * `npm run console:api` writes console/src/api/schema.d.ts; test/console-api-schema.e2e-spec.ts
 * fails when the checked-in file differs from what this produces.
 *
 * The document comes from a real node (the AppModule with Swagger, as main.ts builds it) on
 * a throwaway embedded data dir, asked through Fastify inject: no port, no etcd, no running
 * node needed. openapi-typescript (ESM-only) turns it into TypeScript types.
 *
 *   node -r ./test/support/ts-register.js test/support/console-api.ts           # write the file
 *   node -r ./test/support/ts-register.js test/support/console-api.ts --stdout  # print it
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp } from './app-harness';

export const CONSOLE_SCHEMA_FILE = join(
  __dirname,
  '..',
  '..',
  'console',
  'src',
  'api',
  'schema.d.ts',
);

const HEADER =
  "// Generated from the node's OpenAPI document by `npm run console:api` (test/support/console-api.ts).\n" +
  '// Do not edit: change the API, then regenerate. test/console-api-schema.e2e-spec.ts checks it is current.\n\n';

/** The part of openapi-typescript used here (its types resolve poorly from CommonJS). */
interface OpenApiTypescript {
  default: (document: object, options: { alphabetize: boolean }) => Promise<unknown>;
  astToString: (ast: unknown) => string;
}

/** The OpenAPI document the node serves at /docs-json. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const node = await startTestApp({ store: 'embedded' });
  try {
    const answer = await node.app.inject({ method: 'GET', url: '/docs-json' });
    if (answer.statusCode !== 200) throw new Error(`/docs-json answered ${answer.statusCode}`);
    const document = answer.json<Record<string, unknown>>();
    // The version follows package.json (npm_package_version): not part of the API's shape.
    document.info = { ...(document.info as object), version: '0' };
    return document;
  } finally {
    await node.close();
  }
}

/** The text of console/src/api/schema.d.ts for the node's current API. */
export async function consoleSchema(): Promise<string> {
  const document = await openApiDocument();
  // openapi-typescript is ESM-only: loaded through require(esm) (Node ≥ 20.19), never by jest.
  const { default: openapiTS, astToString } =
    (await import('openapi-typescript')) as unknown as OpenApiTypescript;
  const ast = await openapiTS(document, { alphabetize: true });
  return HEADER + astToString(ast);
}

if (require.main === module) {
  consoleSchema()
    .then((text) => {
      if (process.argv.includes('--stdout')) process.stdout.write(text);
      else {
        writeFileSync(CONSOLE_SCHEMA_FILE, text);
        process.stdout.write(`wrote ${CONSOLE_SCHEMA_FILE}\n`);
      }
    })
    .catch((error: unknown) => {
      process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
      process.exit(1);
    });
}
