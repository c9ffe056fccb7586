import { defineConfig } from 'vite';

// The web console: built by `npm run build` (build:console) into dist/console, which every
// node serves at `/` (src/http/console-static.ts). `npm run console:dev` serves it with hot
// reload on :5173 and forwards the API to a node on :2856.
const node = process.env.FOREST_CONSOLE_NODE ?? 'http://127.0.0.1:2856';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // No inline scripts or data: URLs for scripts: the node's CSP allows script-src 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      // react-router's "use client" directives mean nothing in a plain SPA bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(
      ['/api', '/health', '/metrics', '/docs'].map((path) => [
        path,
        { target: node, changeOrigin: true },
      ]),
    ),
  },
});
