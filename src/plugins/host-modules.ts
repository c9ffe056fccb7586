import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join, sep } from 'node:path';

/**
 * Modules the host shares with plugins. A plugin outside this repository (a folder in
 * FOREST_PLUGIN_PATHS, an npm package) imports them but must get the host's own copy: Nest
 * keeps decorator metadata and DI tokens per class, so a second copy of @nestjs/common or
 * of the plugin API would make its providers invisible to the host.
 */
const SHARED = ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'];

/** The plugin API's entry in this build (libs/plugin-api/src, compiled or not). */
const PLUGIN_API_DIR = join(__dirname, '..', '..', 'libs', 'plugin-api', 'src');
/** Everything under here is the host; its own imports are left alone. */
const HOST_ROOT = join(__dirname, '..', '..') + sep;

interface ModuleInternals {
  _resolveFilename: (this: unknown, request: string, parent: unknown, ...rest: unknown[]) => string;
  _extensions: Record<string, (module: unknown, filename: string) => void>;
}
const internals = Module as unknown as ModuleInternals;

let sharing = false;

/** Routes plugins' imports of the shared modules and of `@forest/plugin-api` to the host. */
export function shareHostModules(): void {
  if (sharing) return;
  sharing = true;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]) {
    const from = (parent as { filename?: string } | undefined)?.filename;
    if (from && !from.startsWith(HOST_ROOT)) {
      if (request === '@forest/plugin-api' || request.startsWith('@forest/plugin-api/')) {
        request = join(PLUGIN_API_DIR, request.slice('@forest/plugin-api'.length));
      } else if (SHARED.some((name) => request === name || request.startsWith(`${name}/`))) {
        // Resolve as if this host file imported it.
        return resolve.call(this, request, module, ...rest);
      }
    }
    return resolve.call(this, request, parent, ...rest);
  };
}

/**
 * Lets a plugin folder hold TypeScript sources (index.ts), compiled on load with the
 * `typescript` package when it is installed (as in a development checkout). Production
 * plugins should ship JavaScript (package.json `main`). Returns false when `.ts` cannot be
 * loaded here.
 */
export function enableTypeScriptPlugins(): boolean {
  if (internals._extensions['.ts']) return true; // a loader is in place (ts-node, tests)
  let ts: typeof import('typescript');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, found at run time
    ts = require(require.resolve('typescript', { paths: [process.cwd(), HOST_ROOT] })) as typeof ts;
  } catch {
    return false;
  }
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    inlineSourceMap: true,
  };
  internals._extensions['.ts'] = (mod, filename) => {
    const source = readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
    (mod as { _compile(code: string, file: string): void })._compile(outputText, filename);
  };
  return true;
}
