/*
 * Lets test child processes run TypeScript sources directly: `node -r ./test/support/ts-register.js x.ts`.
 * It transpiles each .ts file on load with TypeScript's transpileModule (no type check: jest and
 * `npm run typecheck` do that) and maps the `@forest/<lib>` aliases to libs/<lib>/src, so a
 * child runs exactly the code under test without a build step.
 */
const fs = require('fs');
const path = require('path');
const Module = require('module');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
  inlineSourceMap: true,
};

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const alias = /^@forest\/([^/]+)(\/.*)?$/.exec(request);
  if (alias) {
    request = path.join(root, 'libs', alias[1], 'src', alias[2] ?? '');
  }
  return originalResolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
