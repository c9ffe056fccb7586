// Per-project default test timeout (jest's testTimeout is global-only, not per project).
jest.setTimeout(30_000);
