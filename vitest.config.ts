import { defineConfig } from 'vitest/config';

// Tiers are chosen by file name (see ARCHITECTURE.md "Tests"); build/test.mjs picks one tier per run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
