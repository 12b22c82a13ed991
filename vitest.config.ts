import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time: vitest's default is one fewer than the cores (one, on CI's 2), and most files wait on a
    // store, a registry or a browser more than they compute.
    maxWorkers: 2,
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
