// Jest projects: `unit` (pure logic, no processes), `store` (the store contract suite and
// crash/restart tests, which start real etcd and child processes), `history` (the
// execution-history contract suite on both adapters, against a real PostgreSQL), `e2e` (the
// HTTP app through Fastify inject), `cluster` (several node processes on a real etcd,
// killed and paused), `browser` (the web console in Debian's Chromium against a real node and
// the example worker). `npm test` runs all of them.
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }] };
const moduleNameMapper = { '^@forest/([^/]+)(|/.*)$': '<rootDir>/libs/$1/src$2' };
const base = { rootDir: __dirname, moduleFileExtensions: ['js', 'json', 'ts'], testEnvironment: 'node', transform, moduleNameMapper };

module.exports = {
  // On 2 cores Jest runs every file inside its main process (in band); the modules each file
  // loads afresh pile up there until V8 aborts (CI died that way after 15 minutes). A memory
  // limit makes Jest run files in a worker it replaces once the worker has grown past it.
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...base, displayName: 'unit', roots: ['<rootDir>/src/', '<rootDir>/libs/', '<rootDir>/plugins/', '<rootDir>/examples/'], testRegex: '.*\\.spec\\.ts$' },
    { ...base, displayName: 'store', roots: ['<rootDir>/test/store/'], testRegex: '.*\\.store-spec\\.ts$', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-60s.js'] },
    { ...base, displayName: 'cluster', roots: ['<rootDir>/test/'], testRegex: '.*\\.cluster-spec\\.ts$', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-120s.js'] },
    { ...base, displayName: 'history', roots: ['<rootDir>/test/history/'], testRegex: '.*\\.history-spec\\.ts$', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-60s.js'] },
    { ...base, displayName: 'browser', roots: ['<rootDir>/test/console/'], testRegex: '.*\\.browser-spec\\.ts$', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-120s.js'] },
    { ...base, displayName: 'e2e', roots: ['<rootDir>/test/'], testRegex: '.*\\.e2e-spec\\.ts$', setupFilesAfterEnv: ['<rootDir>/test/support/timeout-30s.js'] },
  ],
};
