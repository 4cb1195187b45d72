import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time on the 2-core CI machine (vitest's default there is one): most
    // slow files wait on real peers (Dagster, the metadata CLI, a browser), not on the CPU.
    maxWorkers: 2,
  },
});
